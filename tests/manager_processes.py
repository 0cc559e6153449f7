"""Find and stop the manager programs that in-process apps of this test run started.

An app built in the test process starts the `manager` strategy's program the first time
something reads that counter (``GET /`` does); the program lives until the process it
watches exits, which for an in-process app is pytest itself. Tests stop what they start.
"""

import contextlib
import os
import signal
import time

MANAGER_PROGRAM = b"session_counter.strategies.manager_process"


def children(parent):
    """Return the pids of the live (not zombie) children of process ``parent``."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                state, ppid = f.read().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue  # gone meanwhile
        if int(ppid) == parent and state not in ("Z", "X"):
            pids.append(int(entry))
    return pids


def manager_processes(address=None):
    """Return the pids of manager programs this process started (serving ``address``)."""
    found = []
    for pid in children(os.getpid()):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if MANAGER_PROGRAM not in f.read().split(b"\0"):
                    continue
            with open(f"/proc/{pid}/environ", "rb") as f:
                environ = dict(item.split(b"=", 1) for item in f.read().split(b"\0")
                               if b"=" in item)
        except OSError:
            continue
        served = bytes.fromhex(environ.get(b"COUNTER_MANAGER_ADDRESS", b"").decode())
        if address is None or served == address.encode():
            found.append(pid)
    return found


def stop_processes(pids, timeout=5.0):
    """SIGTERM each of this process's children in ``pids`` and reap it (SIGKILL if slow)."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for pid in pids:
        while True:
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # already reaped (by its Popen object)
                break
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                break
            time.sleep(0.01)


def stop_manager_of(app):
    """Stop the manager program ``app`` started, if it started one; return its pids."""
    from session_counter.strategies import get_strategies

    strategy = get_strategies(app).get("manager")
    if strategy is None:
        return []
    pids = manager_processes(strategy.address)
    stop_processes(pids)
    return pids
