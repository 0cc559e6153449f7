"""The race lab: start real servers, reset, fire N simultaneous clients, read back, analyse.

Pure of click: ``cli.py`` prints what ``run_lab()`` returns. The verdict comes from
``report.analyse`` and the final value from ``reading``, which the browser
panel's API uses too: the terminal and the page are judged by the same code.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

from ..strategies import STRATEGY_CLASSES
from ..strategies.namespaces import RACE_HEADER, is_race_id
from ..strategies.trace import TRACE_HEADER
from .judged import lab_reading
from .reading import final_from_reads, stale_note, state_scope
from .report import LabReport, StrategyRun, analyse
from .servers import (
    LONG_LIVED_WORKERS,
    REQUEST_TIMEOUT,
    LabError,
    Servers,
    request_json,
)
from .simultaneous import fire_simultaneously, loopback_target, parse_traced_answer

__all__ = ["LabError", "LabSettings", "request_json", "run_lab"]

MULTI_WORKER_DEFAULT = ("gunicorn", "gthread", "dev-processes")
BURST = 32  # simultaneous resets/reads per instance, so that every worker process gets some
READ_TRIES = 5


@dataclass
class LabSettings:
    """What to race, against what; None means the model's default."""

    clients: int = 100
    rounds: int = 1
    strategies: tuple = ()
    server: str = "gunicorn"
    workers: int | None = None
    threads: int | None = None
    url: str | None = None
    window: float | None = None
    same_session: bool = False
    instances: int = 1
    redis_url: str | None = None
    memcached_url: str | None = None
    postgres_url: str | None = None
    window_at: str = ""  # RACE_WINDOW_AT: "" (each strategy's own gap), read-write, write-return
    trace: bool = False  # ask every increment for its trace (X-Race-Trace: 1)
    port_range: tuple | None = None  # (first, last): every server the lab starts listens there
    session_stores: tuple = ()  # --same-session: the stores to race (default: all it can)
    one_at_a_time: bool = False  # --same-session: requests one after another
    session_lock: str = "both"  # --same-session: race lockable stores with it on, off, both

    def __post_init__(self):
        """Fill the model defaults: 4 workers where a model has several, 4 threads if threaded."""
        if self.workers is None:
            self.workers = 4 if self.server in MULTI_WORKER_DEFAULT else 1
        if self.threads is None:
            self.threads = 4 if self.server in ("gthread", "waitress") else 1

    def reach(self):
        """Return how many simultaneous requests per instance reach each of its processes."""
        several = self.url or (self.server in LONG_LIVED_WORKERS and self.workers > 1)
        return BURST if several else 1

    def server_config(self, **config):
        """Return the app config of the servers the lab starts: the window and the stores."""
        config.setdefault("RACE_WINDOW", self.window or 0.0)
        config.setdefault("RACE_WINDOW_AT", self.window_at or "")
        stores = {"REDIS_URL": self.redis_url, "MEMCACHED_URL": self.memcached_url,
                  "POSTGRES_URL": self.postgres_url}
        return {**config, **{key: url for key, url in stores.items() if url}}

    def describe(self):
        """Return the settings as reported (JSON-ready)."""
        if self.url:
            return {"url": self.url, "clients": self.clients, "rounds": self.rounds,
                    "window": None}
        return {"server": self.server, "workers": self.workers, "threads": self.threads,
                "instances": self.instances, "window": self.window or 0.0,
                "window_at": self.window_at or "", "trace": self.trace,
                "redis": bool(self.redis_url), "memcached": bool(self.memcached_url),
                "postgres": bool(self.postgres_url), "one_at_a_time": self.one_at_a_time,
                "clients": self.clients,
                "rounds": self.rounds}


def wall_time(answers):
    """Return seconds from the release to the last answer."""
    return max((a.elapsed for a in answers), default=0.0)


def list_strategies(url):
    """Return {name: safe_against} of the strategies a server offers."""
    status, data, _ = request_json("GET", url + "/api/strategies")
    if status != 200 or not isinstance(data, list):
        raise LabError(f"{url}/api/strategies answered {status}: is this session-counter?")
    return {item["name"]: item for item in data}


def why_unavailable(name):
    """Say why a known strategy is not offered by the server (the strategy says what it needs)."""
    requires = {cls.name: cls.requires for cls in STRATEGY_CLASSES}.get(name)
    return f"needs {requires}" if requires else "this server does not offer it"


def run_for(name, description):
    """Return an empty StrategyRun of one strategy, placed as its /api/strategies entry says."""
    return StrategyRun(name, state_scope(description), store=description.get("store"),
                       technique=description.get("technique"),
                       safe_against=description.get("safe_against", []))


def start_race(url):
    """Start a race on the server: counters of its own, at 0 in every process.

    Returns its id, or None from a server without race ids (an older version: the lab
    then counts in the table's counters, as it always did).
    """
    status, data, _ = request_json("POST", url + "/api/race/start")
    if status == 201 and isinstance(data, dict) and is_race_id(data.get("race")):
        return data["race"]
    if status == 404:
        return None
    message = data.get("message") if isinstance(data, dict) else None
    raise LabError(f"{url}/api/race/start answered {status}: {message or 'no race id'}")


