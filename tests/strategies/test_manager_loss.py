"""The manager strategy after its process dies: it never hands out a number again until
an explicit reset, one broken strategy never breaks the page, and one manager only."""

import os
import threading

import pytest
import requests

from session_counter.procfs import is_gone
from session_counter.servers.harness import running_server
from session_counter.strategies import get_strategies
from session_counter.strategies.manager import Manager

from ..store_faults import JSON, kill_9, post_inc, server_processes

MANAGER_PROGRAM = "session_counter.strategies.manager_process"


@pytest.mark.server
def test_killed_manager_answers_503_until_reset_and_never_hands_out_1_again():
    """1, 2, 3, kill -9 of the manager: every later increment is a 503 with the reason (the
    page shows it) until POST /shared/manager/reset, which starts again from 1."""
    with running_server("gunicorn", workers=2) as server:
        url = server.url
        assert [post_inc(url, "manager")[1] for _ in range(3)] == [1, 2, 3]
        managers = server_processes(server, MANAGER_PROGRAM)
        assert len(managers) == 1
        kill_9(managers[0])
        after = [post_inc(url, "manager") for _ in range(8)]  # both workers, several times
        page = requests.get(url + "/", timeout=30)
        read = requests.get(url + "/shared/manager", headers=JSON, timeout=30)
        listed = requests.get(url + "/api/strategies", timeout=30)
        still_dead = server_processes(server, MANAGER_PROGRAM)
        reset = requests.post(url + "/shared/manager/reset", headers=JSON, timeout=30)
        again = [post_inc(url, "manager")[1] for _ in range(2)]

    assert [status for status, _, _ in after] == [503] * 8, after
    for _, _, message in after:
        assert f"the counter manager (pid {managers[0]}) died" in message
        assert "POST /shared/manager/reset" in message
    assert still_dead == []  # nobody started a fresh one behind the 503s
    assert page.status_code == 200
    assert f"the counter manager (pid {managers[0]}) died" in page.text
    assert 'data-testid="shared-manager">unavailable<' in page.text
    assert 'data-testid="shared-sqlite">0<' in page.text  # the other rows are intact
    assert read.status_code == 503
    assert listed.status_code == 200
    assert reset.status_code == 200 and again == [1, 2]


def test_one_manager_is_started_when_many_workers_need_it_at_once(tmp_path, monkeypatch):
    """Eight strategies (as eight workers) on one instance folder ask at once: one spawn;
    the start lock is held until the manager accepts connections."""
    from session_counter import create_app

    app = create_app({"TESTING": True}, instance_path=str(tmp_path / "instance"))
    spawned, lock = [], threading.Lock()
    real_spawn = Manager._spawn_manager

    def counting_spawn(self):
        with lock:
            spawned.append(1)
        return real_spawn(self)

    monkeypatch.setattr(Manager, "_spawn_manager", counting_spawn)
    strategies = [Manager(app) for _ in range(8)]
    start, numbers = threading.Barrier(8), []

    def hand_out(strategy):
        start.wait()
        value = strategy.increment()
        with lock:
            numbers.append(value)

    threads = [threading.Thread(target=hand_out, args=(s,)) for s in strategies]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(numbers) == list(range(1, 9))
        assert len(spawned) == 1
    finally:
        stop_manager(strategies[0])


def manager_pids(strategy):
    """Return the pids of the manager programs serving ``strategy``'s address."""
    wanted = f"COUNTER_MANAGER_ADDRESS={strategy.address.encode().hex()}".encode()
    pids = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if wanted in f.read().split(b"\0") and not is_gone(int(entry)):
                    pids.append(int(entry))
        except (OSError, ValueError):
            continue
    return pids


def stop_manager(strategy):
    """Stop the managers this test started (they would otherwise live as long as pytest)."""
    for pid in manager_pids(strategy):
        kill_9(pid)


def test_a_manager_that_refuses_the_key_breaks_its_row_not_the_page(tmp_path):
    """A manager started with another SECRET_KEY (AuthenticationError): GET / renders,
    the manager row shows the error, and POST answers 503, not 500."""
    from session_counter import create_app

    folder = str(tmp_path / "instance")
    other = create_app({"TESTING": True, "SECRET_KEY": "another key"}, instance_path=folder)
    app = create_app({"TESTING": True, "SECRET_KEY": "this app's key"}, instance_path=folder)
    squatter = get_strategies(other)["manager"]
    assert squatter.increment() == 1  # the other app's manager now owns the address
    try:
        client = app.test_client()
        page = client.get("/")
        answer = client.post("/shared/manager/inc", headers=JSON)
        text = client.post("/shared/manager/inc")
    finally:
        stop_manager(squatter)
    assert page.status_code == 200
    assert 'data-testid="shared-manager">unavailable<' in page.text
    assert "refused this app&#39;s key" in page.text
    assert 'data-testid="shared-sqlite">0<' in page.text
    assert answer.status_code == 503 and "refused this app's key" in answer.json["message"]
    assert text.status_code == 503
