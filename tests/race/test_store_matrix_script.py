"""scripts/store_matrix.py answers --help and bad options itself, starting no store."""

import importlib.util
import os

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "store_matrix.py")


@pytest.fixture
def script(monkeypatch):
    """The script as a module, with every store start turned into a test failure."""
    spec = importlib.util.spec_from_file_location("store_matrix_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for start in ("running_redis", "running_memcached", "running_postgres"):
        monkeypatch.setattr(module, start, lambda *a, _s=start, **k: pytest.fail(f"{_s} ran"))
    return module


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_is_the_scripts_own_and_starts_nothing(script, capsys, flag):
    assert script.main([flag]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Print the store-by-technique matrix")
    assert "scripts/store_matrix.py [race lab options]" in out
    assert "Race lab options:" in out and "--clients" in out
    assert "flask race" not in out


@pytest.mark.parametrize("options, error", [
    (["--bogus"], "No such option '--bogus'"),
    (["--workers", "99"], "Invalid value for '--workers'"),
])
def test_a_bad_option_is_refused_before_any_store_starts(script, capsys, options, error):
    assert script.main(options) == 2
    err = capsys.readouterr().err
    assert err.startswith("Usage: scripts/store_matrix.py [OPTIONS]") and error in err
