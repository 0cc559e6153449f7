"""Start the app under a real server model on a free loopback port, wait for it, stop it.

The tests, the race lab and the benchmarks all start servers through this module:

    with running_server("gunicorn", workers=4) as server:
        requests.post(server.url + "/shared/sqlite/inc")
"""

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from .. import procfs
from . import SERVER_MODELS

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


PORT_TRIES = 3


def free_port(port_range=None):
    """Return a TCP port on 127.0.0.1 that nothing listens on right now.

    ``port_range`` (first, last), both included, keeps it inside a range (tried in a
    random order, so parallel runs rarely pick the same one); else the kernel picks.
    """
    candidates = [0]
    if port_range is not None:
        candidates = list(range(port_range[0], port_range[1] + 1))
        random.shuffle(candidates)
    for port in candidates:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise RuntimeError(f"no free port on 127.0.0.1 in {port_range[0]}-{port_range[1]}")


@dataclass
class RunningServer:
    """A server process started by start_server()."""

    model: str
    url: str
    instance_path: str
    process: subprocess.Popen
    log_path: str
    pids: set = field(default_factory=set)  # worker pids seen, filled by wait_for_workers
    owns_instance_path: bool = False  # made by the harness: deleted by stop()

    def log(self):
        """Return what the server printed so far."""
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self, timeout=10.0):
        """Stop the server and everything it started (its whole process group)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        # workers, forked request handlers or the manager may outlive the leader
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout)
        if self.owns_instance_path:
            shutil.rmtree(self.instance_path, ignore_errors=True)


def clean_environ():
    """Return this process's environment without SESSION_COUNTER_* or FLASK_* variables.

    A developer's own settings (a Redis URL, an instance folder, FLASK_DEBUG) must not
    reach a lab or test server: two "instances" would share one database, and the lab
    would reset the developer's real counters.
    """
    return {key: value for key, value in os.environ.items()
            if not key.startswith(("SESSION_COUNTER_", "FLASK_", "SERVE_PY_"))}


def server_env(instance_path, config=None, env=None, project_root=PROJECT_ROOT):
    """Return a server's environment: clean_environ(), then only what the caller passes.

    ``config`` values go in as SESSION_COUNTER_<NAME> (text as it is, anything else as
    JSON; None leaves the setting unset); ``env`` adds raw variables; the code is
    imported from ``project_root`` (another checkout, for the bench's before/after).
    """
    child_env = {**clean_environ(), **(env or {})}
    for key, value in (config or {}).items():
        if value is not None:
            child_env[f"SESSION_COUNTER_{key}"] = value if isinstance(value, str) \
                else json.dumps(value)
    child_env["SESSION_COUNTER_INSTANCE_PATH"] = instance_path
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [project_root,
                                                            child_env.get("PYTHONPATH")]))
    return child_env


def start_server(model="dev", *, workers=1, threads=1, instance_path=None, env=None,
                 config=None, timeout=60.0, port_range=None,
                 app_module="session_counter", project_root=PROJECT_ROOT):
    """Start ``model`` on a free 127.0.0.1 port (within ``port_range`` if given) and return
    once it answers /healthz.

    ``config`` is a dict of settings passed as SESSION_COUNTER_* variables, the only
    ones the server sees (server_env); each server gets its own instance folder unless
    ``instance_path`` names one (several servers sharing a folder behave like several
    processes of one machine). ``project_root``: the checkout whose code it runs.
    """
    if model not in SERVER_MODELS:
        raise ValueError(f"unknown server model {model!r}; choose from {SERVER_MODELS}")
    owns_instance_path = instance_path is None
    instance_path = instance_path or tempfile.mkdtemp(prefix="session-counter-")
    for attempt in range(PORT_TRIES):  # another process may take the free port first
        try:
            return _start_on(free_port(port_range), model, workers, threads, instance_path,
                             server_env(instance_path, config, env, project_root),
                             owns_instance_path, timeout, app_module, project_root)
        except PortTaken:
            if attempt + 1 == PORT_TRIES:
                if owns_instance_path:
                    shutil.rmtree(instance_path, ignore_errors=True)
                raise


class PortTaken(RuntimeError):
    """The server exited because another process bound its port between check and start."""


def _start_on(port, model, workers, threads, instance_path, child_env, owns_instance_path,
              timeout, app_module="session_counter", project_root=PROJECT_ROOT):
    """Start ``model`` on ``port``; raise PortTaken if that port was taken meanwhile."""
    log_path = os.path.join(instance_path, f"server-{port}.log")
    command = [sys.executable, "-m", "session_counter.servers.serve", "--server", model,
               "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers), "--threads", str(threads), "--app", app_module]
    with open(log_path, "w") as log:
        # another checkout runs in its folder: `python -m` puts the cwd first on sys.path
        cwd = None if project_root == PROJECT_ROOT else project_root
        process = subprocess.Popen(command, env=child_env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True, cwd=cwd)
    server = RunningServer(model, f"http://127.0.0.1:{port}", instance_path, process, log_path,
                           owns_instance_path=owns_instance_path)
    try:
        wait_until_ready(server, timeout)
    except BaseException as error:
        taken = server.process.poll() is not None and any(
            sign in server.log() for sign in ("Address already in use", "Connection in use"))
        server.owns_instance_path &= not taken  # kept for the next attempt
        server.stop()
        if taken:
            raise PortTaken(f"port {port} was taken before the server bound it") from error
        raise
    return server


def wait_until_ready(server, timeout):
    """Poll /healthz until it answers 200; fail with the server's log if it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.model} server exited with {server.process.returncode}:"
                               f"\n{server.log()[-3000:]}")
        try:
            with urllib.request.urlopen(server.url + "/healthz", timeout=2) as answer:
                # the answer must come from our server, not one that took the port first
                if answer.status == 200 and is_ours(server, json.load(answer).get("pid")):
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{server.model} server did not answer within {timeout} s:"
                       f"\n{server.log()[-3000:]}")


