"""The harness's ports: inside a range when asked, and a port taken meanwhile is retried."""

import socket

import pytest

from session_counter.servers import harness


def held_port_with_a_free_neighbour(tries=100):
    """Return a listening socket whose port's next port is free right now.

    On a shared machine any port may be taken by another process, or sit in TIME_WAIT
    after a connection of its own: the pair is looked for, not assumed.
    """
    for _ in range(tries):
        held = socket.socket()
        held.bind(("127.0.0.1", 0))
        held.listen()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", held.getsockname()[1] + 1))
            except (OSError, OverflowError):  # taken, or past 65535
                held.close()
                continue
        return held
    raise RuntimeError(f"no port with a free neighbour in {tries} tries")


def test_free_port_stays_inside_a_range_and_says_when_it_is_full():
    with held_port_with_a_free_neighbour() as held:
        port = held.getsockname()[1]
        assert harness.free_port((port, port + 1)) == port + 1
        with pytest.raises(RuntimeError, match=f"no free port on 127.0.0.1 in {port}-{port}"):
            harness.free_port((port, port))


@pytest.mark.server
def test_a_port_taken_before_the_server_binds_it_is_retried(monkeypatch):
    """The first port offered is already listened on: the server fails, the next one works."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        taken = held.getsockname()[1]
        offered = [taken]
        real = harness.free_port
        monkeypatch.setattr(harness, "free_port",
                            lambda port_range=None: offered.pop() if offered else real())
        with harness.running_server("dev-single") as server:
            assert not server.url.endswith(f":{taken}")
            assert server.process.poll() is None
