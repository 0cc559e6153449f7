"""The names of the server models serve.py can run (see its docstring for each).

Kept apart from serve.py so that importing the names does not import serve.py, which
the harness runs as ``python -m session_counter.serve``.
"""

SERVER_MODELS = ("dev-single", "dev", "dev-processes", "gunicorn", "gthread", "gevent",
                 "waitress")
