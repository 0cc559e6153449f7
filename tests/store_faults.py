"""Fault-test machinery for shared-counter strategies: break a store while simultaneous
increments run, repair it, and check what was handed out.

Any strategy's fault test (existing or new) uses the same three pieces:

- ``IncrementRun``: rounds of N truly simultaneous ``POST /shared/<name>/inc`` (the
  repo's ``fire_simultaneously``) in a background thread, each round tagged with the
  phase it ran in ("before", "broken", "repaired", ...); ``phase()`` moves on while
  rounds keep running, so a fault lands in the middle of a run.
- ``server_processes`` / ``kill_9``: find a process of a real server (a worker, the
  manager) by its command line, and SIGKILL it, waiting until it is gone.
- ``break_and_repair(run, break_it, repair_it)``: the usual sequence (rounds before,
  break, rounds while broken, repair, rounds after), with buffer phases so that every
  "down" round began after the fault and ended before the repair.
- ``handed_out`` / ``assert_each_number_once``: the numbers of the 200 answers, and the
  exact-set check: no number twice, none above the stored value, and only as many
  numbers missing as there were answers lost in flight.
- ``statuses``, ``stored_value``, ``first_rounds``: small readers for the assertions.

Used by tests/strategies/test_store_faults.py (thread_lock, manager, sqlite, file_lock,
redis), test_kv_faults.py (redis_watch, memcached) and test_postgres_faults.py.
"""

import collections
import os
import signal
import threading
import time

import requests

from session_counter.procfs import is_gone
from session_counter.race.simultaneous import fire_simultaneously

JSON = {"Accept": "application/json"}


def wait_until(condition, timeout=60.0, every=0.02):
    """Poll ``condition`` until it returns something true; return that (bounded wait)."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"still not true after {timeout} s")
        time.sleep(every)
    return result


def server_processes(server, command_contains):
    """Return the live pids of ``server``'s process group whose command line contains
    ``command_contains`` (e.g. the manager program's module name)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or is_gone(int(entry)):
            continue
        try:
            if os.getpgid(int(entry)) != server.process.pid:
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, ProcessLookupError):
            continue
        if command_contains in command:
            pids.append(int(entry))
    return sorted(pids)


def kill_9(pid, timeout=10.0):
    """SIGKILL ``pid`` (a crash: no handler runs) and wait until it is gone."""
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: is_gone(pid), timeout)


def post_inc(url, name, session=requests):
    """POST /shared/<name>/inc once; return (status, value or None, message or None)."""
    answer = session.post(f"{url}/shared/{name}/inc", headers=JSON, timeout=30)
    body = answer.json()
    return answer.status_code, body.get("value"), body.get("message")


def statuses(answers):
    """Return the set of HTTP statuses of ``answers`` (0: no answer)."""
    return {a.status for a in answers}


