"""Faults on real servers: a killed worker, a Redis that goes away, a read-only disk, and
10,000 clients. Each test states the exact outcome, failures included."""

import collections
import contextlib
import itertools
import os
import random
import signal
import threading
import time

import msgspec
import pytest
import requests

from session_counter import create_app
from session_counter.clients.redis import connect
from session_counter.procfs import read_stat
from session_counter.servers.harness import running_server, wait_for_workers, worker_pids
from session_counter.sessions.file_store import TEMP_SUFFIX, SessionFileStore, decode_file
from session_counter.sessions.redis_store import LOCK_LEASE, RedisSessionLocks
from session_counter.strategies import PROCESSES

from ..readonly import read_only
from ..redis_server import running_redis

JSON = {"Accept": "application/json"}
CLIENT_THREADS = 20
PER_STRATEGY = 1000
SESSION_WRITES = 250  # POST /inc among them; every request locks its client's session
KILL_AFTER = 0.3  # of all requests
KILL_TRIES_FOR = 120.0  # s: a loaded machine serves requests slowly; none wait this long


def wait_until(condition, timeout=120.0):
    """Poll ``condition`` until it returns something true; return that (bounded wait)."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"still not true after {timeout} s")
        time.sleep(0.02)
    return result


def process_safe_names(url):
    """Return the process-safe strategies this server runs."""
    described = requests.get(f"{url}/api/strategies", timeout=10).json()
    return [s["name"] for s in described if PROCESSES in s["safe_against"]]


def run_clients(url, paths, during):
    """POST every path from CLIENT_THREADS clients (a cookie jar each, each starting
    with a POST /inc), running ``during(progress)`` meanwhile; return the outcomes and
    each client's session id.

    Each outcome is (client, path, status, value, pid, message); status 0 is a
    connection that died without an answer (its worker was killed).
    """
    jobs, outcomes, sids, lock = iter(paths), [], {}, threading.Lock()

    def client(number):
        with requests.Session() as browser:
            path = "/inc"  # first a session of its own, then whatever comes next
            while path is not None:
                try:
                    answer = browser.post(url + path, headers=JSON, timeout=30)
                except requests.RequestException as error:  # cut off, no whole answer
                    outcome = (number, path, 0, None, None, repr(error))
                else:
                    json_body = answer.headers.get("Content-Type") == "application/json"
                    body = answer.json() if json_body else {"message": answer.text}
                    outcome = (number, path, answer.status_code,
                               body.get("value", body.get("counter")), body.get("pid"),
                               body.get("message"))
                with lock:
                    outcomes.append(outcome)
                path = next_job()
            sids[number] = browser.cookies.get("session")

    def next_job():
        with lock:
            return next(jobs, None)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENT_THREADS)]
    for t in threads:
        t.start()
    try:
        during(lambda: len(outcomes))
    finally:
        for t in threads:
            t.join()
    return outcomes, sids


def kill_a_worker_mid_request(pids, redis_server, requests_remain, timeout=KILL_TRIES_FOR):
    """SIGKILL a worker caught inside the app, holding a lock; return (pid, caught, looks).

    All workers are frozen (SIGSTOP) together and the locks are looked up only once each
    one has really stopped, so none can let go meanwhile; if none holds one, all go on
    and the next look comes. How soon one is caught depends on the machine's load, so
    this tries for as long as requests remain to be sent (at most ``timeout`` s); then
    it kills one anyway and says it was not caught.
    """
    candidates = sorted(pids)
    deadline = time.monotonic() + timeout
    for looks in itertools.count(1):
        for pid in candidates:
            os.kill(pid, signal.SIGSTOP)
        try:
            wait_until(lambda: all(is_stopped(pid) for pid in candidates))
            holders = [pid for pid in candidates if holds_a_lock(pid, redis_server)]
            if holders or not requests_remain() or time.monotonic() > deadline:
                victim = min(holders or candidates)
                os.kill(victim, signal.SIGKILL)
                return victim, bool(holders), looks
        finally:
            for pid in candidates:  # the victim too: gunicorn may have reaped it already
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGCONT)
        time.sleep(0.002)  # let them work between two looks


def is_stopped(pid):
    """Tell whether ``pid`` has stopped (SIGSTOP reached it) or is gone."""
    stat = read_stat(pid)
    return stat is None or stat.state in "TZX"


def holds_a_lock(pid, redis_server):
    """Tell whether ``pid`` holds a flock (a session lock on disk, the file_lock counter),
    SQLite's write lock (a POSIX write lock: an idle worker holds only read locks) or a
    session lock in Redis (whose value names host:pid:random)."""
    with open("/proc/locks") as f:  # "N: FLOCK ADVISORY WRITE pid ..."; waiters have "->"
        held = [line.split()[1:5] for line in f]
    if any(fields[3] == str(pid) and (fields[0] == "FLOCK" or fields[:3] == [
            "POSIX", "ADVISORY", "WRITE"]) for fields in held if len(fields) == 4):
        return True
    if redis_server is None:
        return False
    with redis_server.client() as r:
        holders = [r.get(key) or b"" for key in r.scan_iter("lock:session:*")]
    return any(f":{pid}:".encode() in holder for holder in holders)


def stored_file_sessions(folder):
    """Decode every session file in ``folder``; return {file name: dict}, temp files apart."""
    sessions, temp_files = {}, 0
    for name in os.listdir(folder):
        with open(os.path.join(folder, name), "rb") as f:
            data = f.read()
        if name.endswith(TEMP_SUFFIX):
            temp_files += 1  # a write cut short by the kill; never read as a session
            continue
        sessions[name] = decode_file(data, name)
        assert sessions[name] is not None, f"{name} is damaged"
    return sessions, temp_files


def stored_redis_sessions(redis_server):
    """Decode every session in Redis (Flask-Session stores msgpack)."""
    with redis_server.client() as r:
        return {key: msgspec.msgpack.decode(r.get(key)) for key in r.scan_iter("session:*")}


@pytest.fixture(params=["filesystem", pytest.param("redis", marks=pytest.mark.redis)])
def store(request, tmp_path):
    """The session store of a fault test: this machine's disk, or a Redis of its own."""
    if request.param == "filesystem":
        yield None
    else:
        with running_redis(tmp_path / "redis") as server:
            yield server