def finish_race(url, race):
    """End a race: the server drops its counters (and would after RACE_LIFETIME anyway)."""
    if race is not None:
        with contextlib.suppress(LabError):  # a server gone mid-round: its own error says so
            request_json("POST", f"{url}/api/race/{race}/finish")


def fire_round(urls, name, scope, clients, fresh, reach, trace=False, race=None):
    """Reset, fire, read back one strategy once; return (answers, final, notes, stale).

    With ``race`` (one server), every request counts in that race's own counters.
    """
    burst = len(urls) * (reach if scope == "process" else 1)
    ours = {RACE_HEADER: race} if race else {}
    resets = fire_simultaneously(urls, f"/shared/{name}/reset", burst, headers=ours)
    refused = [a for a in resets if a.status != 200]
    if refused:
        raise LabError(f"resetting {name} failed: {refused[0].status} {refused[0].error or ''}")
    answers = fire_simultaneously(urls, f"/shared/{name}/inc", clients,
                                  timeout=REQUEST_TIMEOUT,
                                  headers={**ours, **({TRACE_HEADER: "1"} if trace else {})},
                                  parse=parse_traced_answer)
    counted = {(a.instance, a.pid) for a in answers if a.status == 200 and a.pid is not None}
    reads = []
    for _ in range(READ_TRIES):  # a busy worker may miss one burst of reads
        reads += fire_simultaneously(urls, f"/shared/{name}", burst, method="GET",
                                     headers=ours)
        if scope != "process" or counted <= {(a.instance, a.pid) for a in reads}:
            break
    final, final_note = final_from_reads(scope, counted, reads)
    notes = [final_note] if final_note else []
    stale = None if fresh else stale_note(scope, counted, {(a.instance, a.pid) for a in resets})
    if stale:
        notes.append(stale)
    return answers, final, notes, bool(stale)


def run_shared(settings, report, on_step):
    """Race every chosen shared strategy for settings.rounds rounds."""
    servers = Servers(settings, settings.server_config())
    try:
        urls = servers.urls()
        offered = list_strategies(urls[0])
        requested = list(settings.strategies) or [cls.name for cls in STRATEGY_CLASSES]
        chosen = [name for name in requested if name in offered]
        report.skipped = [{"strategy": name, "reason": why_unavailable(name)}
                          for name in requested if name not in offered]
        runs = {name: run_for(name, offered[name]) for name in chosen}
        report.runs = list(runs.values())
        # A reset reaches one worker process: a round's race of its own starts every copy
        # at 0; without one (several instances), only a fresh server zeroes every copy.
        restart = (not settings.url and len(urls) > 1
                   and settings.server in LONG_LIVED_WORKERS and settings.workers > 1
                   and any(run.scope == "process" for run in runs.values()))
        if restart and settings.rounds > 1:
            report.notes.append("a fresh server for every round: a reset reaches only one "
                                "worker process's copy of a per-process counter")
        elif len(urls) == 1 and settings.rounds > 1:
            report.notes.append("a race of its own for every round: every counter, every "
                                "worker process's copy too, starts at 0")
        steps, done = settings.rounds * len(chosen), 0
        for round_no in range(1, settings.rounds + 1):
            if restart and round_no > 1:
                on_step(f"round {round_no}/{settings.rounds}: starting a fresh server", done,
                        steps)
                servers.start()
                urls = servers.urls()
            # One server: the round counts in a race of its own, so a shared server's table
            # and its other races stay as they were (several instances: each would issue
            # its own id, so they count in the table of the servers the lab started).
            race = start_race(urls[0]) if len(urls) == 1 else None
            try:
                for run in runs.values():
                    on_step(f"round {round_no}/{settings.rounds}: {run.strategy}", done, steps)
                    answers, final, notes, stale = fire_round(
                        urls, run.strategy, run.scope, settings.clients,
                        fresh=race is not None or not settings.url, reach=settings.reach(),
                        trace=settings.trace, race=race)
                    run.results.append(result := analyse(
                        run.strategy, answers, final_value=final,
                        wall_time=wall_time(answers), window=settings.window or 0.0))
                    notes += [] if stale else lab_reading(run.safe_against, result, settings)
                    for text in notes:
                        run.note(text)
                    run.inconclusive |= stale
                    done += 1
            finally:
                finish_race(urls[0], race)
        on_step("done", done, steps)
    finally:
        servers.stop()
        report.servers += servers.started


def run_lab(settings, on_step=lambda description, done, total: None):
    """Run the lab as ``settings`` say; return a LabReport. Raises LabError if the lab failed."""
    if settings.url:
        loopback_target(settings.url)  # ValueError with a clear message if not loopback
    report = LabReport("shared", settings.describe())
    if settings.same_session:
        raise LabError("--same-session runs in race.session_stores.run_session_lab")
    run_shared(settings, report, on_step)
    return report
