"""run.py says what it really starts: the server model, its processes and threads."""

import pytest

from session_counter.servers import serve


@pytest.mark.parametrize("args, says", [
    ([], "dev (a thread per request)"),
    (["--server", "dev-single"], "dev-single (one thread)"),
    (["--workers", "4"], "gunicorn (4 sync worker processes)"),
    (["--workers", "2", "--threads", "3"], "gthread (2 processes x 3 threads)"),
    (["--server", "waitress", "--threads", "8"], "waitress (one process, 8 threads)"),
    (["--server", "gevent"], "gevent (1 gevent worker process, a greenlet per request)"),
])
def test_run_py_prints_the_model_it_starts(monkeypatch, capsys, tmp_path, args, says):
    monkeypatch.setenv("SESSION_COUNTER_INSTANCE_PATH", str(tmp_path))
    started = []
    monkeypatch.setattr(serve, "serve", lambda *a: started.append(a))
    assert serve.main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"session-counter on {says}: open http://127.0.0.1:5000/"), out
    assert started[0][0] == says.split()[0]