@pytest.mark.server
@pytest.mark.slow
def test_kill_9_of_a_worker_mid_run_corrupts_nothing_and_duplicates_nothing(store):
    config = {"SESSION_LOCK_TIMEOUT": 1}
    if store is not None:
        config["REDIS_URL"] = store.url
    with running_server("gunicorn", workers=4, config=config) as server:
        names = process_safe_names(server.url)
        assert ("redis" in names) == (store is not None)
        if store is not None:  # sqlite and manager never touch Redis: raced on filesystem
            names = ["file_lock", "redis"]
        paths = [f"/shared/{name}/inc" for name in names] * PER_STRATEGY
        paths += ["/inc"] * SESSION_WRITES
        random.Random(4).shuffle(paths)
        workers = wait_for_workers(server, 4)  # they boot one after another
        assert len(workers) == 4
        killed = {}

        def kill_one_worker(progress):
            wait_until(lambda: progress() >= KILL_AFTER * len(paths))
            killed["pid"], killed["caught"], killed["looks"] = kill_a_worker_mid_request(
                workers, store, lambda: progress() < len(paths))  # each client's first /inc
            # is also an outcome: below len(paths) + CLIENT_THREADS, some are still to send
            killed["after"] = progress()

        outcomes, sids = run_clients(server.url, paths, kill_one_worker)
        respawned = wait_for_workers(server, 4)
        finals = {name: requests.get(f"{server.url}/shared/{name}", headers=JSON,
                                     timeout=10).json()["value"] for name in names}
        if store is None:
            folder = os.path.join(server.instance_path, "sessions")
            sessions, temp_files = stored_file_sessions(folder)
            cache = SessionFileStore(folder, default_timeout=0)
            counters = {n: cache.get(f"session:{sid}")["counter"] for n, sid in sids.items()}
        else:
            sessions, temp_files = stored_redis_sessions(store), 0
            counters = {n: sessions[f"session:{sid}".encode()]["counter"]
                        for n, sid in sids.items()}

    victim, after = killed["pid"], killed["after"]
    assert killed["caught"], killed  # it died inside the app, holding a lock
    assert victim not in respawned and len(respawned) == 4
    assert victim in [pid for *_, pid, _ in outcomes[:after]]  # it was serving this run
    assert victim not in [pid for *_, pid, _ in outcomes[after + CLIENT_THREADS:]]
    assert len(outcomes) == len(paths) + CLIENT_THREADS
    statuses = collections.Counter(status for _, _, status, *_ in outcomes)
    # Died with the worker: status 0. With Redis, a session lock held by the dead worker
    # stays taken until its lease ends, so that one client gets "busy" 503s meanwhile.
    allowed = {200, 0} if store is None else {200, 0, 503}
    assert set(statuses) <= allowed, statuses
    for _, _, status, _, _, message in outcomes:
        if status == 503:
            assert "this session has been busy" in message
    for name in names:
        answered = [value for _, path, status, value, *_ in outcomes
                    if path == f"/shared/{name}/inc" and status == 200]
        failed = sum(1 for _, path, status, *_ in outcomes
                     if path == f"/shared/{name}/inc" and status != 200)
        assert len(set(answered)) == len(answered), f"{name} handed out a number twice"
        assert len(answered) + failed == PER_STRATEGY
        # a number whose answer died with the worker is used up, never handed out again
        assert len(answered) <= finals[name] <= PER_STRATEGY
        assert max(answered) <= finals[name]
    assert len(sessions) == len(sids) == CLIENT_THREADS, (len(sessions), temp_files)
    assert all(type(data.get("counter")) is int for data in sessions.values())
    for client, stored in counters.items():  # each client's counter: nothing lost
        answered = [value for number, path, status, value, *_ in outcomes
                    if number == client and path == "/inc" and status == 200]
        failed = sum(1 for number, path, status, *_ in outcomes
                     if number == client and path == "/inc" and status != 200)
        assert answered == sorted(set(answered)), f"client {client} got a number twice"
        assert answered[-1] <= stored <= answered[-1] + failed
    print(f"\n{'redis' if store else 'filesystem'}: {len(outcomes)} requests, killed "
          f"worker {victim} after {after} (look {killed['looks']}), statuses "
          f"{dict(statuses)}, finals {finals}, temp files left {temp_files}")


