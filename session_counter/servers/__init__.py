"""Real servers: the server models, serve.py that runs one, and the harness that starts it.

The names live here, in the package, so that importing them does not import serve.py,
which the harness runs as ``python -m session_counter.servers.serve``.
"""

SERVER_MODELS = ("dev-single", "dev", "dev-processes", "gunicorn", "gthread", "gevent",
                 "waitress")
