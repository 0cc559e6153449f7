"""The page's banner: which server model serves it, processes x threads, window, session store.

servers/serve.py tells the app what it started in SERVE_PY_SERVED_AS
("model workers threads"); the WSGI environ's SERVER_SOFTWARE says which server
really answers. The banner believes the variable only when the two agree, and
says "unknown" (processes and threads unknown) when it cannot tell.
"""

import os

from flask import Blueprint, current_app, request

SERVED_AS = "SERVE_PY_SERVED_AS"  # not SESSION_COUNTER_*: those are settings
# The server family each model runs under, and the SERVER_SOFTWARE prefix it reports.
FAMILY = {"dev-single": "dev", "dev": "dev", "dev-processes": "dev", "gunicorn": "gunicorn",
          "gthread": "gunicorn", "gevent": "gunicorn", "waitress": "waitress"}
SOFTWARE = {"werkzeug": "dev", "gunicorn": "gunicorn", "waitress": "waitress"}
SESSION_STORES = {"filesystem": "files on this server's disk (one per client)",
                  "redis": "Redis (one key per client)",
                  "memcached": "memcached (one item per client; evicted when memory is full)",
                  "cookie": "your signed cookie (nothing on the server)",
                  "dict": "one worker process's memory (a dict)"}

bp = Blueprint("banner", __name__)


def software_family(environ):
    """Return "dev", "gunicorn" or "waitress" from SERVER_SOFTWARE, or None."""
    software = str(environ.get("SERVER_SOFTWARE", "")).split("/")[0].strip().lower()
    return SOFTWARE.get(software)


def told_by_serve(value):
    """Return (model, workers, threads) from SERVE_PY_SERVED_AS, or None if malformed."""
    parts = (value or "").split()
    if len(parts) != 3 or parts[0] not in FAMILY or not all(p.isdigit() for p in parts[1:]):
        return None
    return parts[0], int(parts[1]), int(parts[2])


def server_model(environ, served_as):
    """Return {model, processes, threads}: what serve.py said if the server agrees, else less."""
    family = software_family(environ)
    told = told_by_serve(served_as)
    if told and FAMILY[told[0]] == family:
        model, workers, threads = told
        processes = workers if model in ("gunicorn", "gthread", "gevent") else 1
        if model == "dev-processes":
            processes = None  # a forked process per request: as many as requests in flight
        if model in ("dev-single", "gunicorn"):
            threads = 1
        elif model in ("dev", "gevent"):
            threads = None  # a thread (greenlet) per request
        return {"model": model, "processes": processes, "threads": threads}
    return {"model": family or "unknown", "processes": None, "threads": None}


def describe_count(n, singular, plural):
    """Return '4 processes' / '1 thread' / 'processes: unknown or one per request'."""
    if n is None:
        return f"{plural}: unknown or one per request"
    return f"{n} {singular if n == 1 else plural}"


def banner():
    """Return what the banner shows for this request."""
    served = server_model(request.environ, os.environ.get(SERVED_AS))
    kind = current_app.config.get("SESSION_STORE", "unknown")
    return {**served, "window": float(current_app.config.get("RACE_WINDOW", 0.0)),
            "session_store": SESSION_STORES.get(kind, kind),
            "processes_text": describe_count(served["processes"], "process", "processes"),
            "threads_text": describe_count(served["threads"], "thread", "threads")}


@bp.app_context_processor
def banner_context():
    """Give every page the banner (only index.html shows it)."""
    return {"banner": banner}