@pytest.mark.server
@pytest.mark.slow
@pytest.mark.redis
@pytest.mark.parametrize("persistent", [True, False], ids=["aof", "no-persistence"])
def test_redis_stopped_and_restarted_503s_then_continues(tmp_path, persistent):
    """While Redis is down: 503, never 500, even from a worker started meanwhile; after
    the restart the counters go on (without persistence: from scratch)."""
    with running_redis(tmp_path / "redis", persistent=persistent) as redis_server, \
            running_server("gunicorn", workers=2, config={
                "REDIS_URL": redis_server.url, "SESSION_LOCK_TIMEOUT": 1}) as server, \
            requests.Session() as browser, requests.Session() as cut_off:
        url = server.url

        def post(path):
            return browser.post(url + path, headers=JSON, timeout=30)

        def during_outage():
            """The session (POST /inc, GET /) and the shared counter, each once."""
            return [(path, browser.request(method, url + path, headers=JSON, timeout=30))
                    for method, path in (("POST", "/inc"), ("POST", "/shared/redis/inc"),
                                         ("GET", "/"))]

        assert [post("/inc").json()["counter"] for _ in range(5)] == [1, 2, 3, 4, 5]
        assert [post("/shared/redis/inc").json()["value"] for _ in range(5)] == [1, 2, 3, 4, 5]
        # A client whose request is in flight when Redis dies: it holds its session lock.
        assert cut_off.post(url + "/inc", headers=JSON).json()["counter"] == 1
        session_key = f"session:{cut_off.cookies['session']}"
        RedisSessionLocks(connect(redis_server.url), timeout=1).acquire(session_key)

        seen, stop = collections.Counter(), threading.Event()

        def watch():  # a visitor without a session (so without a lock) reading throughout
            while not stop.is_set():
                for path in ("/", "/shared/redis"):
                    try:
                        seen[requests.get(url + path, headers=JSON, timeout=30).status_code] += 1
                    except requests.ConnectionError:
                        seen[0] += 1  # in flight on the worker this test kills

        thread = threading.Thread(target=watch)
        thread.start()
        try:
            wait_until(lambda: seen[200] >= 2)
            redis_server.stop(signal.SIGKILL)  # a crash, not a clean shutdown
            down = during_outage() + during_outage() + during_outage()
            old_workers = wait_for_workers(server, 2)
            os.kill(min(old_workers), signal.SIGKILL)  # its replacement boots without Redis
            new_workers = wait_until(lambda: (pids := worker_pids(server)) - old_workers
                                     and len(pids) == 2 and pids)
            down += during_outage() + during_outage() + during_outage()
            down.append(("/shared/redis", browser.get(url + "/shared/redis", headers=JSON,
                                                      timeout=30)))
            assert requests.get(url + "/healthz", timeout=30).status_code == 200
            cookieless = requests.post(url + "/shared/redis/inc", headers=JSON, timeout=30)
            wait_until(lambda: seen[503] >= 2)
            ok_before = seen[200]
            redis_server.start()
            wait_until(lambda: seen[200] >= ok_before + 2)
        finally:
            stop.set()
            thread.join()

        assert server.process.poll() is None and len(new_workers) == 2
        assert [answer.status_code for _, answer in down] == [503] * len(down)
        doing = {"/inc": "locking this session", "/": "locking this session",
                 "/shared/redis/inc": "handing out the next number",  # opens no session
                 "/shared/redis": "reading the shared counter"}
        for path, answer in down:
            assert answer.json()["message"].startswith(
                f"Redis at {redis_server.url} failed while {doing[path]} (Error 111"), path
        assert cookieless.status_code == 503
        assert cookieless.json()["message"].startswith(
            f"Redis at {redis_server.url} failed while handing out the next number")
        assert seen[0] <= 1 and set(seen) - {0} == {200, 503}, seen  # never a 500
        expected = 6 if persistent else 1  # without persistence, a restart loses everything
        assert post("/inc").json()["counter"] == expected
        assert post("/shared/redis/inc").json()["value"] == expected
        after = cut_off.post(url + "/inc", headers=JSON)
        if persistent:  # its lock was saved too: it waits out the lease, then counts on
            assert after.status_code == 503
            assert after.json()["message"].startswith("this session has been busy for 1 s")
            with redis_server.client() as r:
                assert 0 < r.pttl(f"lock:{session_key}") <= LOCK_LEASE * 1000
        else:  # its session went with everything else
            assert after.json()["counter"] == 1
        print(f"\npersistent={persistent}: watcher saw {dict(seen)}; after restart "
              f"counter and redis strategy answered {expected}, the cut-off client "
              f"{after.status_code}")


