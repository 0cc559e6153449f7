"""The race lab's servers: it races only once every worker process it asked for booted."""

import contextlib
from types import SimpleNamespace

import pytest

from session_counter.race import servers as lab_servers
from session_counter.race.servers import LabError, Servers


def test_a_worker_that_never_boots_stops_the_lab_instead_of_racing_fewer(monkeypatch):
    """Racing 2 processes when 4 were asked for would mislead (fewer copies of a global):
    after the bounded boot wait the lab says how many booted, and stops its servers."""
    stopped = []

    @contextlib.contextmanager
    def instances(count, model, **options):
        yield [SimpleNamespace(url=f"http://127.0.0.1:{8000 + i}") for i in range(count)]
        stopped.append(count)

    monkeypatch.setattr(lab_servers.harness, "running_instances", instances)
    monkeypatch.setattr(lab_servers.harness, "wait_for_workers",
                        lambda server, count, timeout: {101, 102})
    settings = SimpleNamespace(url=None, instances=1, server="gunicorn", workers=4, threads=1,
                               port_range=None)
    servers = Servers(settings, config={})
    with pytest.raises(LabError, match="only 2 of 4 gunicorn workers booted within 60 s"):
        servers.urls()
    assert stopped == [1] and servers._running == []