def is_ours(server, pid):
    """Tell whether process ``pid`` belongs to ``server`` (its own process group)."""
    try:
        return isinstance(pid, int) and os.getpgid(pid) == server.process.pid
    except ProcessLookupError:
        return False


def worker_pids(server):
    """Return the pids of the server's worker processes (the children of its leader)."""
    return procfs.children_of(server.process.pid)


def wait_for_workers(server, count, timeout=60.0):
    """Wait until ``count`` worker processes run and each has answered /healthz (booted).

    For the models with worker processes (gunicorn, gthread, gevent). Fills and returns
    ``server.pids``: the running workers that answered, fewer than ``count`` (or not
    all answered) when the time ran out. Also waits out a worker's replacement.
    """
    from ..race.simultaneous import fire_simultaneously

    deadline = time.monotonic() + timeout
    answered = set()
    while True:
        running = worker_pids(server)
        server.pids = running & answered
        if len(running) == count and running <= answered or time.monotonic() > deadline:
            return server.pids
        for answer in fire_simultaneously([server.url], "/healthz", count * 2, method="GET",
                                          timeout=max(deadline - time.monotonic(), 1.0)):
            if answer.status == 200 and answer.pid is not None:
                answered.add(answer.pid)


@contextlib.contextmanager
def running_server(model="dev", **options):
    """Context manager around start_server(): the server is stopped on the way out."""
    server = start_server(model, **options)
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def running_instances(count, model="gunicorn", **options):
    """Start ``count`` instances of the app, each with its own instance folder.

    Each instance is what a separate machine would run: its own session files, its own
    SQLite file, its own processes. Only what ``config`` points them at (a Redis URL)
    is shared. Yields the list of RunningServer; all are stopped on the way out.
    """
    if options.get("instance_path"):
        raise ValueError("instances each get their own folder; do not pass instance_path")
    servers = []
    try:
        for _ in range(count):
            servers.append(start_server(model, **options))
        yield servers
    finally:
        for server in servers:
            server.stop()


@contextlib.contextmanager
def running_booted_server(model="gunicorn", workers=3, **options):
    """running_server() that returns once every one of its ``workers`` processes booted."""
    with running_server(model, workers=workers, **options) as server:
        pids = wait_for_workers(server, workers)
        if len(pids) != workers:
            raise TimeoutError(f"only {len(pids)} of {workers} {model} workers booted:"
                               f"\n{server.log()[-3000:]}")
        yield server
