"""Fire N truly simultaneous HTTP requests at a loopback server (standard library only).

Every client opens its TCP connection first, then all of them wait on one
barrier; the main thread arrives last and releases them together, so the
requests hit the server within a fraction of a millisecond of each other.
"""
from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from urllib.parse import urlsplit

from .model import Answer

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_CLIENTS = 5000


def _as_int(raw: object) -> int | None:
    """Return raw as an int if it is one (or a string of digits), else None."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
        return int(raw)
    return None


def parse_json_answer(status: int, body: bytes) -> tuple:
    """Read (value or counter, pid, thread, retries) from a JSON body; None when missing."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, None, None, None
    if not isinstance(data, dict):
        return None, None, None, None
    value = _as_int(data["value"] if "value" in data else data.get("counter"))
    thread = data.get("thread")
    return (value, _as_int(data.get("pid")), None if thread is None else str(thread),
            _as_int(data.get("retries")))


def parse_traced_answer(status: int, body: bytes) -> tuple:
    """Read what parse_json_answer reads, and the answer's ``trace`` (None when missing)."""
    parsed = parse_json_answer(status, body)
    try:
        trace = json.loads(body.decode("utf-8")).get("trace")
    except (UnicodeDecodeError, ValueError, AttributeError):
        trace = None
    return (*parsed, trace if isinstance(trace, dict) else None)


def loopback_target(base_url: str) -> tuple[str, int]:
    """Return (host, port) of an http:// loopback base URL, or raise ValueError."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "http" or host not in LOOPBACK_HOSTS:
        raise ValueError(f"refusing {base_url!r}: only http:// on 127.0.0.1, localhost or ::1")
    return host, parts.port or 80


def fire_simultaneously(base_urls: list[str], path: str, n: int, *, method: str = "POST",
                        headers: dict | None = None, timeout: float = 30.0,
                        parse=parse_json_answer) -> list[Answer]:
    """Send n requests released together by a barrier, round-robin over base_urls.

    Returns one Answer per request, in order.
    """
    if not base_urls:
        raise ValueError("need at least one base URL")
    if not 0 <= n <= MAX_CLIENTS:
        raise ValueError(f"n must be between 0 and {MAX_CLIENTS}, got {n}")
    targets = [(url, *loopback_target(url)) for url in base_urls]
    sent_headers = {"Accept": "application/json", **(headers or {})}
    deadline = time.monotonic() + timeout
    released: list[float] = []
    barrier = threading.Barrier(n + 1, action=lambda: released.append(time.perf_counter()))
    results: list[Answer | None] = [None] * n
    conns: list[http.client.HTTPConnection | None] = [None] * n
    lock = threading.Lock()
    closed = False

    def since_release() -> float:
        """Seconds since the barrier released the clients (0.0 if it never did)."""
        return time.perf_counter() - released[0] if released else 0.0

    def client(i: int) -> None:
        """Connect, wait for the release, send one request and record the Answer."""
        instance, host, port = targets[i % len(targets)]
        status, value, pid, thread, error, retries, trace = 0, None, None, None, None, None, None
        try:
            conn = conns[i] = http.client.HTTPConnection(host, port, timeout=timeout)
            conn.connect()
        except OSError as exc:
            error = f"connect failed: {exc!r}"
        try:
            barrier.wait(timeout=max(deadline - time.monotonic(), 0.001))
        except threading.BrokenBarrierError:
            error = error or "barrier broken: clients were not released together"
        if error is None:
            try:
                conn.request(method, path, headers=sent_headers)
                response = conn.getresponse()
                status, body = response.status, response.read()
                # a parse function may add a 4th item, the answer's retries, and a 5th, its trace
                value, pid, thread, *more = parse(status, body)
                retries, trace = (more + [None, None])[:2]
            except (OSError, http.client.HTTPException) as exc:
                status, error = 0, f"request failed: {exc!r}"
            finally:
                conn.close()
        answer = Answer(status, value, pid, thread, instance, error, since_release(), retries,
                        trace)
        with lock:
            if not closed:
                results[i] = answer

    threads = [threading.Thread(target=client, args=(i,), daemon=True, name=f"client-{i}")
               for i in range(n)]
    for t in threads:
        t.start()
    try:
        barrier.wait(timeout=max(deadline - time.monotonic(), 0.001))  # main arrives last
    except threading.BrokenBarrierError:
        pass
    for t in threads:
        t.join(timeout=max(deadline - time.monotonic(), 0.0))
    with lock:
        closed = True
        for i, answer in enumerate(results):
            if answer is None:
                _abort(conns[i])
                results[i] = Answer(0, None, None, None, targets[i % len(targets)][0],
                                    f"timeout: no answer within {timeout}s", since_release())
    return list(results)  # type: ignore[arg-type]


def _abort(conn: http.client.HTTPConnection | None) -> None:
    """Shut down a hung client's socket so its daemon thread ends soon."""
    sock = getattr(conn, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
