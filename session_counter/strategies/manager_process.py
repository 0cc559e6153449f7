"""The manager program: serves one SharedCount over a Unix socket until its server exits.

Started by the ``manager`` strategy as ``python -m session_counter.strategies.manager_process``.
"""

import os
import threading
import time
from multiprocessing.managers import BaseManager


class SharedCount:
    """The object that lives in the manager process; its lock makes inc() atomic.

    One number per namespace ("" is the table's, a race id a race's own).
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._values = {"": 0}

    def inc(self, namespace=""):
        """Add one and return the new value."""
        with self._lock:
            value = self._values[namespace] = self._values.get(namespace, 0) + 1
            return value

    def get(self, namespace=""):
        """Return the value."""
        return self._values.get(namespace, 0)

    def reset(self, namespace=""):
        """Store 0."""
        with self._lock:
            self._values[namespace] = 0

    def forget(self, namespace):
        """Drop a race's number (never the table's)."""
        with self._lock:
            if namespace:
                self._values.pop(namespace, None)

    def namespaces(self):
        """Return the namespaces that have a number (for the tests)."""
        with self._lock:
            return sorted(self._values)


_shared_count = SharedCount()  # the one instance every client's proxy points at


class CounterServer(BaseManager):
    """The manager that serves SharedCount."""


CounterServer.register("shared_count", callable=lambda: _shared_count)


def serve_manager():
    """Run the manager until the server it belongs to exits (the program's main)."""
    address = bytes.fromhex(os.environ["COUNTER_MANAGER_ADDRESS"]).decode()
    authkey = bytes.fromhex(os.environ["COUNTER_MANAGER_AUTHKEY"])
    watch_pid = int(os.environ["COUNTER_MANAGER_WATCH_PID"])

    def exit_when_server_is_gone():
        while True:
            time.sleep(0.5)
            try:
                os.kill(watch_pid, 0)
            except ProcessLookupError:
                os._exit(0)

    threading.Thread(target=exit_when_server_is_gone, daemon=True).start()
    server = CounterServer(address=address, authkey=authkey).get_server()
    server.serve_forever()


if __name__ == "__main__":
    serve_manager()
