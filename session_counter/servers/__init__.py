"""Real servers: the server models, serve.py that runs one, and the harness that starts it.

The names live here, in the package, so that importing them does not import serve.py,
which the harness runs as ``python -m session_counter.servers.serve``.
"""

SERVER_MODELS = ("dev-single", "dev", "dev-processes", "gunicorn", "gthread", "gevent",
                 "waitress")


def _n(count, what):
    return f"{count} {what}{'' if count == 1 else 'es' if what.endswith('s') else 's'}"


def describe_model(model, workers=1, threads=1):
    """Say how ``model`` really runs requests with these options (what serve.py starts)."""
    how = {"dev-single": "one thread",
           "dev": "a thread per request",
           "dev-processes": f"a forked process per request, up to {max(workers, 2)} at once",
           "gunicorn": _n(workers, "sync worker process"),
           "gthread": f"{_n(workers, 'process')} x {_n(threads, 'thread')}",
           "gevent": f"{_n(workers, 'gevent worker process')}, a greenlet per request",
           "waitress": f"one process, {_n(max(threads, 1), 'thread')}"}[model]
    return f"{model} ({how})"
