"""A verdict read against the server it ran on: exact on this server is not safe on every server.

A strategy whose label does not cover the server it raced on can still come out
exact: one request at a time cannot interleave, and in one process the GIL rarely
switches threads inside a gap of a few bytecodes. The reading says so, why, and
the command that makes the race show. Pure; the page's API and the terminal share it.
"""

from ..strategies.base import PROCESSES, THREADS

EXACT_NOT_SAFE = "exact this time, not safe"
# The commands that widen the gap or add processes, as typed where the race ran.
COMMANDS = {
    "page": {"window": "SESSION_COUNTER_RACE_WINDOW=0.001 python run.py --workers 4",
             "workers": "python run.py --workers 4"},
    "terminal": {"window": "flask --app session_counter race --window 0.001",
                 "workers": "flask --app session_counter race --server gunicorn --workers 4"},
}


def read_against_server(safe_against, exact, processes, serial, window, where="page"):
    """Return None, or {reading, reason, command} when an exact race proves nothing.

    ``processes`` is how many processes answered; ``serial`` says the server answers
    one request at a time (dev-single, or one sync gunicorn worker); ``window`` is
    the race window in seconds; ``where`` picks the commands ("page" or "terminal").
    """
    if not exact:
        return None
    needed = PROCESSES if processes > 1 else THREADS
    if needed in safe_against:
        return None
    label = ", ".join(safe_against) if safe_against else "nothing"
    commands = COMMANDS[where]
    if processes > 1:
        reason = (f"{processes} processes answered and it is safe against {label} only: "
                  "no two requests happened to meet inside its gap this time; widen the "
                  "window")
        command = commands["window"]
    elif serial:
        reason = ("this server answers one request at a time, so nothing could interleave; "
                  "start more workers")
        command = commands["workers"]
    else:
        reason = ("one process: the GIL rarely switches threads inside the gap"
                  + (f" (window {window:g} s)" if window else "")
                  + "; widen the window or start more workers")
        command = commands["window"] if not window else commands["workers"]
    return {"reading": EXACT_NOT_SAFE, "reason": reason, "command": command,
            "text": f"{EXACT_NOT_SAFE}: {reason}: {command}"}


def is_serial(model, workers, threads):
    """Tell whether a server model answers one request at a time."""
    return model == "dev-single" or (model == "gunicorn" and workers == 1) or \
        (model == "waitress" and threads == 1)


def lab_reading(safe_against, result, settings):
    """Return [the reading's text] of one terminal round (a RaceResult), or []."""
    serial = not settings.url and is_serial(settings.server, settings.workers, settings.threads)
    reading = read_against_server(safe_against, result.exact, len(result.pids), serial,
                                  settings.window or 0.0, where="terminal")
    return [reading["text"]] if reading else []
