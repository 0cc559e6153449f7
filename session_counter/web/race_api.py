"""POST /api/race/analyse: the browser panel's raw answers, judged by the lab's own code.

The page fires the requests; this route counts what came back with race.report.analyse
and race.reading's reading of the final value, exactly as the terminal lab does.
"""

import json
import math
import os

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import BadRequest

from ..race.glossary import GLOSSARY, defined, terms_in
from ..race.judged import is_serial, read_against_server
from ..race.model import Answer
from ..race.reading import final_from_reads, stale_note, state_scope
from ..race.report import analyse
from ..race.story import duplicate_stories
from ..strategies import get_strategies
from ..strategies.trace import FIELDS
from .banner import SERVED_AS, server_model

bp = Blueprint("race", __name__)

MAX_ANSWERS = 500  # the panel's largest N


@bp.app_context_processor
def race_limits():
    """Give the page the panel's largest N (the form and the API agree) and the glossary."""
    return {"race_max_clients": MAX_ANSWERS, "race_glossary": GLOSSARY}
MAX_STORIES = 50  # duplicated numbers the timeline can open a story of
MAX_READS = 100  # resets and reads the page sends along
MAX_BODY = 256 * 1024
MAX_VALUE = 2**63 - 1  # the range of a 64-bit counter (SQLite INTEGER, Redis INCR)
PAGE = "page"  # the browser races the one server that served the page


def fail(message):
    """Stop with 400 and a message saying what was wrong."""
    raise BadRequest(message)


def is_int(value, bound=None):
    """Tell whether ``value`` is a JSON integer (not a bool), within ±bound if given."""
    return type(value) is int and (bound is None or -bound <= value <= bound)


def parse_answers(raw, what, limit):
    """Return Answers from a list of {status, value, pid, thread[, retries]}, or fail naming one."""
    if not isinstance(raw, list):
        fail(f"{what} must be a list of objects {{status, value, pid, thread}}")
    if len(raw) > limit:
        fail(f"{what} may hold at most {limit} items, got {len(raw)}")
    answers = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            fail(f"{what}[{i}] must be an object")
        status, value, pid, thread = (item.get(k) for k in ("status", "value", "pid", "thread"))
        if not (is_int(status) and 0 <= status <= 599):
            fail(f"{what}[{i}].status must be an HTTP status, or 0 for no answer")
        if value is not None and not is_int(value, MAX_VALUE):
            fail(f"{what}[{i}].value must be null or an integer within ±{MAX_VALUE}")
        if pid is not None and not (is_int(pid) and 0 < pid < 2**32):
            fail(f"{what}[{i}].pid must be null or a process id")
        if thread is not None and not (isinstance(thread, str) and len(thread) <= 200):
            fail(f"{what}[{i}].thread must be null or a thread name")
        retries = item.get("retries")
        if retries is not None and not (is_int(retries) and 0 <= retries <= MAX_VALUE):
            fail(f"{what}[{i}].retries must be null or a count of retries")
        trace = parse_trace(item["trace"], f"{what}[{i}].trace") if "trace" in item else None
        answers.append(Answer(status, value, pid, thread, PAGE, None, 0.0, retries, trace))
    return answers


def parse_trace(raw, what):
    """Return a trace {read_at, read_value, wrote_at, wrote_value, answered_at, pid, thread}."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        fail(f"{what} must be null or an object {{{', '.join(FIELDS)}}}")
    trace = {}
    for key in FIELDS:
        got = raw.get(key)
        if key.endswith("_at"):
            ok = got is None or (isinstance(got, (int, float)) and not isinstance(got, bool)
                                 and math.isfinite(got) and 0 <= got < 1e12)
        elif key == "thread":
            ok = got is None or (isinstance(got, str) and len(got) <= 200)
        else:
            ok = got is None or is_int(got, MAX_VALUE)
        if not ok:
            fail(f"{what}.{key} must be null or a "
                 f"{'time.monotonic() time' if key.endswith('_at') else 'valid ' + key}")
        trace[key] = got
    return trace


def read_body():
    """Return the request's JSON object, or fail with 400 (413 past MAX_BODY)."""
    request.max_content_length = MAX_BODY
    try:
        data = json.loads(request.get_data(cache=False))
    except (ValueError, RecursionError):
        fail("the body must be a JSON object: {strategy, answers, final_value, wall_time}")
    if not isinstance(data, dict):
        fail("the body must be a JSON object: {strategy, answers, final_value, wall_time}")
    return data


@bp.route("/api/race/analyse", methods=["POST"])
def analyse_race():
    """Count duplicates, gaps and lost updates of one strategy's race from the page."""
    data = read_body()
    strategies = get_strategies(current_app)
    name = data.get("strategy")
    if not isinstance(name, str) or name not in strategies:
        fail(f"strategy must be one of {', '.join(strategies)}")
    answers = parse_answers(data.get("answers"), "answers", MAX_ANSWERS)
    if not answers:
        fail("answers must hold at least one answer")
    wall_time = data.get("wall_time", 0)
    if isinstance(wall_time, bool) or not isinstance(wall_time, (int, float)) or \
            not math.isfinite(wall_time) or not 0 <= wall_time <= 3600:
        fail("wall_time must be a number of seconds between 0 and 3600")
    scope = state_scope(strategies[name].describe())
    counted = {(PAGE, a.pid) for a in answers if a.status == 200 and a.pid is not None}
    notes, stale = [], None
    if "reads" in data:
        final, note = final_from_reads(scope, counted,
                                       parse_answers(data["reads"], "reads", MAX_READS))
        notes += [note] if note else []
    else:
        final = data.get("final_value")
        if final is not None and not is_int(final, MAX_VALUE):
            fail(f"final_value must be null or an integer within ±{MAX_VALUE}")
    if "reset_pids" in data:
        pids = data["reset_pids"]
        if not (isinstance(pids, list) and len(pids) <= MAX_READS
                and all(is_int(p) for p in pids)):
            fail(f"reset_pids must be a list of at most {MAX_READS} process ids")
        stale = stale_note(scope, counted, {(PAGE, pid) for pid in pids})
        notes += [stale] if stale else []
    strategy = strategies[name]
    result = analyse(name, answers, final_value=final, wall_time=float(wall_time),
                     window=strategy.race_window).to_dict()
    served = server_model(request.environ, os.environ.get(SERVED_AS))
    serial = is_serial(served["model"], served["processes"], served["threads"])
    reading = read_against_server(sorted(strategy.safe_against), result["exact"],
                                  len(result["pids"]), serial, strategy.race_window)
    if stale:
        result["verdict"] = "inconclusive: " + result["verdict"]
    if result.get("trace"):  # the timeline's stories: one per duplicated number, bounded
        result["duplicate_stories"] = duplicate_stories(
            result["trace"], result["duplicated_values"][:MAX_STORIES])
    # the glossary's words of the verdict and the reading (not its reason: 'gap' there is
    # the code's gap), defined where they appear
    terms = defined(terms_in(result["verdict"], reading and reading["reading"]))
    return jsonify({**result, "scope": scope, "notes": notes, "inconclusive": bool(stale),
                    "reading": reading, "server": served, "terms": terms})
