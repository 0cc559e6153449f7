"""fire_simultaneously() against tiny real HTTP servers on 127.0.0.1."""
import http.client
import itertools
import json
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from session_counter.race.model import Answer
from session_counter.race.simultaneous import fire_simultaneously, parse_json_answer


class CountingServer:
    """A threaded HTTP server handing out 1, 2, 3, ... and recording when each request arrived."""

    def __init__(self):
        self.counter = itertools.count(1)
        self.lock = threading.Lock()
        self.arrivals: list[float] = []
        self.cookies: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self):
                arrived = time.perf_counter()
                with server.lock:
                    k = next(server.counter)
                    server.arrivals.append(arrived)
                    server.cookies.append(self.headers.get("Cookie"))
                if self.path == "/text":
                    body, kind = b"not json", "text/plain"
                else:
                    body = json.dumps({"value": k, "pid": os.getpid(),
                                       "thread": threading.current_thread().name}).encode()
                    kind = "application/json"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = answer

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256  # the default 5 would make the kernel drop simultaneous SYNs

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def server():
    s = CountingServer()
    yield s
    s.close()


def closed_port() -> int:
    """A loopback port that was just bound and closed, so nothing listens on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_fifty_clients_get_exactly_one_to_fifty(server):
    answers = fire_simultaneously([server.url], "/increment", 50, timeout=10)
    assert len(answers) == 50
    assert all(isinstance(a, Answer) for a in answers)
    assert all(a.status == 200 and a.error is None for a in answers)
    values = [a.value for a in answers]
    assert len(values) == 50 and set(values) == set(range(1, 51))
    assert {a.pid for a in answers} == {os.getpid()}
    assert all(a.thread for a in answers)
    assert {a.instance for a in answers} == {server.url}
    assert all(0 <= a.elapsed < 10 for a in answers)


def test_requests_wait_for_the_slowest_connect(server, monkeypatch):
    """Connects are staggered over ~0.5 s; with the barrier no request may arrive before the last
    connect finished, and all arrive in a burst. Without the barrier the first requests would
    arrive ~0.5 s before the last connect and both assertions would fail."""
    real_connect = http.client.HTTPConnection.connect
    order = itertools.count()
    connected_at: list[float] = []

    def slow_connect(self):
        time.sleep(next(order) * 0.01)
        real_connect(self)
        connected_at.append(time.perf_counter())

    monkeypatch.setattr(http.client.HTTPConnection, "connect", slow_connect)
    answers = fire_simultaneously([server.url], "/increment", 50, timeout=10)
    assert [a.status for a in answers] == [200] * 50
    assert len(connected_at) == 50 and len(server.arrivals) == 50
    connect_phase = max(connected_at) - min(connected_at)
    assert connect_phase > 0.4
    assert min(server.arrivals) > max(connected_at)
    assert max(server.arrivals) - min(server.arrivals) < connect_phase / 2


def test_round_robin_and_extra_headers():
    servers = [CountingServer(), CountingServer()]
    try:
        urls = [s.url for s in servers]
        answers = fire_simultaneously(urls, "/increment", 10, headers={"Cookie": "session=abc"},
                                      timeout=10)
        for i, a in enumerate(answers):
            assert a.instance == urls[i % 2]
        for s in servers:
            assert s.cookies == ["session=abc"] * 5
            assert sorted(a.value for a in answers if a.instance == s.url) == [1, 2, 3, 4, 5]
    finally:
        for s in servers:
            s.close()


def test_non_json_body_gives_no_value(server):
    answers = fire_simultaneously([server.url], "/text", 3, method="GET", timeout=10)
    assert [(a.status, a.value, a.pid, a.thread, a.error) for a in answers] == \
        [(200, None, None, None, None)] * 3


def test_custom_parse(server):
    answers = fire_simultaneously([server.url], "/text", 2, parse=lambda status, body: (
        len(body), 1, body.decode()), timeout=10)
    assert [(a.value, a.pid, a.thread) for a in answers] == [(8, 1, "not json")] * 2


@pytest.mark.parametrize("url", [
    "http://10.0.0.1:5000", "http://example.com", "http://192.168.1.2",
    "https://127.0.0.1:5001", "http://127.0.0.2:5001", "127.0.0.1:5001",
])
def test_non_loopback_url_is_refused(url):
    with pytest.raises(ValueError):
        fire_simultaneously([url], "/", 1, timeout=1)


def test_one_bad_url_among_good_ones_is_refused_before_sending(server):
    with pytest.raises(ValueError):
        fire_simultaneously([server.url, "http://8.8.8.8"], "/", 2, timeout=1)
    assert server.arrivals == []


@pytest.mark.parametrize("n", [5001, -1])
def test_client_count_is_bounded(n):
    with pytest.raises(ValueError):
        fire_simultaneously(["http://127.0.0.1:1"], "/", n, timeout=1)


def test_loopback_spellings_are_accepted(server):
    port = server.url.rsplit(":", 1)[1]
    answers = fire_simultaneously([f"http://localhost:{port}", f"http://127.0.0.1:{port}"],
                                  "/", 2, timeout=10)
    assert sorted(a.value for a in answers) == [1, 2]


def test_unreachable_port_gives_status_zero_answers():
    url = f"http://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    answers = fire_simultaneously([url], "/increment", 5, timeout=3)
    assert time.monotonic() - started < 3 + 1
    assert len(answers) == 5
    for a in answers:
        assert a.status == 0 and a.value is None and a.error
        assert a.instance == url


def test_hanging_server_returns_within_timeout():
    with socket.socket() as listener:  # accepts connections in the kernel, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        started = time.monotonic()
        answers = fire_simultaneously([url], "/increment", 4, timeout=1.0)
        assert time.monotonic() - started < 1.0 + 1.0
    assert [a.status for a in answers] == [0] * 4
    assert all(a.error for a in answers)


def test_zero_clients():
    assert fire_simultaneously(["http://127.0.0.1:1"], "/", 0, timeout=1) == []


@pytest.mark.parametrize("body, expected", [
    (b'{"value": 7, "pid": 12, "thread": "T-1"}', (7, 12, "T-1", None)),
    (b'{"counter": 3}', (3, None, None, None)),
    (b'{"value": 5, "retries": 2}', (5, None, None, 2)),
    (b'{"value": 4, "counter": 9}', (4, None, None, None)),
    (b'{"value": null, "counter": 9}', (None, None, None, None)),
    (b'{"pid": 5}', (None, 5, None, None)),
    (b'[1, 2]', (None, None, None, None)),
    (b'<html>oops</html>', (None, None, None, None)),
    (b'\xff\xfe', (None, None, None, None)),
    (b'', (None, None, None, None)),
])
def test_parse_json_answer(body, expected):
    assert parse_json_answer(200, body) == expected
