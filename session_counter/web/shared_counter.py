"""Routes of the shared counter: one set of routes, one strategy per URL segment."""

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from werkzeug.exceptions import NotFound

from ..errors import preferred_format
from ..strategies import SCOPES, STORES, TECHNIQUES, get_strategies
from ..strategies.trace import answer_fields, recording_if_asked
from .click_receipt import PARAM, make_receipt
from .client_counter import served_by
from .race_ids import race_namespace

bp = Blueprint("shared", __name__)


@bp.app_context_processor
def strategy_matrix():
    """Give the page what it needs to group strategies store (rows) by technique (columns)."""
    return {"techniques": TECHNIQUES, "matrix_of": matrix_of, "group_by_store": group_by_store,
            "widest_scope": widest_scope}


def matrix_of(described):
    """Return [(store label, [[strategies] per technique])] for the stores among ``described``."""
    rows = []
    for store, strategies in group_by_store(described):
        rows.append((store, [[s for s in strategies if s["technique"] == technique]
                             for technique in TECHNIQUES]))
    return rows


def group_by_store(described):
    """Return [(store label, [strategies of that store])] in the matrix's order of stores."""
    groups = {store: [] for store in STORES}
    for s in described:
        groups.setdefault(s["store"], []).append(s)
    return [(STORES.get(store, store), found) for store, found in groups.items() if found]


def widest_scope(description):
    """Return the widest scope a strategy is safe against ("nothing" if none)."""
    safe = [scope for scope in SCOPES if scope in description["safe_against"]]
    return safe[-1] if safe else "nothing"


def lookup(name):
    """Return the strategy called ``name``, or answer 404 listing the valid names."""
    strategies = get_strategies(current_app)
    if name not in strategies:
        error = NotFound(f"There is no strategy called {name!r}.")
        error.extra = {"valid": list(strategies)}
        raise error
    return strategies[name]


def answer(strategy, value, **extra):
    """Answer with the value: a redirect for the page's forms, else JSON or plain text.

    No flashed message for the page: it would have to be saved in the client's
    session, and a failed save would then turn a number already handed out into a
    503. The page's table shows the new value.
    """
    fmt = preferred_format()
    if fmt == "html" and request.method == "POST":
        receipt = make_receipt(strategy.name, value, served_by()) if request.path.endswith(
            "/inc") else None
        return redirect(url_for("counter.index", **{PARAM: receipt} if receipt else {})
                        + f"#row-{strategy.name}")
    if fmt == "json":
        return jsonify(strategy=strategy.name, value=value, **extra, **served_by())
    return f"{value}\n", {"Content-Type": "text/plain; charset=utf-8"}


@bp.route("/api/strategies")
def list_strategies():
    """List every strategy: what it is safe against, its store and technique, its retries."""
    return jsonify([s.describe() for s in get_strategies(current_app).values()])


@bp.route("/shared/<name>")
def read(name):
    """Read one shared counter (or a race's own, by X-Race-Id) without changing it."""
    strategy = lookup(name)
    return answer(strategy, strategy.current(race_namespace()))


@bp.route("/shared/<name>/<any(inc, reset):action>", methods=["GET", "POST"])
def change(name, action):
    """POST hands out the next number (inc) or resets; GET only explains the route."""
    strategy = lookup(name)
    if request.method != "POST":  # GET and HEAD only explain the route
        meaning = ("hands out the next shared number" if action == "inc"
                   else "sets the shared counter back to 0")
        return render_template("route_info.html", path=request.path,
                               meaning=f"{meaning} ({strategy.name})", label=action,
                               action=request.path)
    namespace = race_namespace()  # checked before any counter is touched
    if action == "inc":
        with recording_if_asked(request.headers) as trace:
            value = strategy.increment(namespace)
        extra = answer_fields(trace)
        if strategy.counts_retries():  # how many swaps this request lost before it won
            extra["retries"] = strategy.last_retries()
        return answer(strategy, value, **extra)
    strategy.reset(namespace)
    return answer(strategy, 0)
