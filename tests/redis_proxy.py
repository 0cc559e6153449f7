"""A small TCP proxy on 127.0.0.1 in front of a real redis-server, for fault tests.

It forwards both ways, counts every command clients send (by name, parsed from the
RESP arrays redis-py writes), and can drop a connection after forwarding one chosen
command: Redis runs it, its reply is thrown away, and the client sees the connection
closed (redis-py: "Connection closed by server"), as when a network or a proxy dies
between request and answer. Threads and sockets only; bounded by socket timeouts, and
``stop()`` closes everything.
"""

import collections
import contextlib
import socket
import threading

TIMEOUT = 60.0  # no relayed connection is idle that long within one test


def parse_commands(buffer):
    """Split complete RESP command arrays off ``buffer``; return (commands, rest).

    Each command is a list of bytes arguments; an incomplete array stays in ``rest``.
    """
    commands = []
    while buffer.startswith(b"*"):
        position, arguments = buffer.find(b"\r\n"), []
        if position < 0:
            break
        count, position = int(buffer[1:position]), position + 2
        for _ in range(count):
            end = buffer.find(b"\r\n", position)
            if end < 0:
                return commands, buffer
            length = int(buffer[position + 1:end])
            start = end + 2
            if len(buffer) < start + length + 2:
                return commands, buffer
            arguments.append(buffer[start:start + length])
            position = start + length + 2
        if len(arguments) < count:
            break
        commands.append(arguments)
        buffer = buffer[position:]
    return commands, buffer


class RedisProxy:
    """Listen on a free 127.0.0.1 port and relay every connection to ``redis_port``."""

    def __init__(self, redis_port):
        """Bind now; serve once start() is called (or in a ``with`` block)."""
        self.redis_port = redis_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.commands = collections.Counter()  # command name (upper case) -> times forwarded
        self._drop_when = None  # predicate(command) -> drop after forwarding it
        self.dropped = []  # the commands whose connection was dropped
        self._close_at_once = 0  # connections still to be closed before any byte
        self.closed_at_once = 0
        self._sockets, self._threads = [], []
        self._lock, self._stopped = threading.Lock(), threading.Event()

    @property
    def url(self):
        """The redis:// URL that goes through the proxy."""
        return f"redis://127.0.0.1:{self.port}/0"

    def drop_after(self, predicate):
        """Drop the connection after forwarding the next command ``predicate`` accepts."""
        with self._lock:
            self._drop_when = predicate

    def close_next_connections(self, count):
        """Close the next ``count`` connections as soon as they are accepted."""
        with self._lock:
            self._close_at_once = count

    def count(self, name):
        """Return how many ``name`` commands (any case) the proxy forwarded."""
        with self._lock:
            return self.commands[name.upper()]

    def start(self):
        """Accept connections in a background thread."""
        self._spawn(self._accept)
        return self

    def stop(self):
        """Close the listener and every relayed connection; wait for the threads."""
        self._stopped.set()
        with self._lock:
            sockets = [self.listener, *self._sockets]
        self._close(*sockets)  # shutdown() wakes the threads blocked in recv()
        for thread in self._threads:
            thread.join(TIMEOUT)

    def __enter__(self):
        """Start the proxy."""
        return self.start()

    def __exit__(self, *exc):
        """Stop the proxy."""
        self.stop()

    def _spawn(self, target, *args):
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self):
        while not self._stopped.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                close_at_once = self._close_at_once > 0
                if close_at_once:
                    self._close_at_once -= 1
                    self.closed_at_once += 1
            if close_at_once:
                self._close(client)
                continue
            upstream = socket.create_connection(("127.0.0.1", self.redis_port), TIMEOUT)
            client.settimeout(TIMEOUT)
            with self._lock:
                self._sockets += [client, upstream]
            drop = threading.Event()  # set: the next reply from Redis ends the connection
            self._spawn(self._to_redis, client, upstream, drop)
            self._spawn(self._to_client, upstream, client, drop)

    def _to_redis(self, client, upstream, drop):
        buffer = b""
        while data := self._receive(client):
            buffer += data
            commands, buffer = parse_commands(buffer)
            with self._lock:
                for command in commands:
                    self.commands[command[0].upper().decode()] += 1
                    if self._drop_when is not None and self._drop_when(command):
                        self._drop_when = None
                        self.dropped.append(command)
                        drop.set()
            if not self._send(upstream, data):
                break
        self._close(client, upstream)

    def _to_client(self, upstream, client, drop):
        while data := self._receive(upstream):
            if drop.is_set():  # Redis ran the command; its answer never arrives
                break
            if not self._send(client, data):
                break
        self._close(client, upstream)

    @staticmethod
    def _receive(sock):
        try:
            return sock.recv(65536)
        except OSError:
            return b""

    @staticmethod
    def _send(sock, data):
        try:
            sock.sendall(data)
            return True
        except OSError:
            return False

    @staticmethod
    def _close(*sockets):
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
