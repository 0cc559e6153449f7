"""memcached evicts sessions under memory pressure: scripts/memcached_eviction.py, measured.

A memcached with 1 MB holds about a thousand sessions; 3,000 more clients push the
first ones out. The store says how many are gone, memcached's evictions counter says
the same, and every client whose session went starts again at 1 in a new session
(200, no error), while a client that kept clicking keeps its counter (LRU).
"""

import importlib.util
import os

import pytest

from ..memcached_server import running_memcached

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "memcached_eviction.py")


def load_script():
    """Return scripts/memcached_eviction.py as a module."""
    spec = importlib.util.spec_from_file_location("memcached_eviction_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.memcached
@pytest.mark.slow
def test_a_full_memcached_evicts_the_idle_clients_sessions_and_they_start_again_at_1(tmp_path):
    script = load_script()
    with running_memcached(tmp_path / "memcached", memory=script.TINY) as memcached:
        found = script.measure(memcached, clients=3000, first=20)
    print("\n" + script.report(found))
    # every session missing from the store was evicted: nothing expired or was deleted
    assert found["sessions_gone"] == found["evictions"] > 0
    assert found["sessions_created"] == 3000 + 20 + 1
    # 2,000 sessions newer than the first clients' than memcached holds: all gone
    assert found["first_kept"] == 0
    firsts, active = found["after"][:-1], found["after"][-1]
    for after in firsts:  # a fresh session, no error: what a visitor sees after an eviction
        assert after == {"held": False, "status": 200, "counter": 1, "same_session": False}
    # rewritten every 50 new sessions, the active client's session stayed among the newest
    assert found["active_counts"] == list(range(1, 3000 // 50 + 2))
    assert active == {"held": True, "status": 200, "counter": 3000 // 50 + 2,
                      "same_session": True}


def test_the_script_answers_help_without_starting_memcached(capsys):
    with pytest.raises(SystemExit) as done:
        load_script().main(["--help"])
    assert done.value.code == 0
    assert "scripts/memcached_eviction.py" in capsys.readouterr().out
