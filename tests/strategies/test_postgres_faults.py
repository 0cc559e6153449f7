"""PostgreSQL killed mid-run under the strategies safe across machines: no number twice.

Rounds of simultaneous increments run against gunicorn (2 processes, 1 ms between read
and write, so the row lock of postgres_for_update is really contended) while PostgreSQL
is SIGKILLed (a crash: it recovers from its write-ahead log) and started again.
"""

import signal

import pytest
import requests

from session_counter.servers.harness import running_server

from ..postgres_server import running_postgres
from ..store_faults import JSON, IncrementRun, assert_each_number_once, handed_out

pytestmark = [pytest.mark.server, pytest.mark.slow, pytest.mark.postgres]

CLIENTS = 10
# PostgreSQL writes a sequence's state to its log 32 numbers ahead: after a crash the
# sequence goes on from there, so up to 32 numbers are skipped (never handed out twice).
SEQUENCE_LOGGED_AHEAD = 32


def statuses(answers):
    """Return the set of HTTP statuses of ``answers``."""
    return {a.status for a in answers}


def kill_and_restart(run, server):
    """Kill PostgreSQL mid-run, let rounds fail, start it again; tag rounds by what they saw.

    The round in flight at each event is tagged with the phase before it, hence the buffer
    phases: every "down" round began after the kill and ended before the start; every
    "back" round began after the start.
    """
    run.phase("killing", after_rounds=3)
    server.stop(signal.SIGKILL)
    run.phase("down", after_rounds=1)
    run.phase("down:end", after_rounds=2)
    run.phase("starting", after_rounds=1)
    server.start()
    run.phase("back", after_rounds=1)
    run.phase("done", after_rounds=2)


@pytest.mark.parametrize("name", ["postgres_for_update", "postgres", "postgres_sequence"])
def test_postgres_killed_mid_run_hands_out_no_number_twice(tmp_path, name):
    """Before, while down (503s, never 500) and after PostgreSQL is back: each number once."""
    with running_postgres() as postgres, running_server("gunicorn", workers=2, config={
            "POSTGRES_URL": postgres.url, "RACE_WINDOW": 0.001}) as server:
        requests.post(f"{server.url}/shared/{name}/reset", timeout=30).raise_for_status()
        with IncrementRun(server.url, name, clients=CLIENTS) as run:
            kill_and_restart(run, postgres)
        answer = requests.get(f"{server.url}/shared/{name}", headers=JSON, timeout=30)
        stored = answer.json()["value"]

    assert statuses(a for _, answers in run.rounds[:3] for a in answers) == {200}  # pre-kill
    assert statuses(run.answers("down")) == {503}
    assert statuses(run.answers()) <= {200, 503}  # never a 500, never a dropped connection
    assert statuses(run.answers("back", "done")) == {200}  # no stale connection reused
    failed = [a for a in run.answers() if a.status != 200]
    skipped = SEQUENCE_LOGGED_AHEAD if name == "postgres_sequence" else 0
    assert_each_number_once(run.answers(), stored, lost_in_flight=len(failed) + skipped)
    # the count survived the crash: nothing after the restart repeats what came before
    assert min(handed_out(run.answers("back"))) > max(handed_out(run.answers("before")))
