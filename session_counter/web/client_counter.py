"""The per-client counter (kept in this client's server-side session) and the page."""

import logging
import os
import threading
import time

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from ..errors import StoreUnavailable, preferred_format
from ..sessions import ABOUT, session_lock
from ..sessions.base import uses_session
from ..strategies import get_strategies
from ..strategies.trace import answer_fields, mark_read, mark_wrote, recording_if_asked
from .click_receipt import PARAM, read_receipt

log = logging.getLogger(__name__)
bp = Blueprint("counter", __name__)

# What each route does to this client's counter, and the sentence its GET page shows.
ACTIONS = {
    "inc": (lambda n: n + 1, "adds one to your counter"),
    "dec": (lambda n: n - 1, "takes one from your counter"),
    "reset": (lambda n: 0, "sets your counter back to 0"),
}


def read_counter():
    """Return this client's counter; a value that is not an integer counts as 0."""
    value = session.get("counter", 0)
    if type(value) is not int:  # bool is an int subclass, and not a counter either
        log.warning("%s held a non-integer counter %r; using 0",
                    current_app.session_interface.log_name(getattr(session, "sid", None)),
                    value)
        return 0
    return value


def served_by():
    """Return which process and thread served this request."""
    return {"pid": os.getpid(), "thread": threading.current_thread().name}


def session_store():
    """Return the store serving this client's session, what it keeps, and its race lesson."""
    name = current_app.config["SESSION_STORE"]
    keeps, race = ABOUT[name]
    return {"name": name, "keeps": keeps, "race": race}


@bp.before_app_request
def note_request_start():
    """Put something on g: it lives for this request only, which the page explains."""
    g.request_started = time.perf_counter()


@bp.route("/")
@uses_session
def index():
    """The page: this client's counter, every shared counter, and who served it."""
    shared = []
    for strategy in get_strategies(current_app).values():
        try:
            value, problem = strategy.current(), None
        except StoreUnavailable as error:
            value, problem = None, str(error)
        except Exception as error:  # one broken strategy must not break the page
            log.exception("reading the %s counter failed", strategy.name)
            value, problem = None, f"reading it failed ({type(error).__name__}); logged"
        shared.append({**strategy.describe(), "value": value, "problem": problem})
    return render_template("index.html", counter=read_counter(), shared=shared,
                           served_by=served_by(), click=read_receipt(request.args.get(PARAM)),
                           session_store=session_store(),
                           g_elapsed_ms=(time.perf_counter() - g.request_started) * 1000)


@bp.route("/<any(inc, dec, reset):action>", methods=["GET", "POST"])
@uses_session
def change(action):
    """POST changes this client's counter; GET only explains the route."""
    change_counter, meaning = ACTIONS[action]
    if request.method != "POST":  # GET and HEAD only explain the route
        return render_template("route_info.html", path=request.path, meaning=meaning,
                               label=action, action=request.path)
    # A trace's read is the session's value, its write the new value put in the session
    # (saved to the store when the response is finished).
    with recording_if_asked(request.headers) as trace:
        value = change_counter(mark_read(read_counter()))
        session["counter"] = mark_wrote(value)
    fmt = preferred_format()
    if fmt == "html":
        flash(f"counter is {value}")
        return redirect(url_for(".index"))
    if fmt == "json":
        return jsonify(counter=value, **served_by(), **answer_fields(trace))
    return f"counter is {value}\n", {"Content-Type": "text/plain; charset=utf-8"}


@bp.route("/healthz")
def healthz():
    """Tell a load balancer (and the test harness) this process is up; no session."""
    return jsonify(status="ok", session_store=current_app.config["SESSION_STORE"],
                   session_lock=session_lock(current_app), **served_by())
