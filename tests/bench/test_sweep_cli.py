"""python -m session_counter.bench.sweep answers --help and refuses unknown options."""

import pytest

from session_counter.bench import sweep


def test_help_prints_usage_and_measures_nothing(capsys, monkeypatch):
    monkeypatch.setattr(sweep, "measure", lambda *a: pytest.fail("--help measured"))
    with pytest.raises(SystemExit) as stopped:
        sweep.main(["--help"])
    assert stopped.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m session_counter.bench.sweep")
    assert "What one session sweep costs" in out


def test_an_unknown_option_is_refused_before_measuring(capsys, monkeypatch):
    monkeypatch.setattr(sweep, "measure", lambda *a: pytest.fail("a typo measured"))
    with pytest.raises(SystemExit) as stopped:
        sweep.main(["--rounds", "3"])
    assert stopped.value.code == 2
    assert "unrecognized arguments: --rounds 3" in capsys.readouterr().err