def stored_value(url, name):
    """Read the stored value of a strategy (after the run)."""
    answer = requests.get(f"{url}/shared/{name}", headers=JSON, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["value"]


def first_rounds(run, count=3):
    """Return the answers of the first ``count`` rounds: all finished before any fault."""
    return [a for _, answers in run.rounds[:count] for a in answers]


def summary(run, stored):
    """Return one line of figures for a run (printed by the fault tests; see -s)."""
    answers = run.answers()
    counts = dict(sorted(collections.Counter(a.status for a in answers).items()))
    return (f"{len(run.rounds)} rounds x {run.clients}: {len(answers)} requests, "
            f"{len(handed_out(answers))} numbers handed out, statuses {counts}, "
            f"stored {stored}")


def break_and_repair(run, break_it, repair_it, after="after", while_down=lambda: None):
    """Break the store mid-run, let rounds fail, repair it; tag rounds by what they saw.

    A round is tagged with the phase it began in. Before the break and before the repair
    the round in flight is let finish (``drain``), and a buffer phase follows each event:
    every "before" round ended before the break; every "down" and "down:end" round began
    after the break and ended before the repair; every "back" round began after it. A
    "breaking" or "repairing" round may straddle its event.
    Phases: before, breaking, down, down:end, repairing, back, then ``after``.
    ``while_down()`` runs while the store is broken; its result is returned.
    """
    run.phase("breaking", after_rounds=3, drain=True)
    break_it()
    run.phase("down", after_rounds=1)
    seen = while_down()
    run.phase("down:end", after_rounds=2)
    run.phase("repairing", after_rounds=1, drain=True)
    repair_it()
    run.phase("back", after_rounds=1)
    run.phase(after, after_rounds=2)
    return seen


def handed_out(answers):
    """Return the numbers of the 200 answers (a list: duplicates stay visible)."""
    return [a.value for a in answers if a.status == 200]


def assert_each_number_once(answers, stored, lost_in_flight=0):
    """Check the exact set: every 200 number distinct and within 1..stored, and at most
    ``lost_in_flight`` numbers of 1..stored never handed out (answers that died with the
    store: their number is used up, never handed out again)."""
    numbers = handed_out(answers)
    twice = {n: c for n, c in collections.Counter(numbers).items() if c > 1}
    assert not twice, f"handed out twice: {sorted(twice)[:20]}"
    assert set(numbers) <= set(range(1, stored + 1)), (max(numbers, default=0), stored)
    missing = set(range(1, stored + 1)) - set(numbers)
    assert len(missing) <= lost_in_flight, (sorted(missing)[:20], lost_in_flight)
    return numbers


class IncrementRun:
    """Rounds of simultaneous increments of one strategy, running in the background.

    ``with IncrementRun(url, "sqlite", clients=20) as run:`` starts it; ``run.phase(name)``
    tags every later round with ``name`` (after waiting until at least ``rounds`` rounds
    ran in the current phase); leaving the block waits for the last round. Rounds are
    bounded: at most ``max_rounds``, each request times out after ``timeout`` s.
    """

    def __init__(self, url, name, clients=20, timeout=15.0, max_rounds=400):
        """Fire ``clients`` simultaneous POSTs per round at ``url``'s strategy ``name``."""
        self.url, self.path, self.clients = url, f"/shared/{name}/inc", clients
        self.timeout, self.max_rounds = timeout, max_rounds
        self.rounds = []  # (phase, [Answer, ...])
        self._phase, self._stop = "before", threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        """Start firing rounds."""
        self._thread.start()
        return self

    def __exit__(self, *exc):
        """Stop after the round in flight."""
        self._stop.set()
        self._thread.join(self.timeout * 2)

    def _run(self):
        while not self._stop.is_set() and len(self.rounds) < self.max_rounds:
            with self._lock:
                phase = self._phase
            answers = fire_simultaneously([self.url], self.path, self.clients,
                                          timeout=self.timeout)
            with self._lock:
                self.rounds.append((phase, answers))

    def done_in(self, phase):
        """Return how many rounds have finished in ``phase``."""
        with self._lock:
            return sum(1 for p, _ in self.rounds if p == phase)

    def phase(self, name, after_rounds=2, timeout=60.0, drain=False):
        """Wait until ``after_rounds`` rounds finished in the current phase, then switch;
        with ``drain``, also wait until the round in flight at the switch has finished
        (so that every round of the phase before ends before what comes next)."""
        current = self._phase
        wait_until(lambda: self.done_in(current) >= after_rounds or not self._thread.is_alive(),
                   timeout)
        with self._lock:
            self._phase = name
            finished = len(self.rounds)
        if drain:
            wait_until(lambda: len(self.rounds) > finished or not self._thread.is_alive(),
                       timeout)

    def answers(self, *phases):
        """Return every answer of the rounds run in ``phases`` (all rounds without any)."""
        with self._lock:
            return [a for p, answers in self.rounds if not phases or p in phases
                    for a in answers]