@pytest.mark.read_only
@pytest.mark.server
@pytest.mark.slow
def test_read_only_session_folder_is_503_and_resets_nothing():
    with running_server("gunicorn", workers=2) as server, requests.Session() as browser:
        url = server.url
        assert [browser.post(url + "/inc", headers=JSON).json()["counter"]
                for _ in range(3)] == [1, 2, 3]
        # Both workers must have booted first: a worker booting now would fail the
        # start-up check of the session folder, and gunicorn would halt the whole server.
        assert len(wait_for_workers(server, 2)) == 2
        with read_only(os.path.join(server.instance_path, "sessions")):
            failed = [browser.post(url + "/inc", headers=JSON) for _ in range(5)]
            newcomer = requests.post(url + "/inc", headers=JSON)
            page = browser.get(url + "/")
            health = requests.get(url + "/healthz")
        for answer in [*failed, newcomer]:
            assert answer.status_code == 503
            assert "could not save the session" in answer.json()["message"]
            assert "Nothing was changed" in answer.json()["message"]
        assert page.status_code == 200  # reading still works, and shows the old value
        assert '<p class="big" data-testid="session-counter">3</p>' in page.text
        assert health.status_code == 200
        assert browser.post(url + "/inc", headers=JSON).json()["counter"] == 4


@pytest.mark.slow
def test_ten_thousand_clients_on_the_filesystem_store_lose_none(tmp_path):
    """10,000 clients with a counter each: every one is still stored with its value, and
    every 10th comes back through the app and counts on."""
    clients = 10_000
    app = create_app({"TESTING": True}, instance_path=str(tmp_path / "instance"))
    client = app.test_client()
    sids = []
    for _ in range(clients):
        client.delete_cookie("session")
        assert client.post("/inc", headers=JSON).json["counter"] == 1
        sids.append(client.get_cookie("session").value)
    assert len(set(sids)) == clients
    assert len(os.listdir(app.config["SESSION_DIR"])) == clients
    returning = sids[::10]
    for sid in returning:
        client.set_cookie("session", sid)
        assert client.post("/inc", headers=JSON).json["counter"] == 2
        assert client.get_cookie("session").value == sid
    cache = SessionFileStore(app.config["SESSION_DIR"], default_timeout=0)
    stored = collections.Counter(cache.get(f"session:{sid}")["counter"] for sid in sids)
    assert stored == {1: clients - len(returning), 2: len(returning)}
