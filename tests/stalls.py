"""A process that takes a file's flock and stops (SIGSTOP), frozen server workers, and a
wait that gives up."""

import contextlib
import os
import signal
import subprocess
import sys
import threading

HOLD_AND_STOP = ("import fcntl, os, signal, sys; f = open(sys.argv[1], 'r+b'); "
                 "fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); "
                 "os.kill(os.getpid(), signal.SIGSTOP)")


def start_stalled_writer(path):
    """Start a process that holds LOCK_EX on ``path`` and stops, like a writer frozen
    mid-write; return it once it holds the lock (the caller kills it)."""
    process = subprocess.Popen([sys.executable, "-c", HOLD_AND_STOP, path],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "held\n"
    return process


def answer_within(seconds, request):
    """Run ``request()`` in a thread; return its answer, or None if it is still waiting."""
    answers = []
    thread = threading.Thread(target=lambda: answers.append(request()), daemon=True)
    thread.start()
    thread.join(seconds)
    return answers[0] if answers else None


@contextlib.contextmanager
def frozen(pids):
    """Stop (SIGSTOP) the worker processes ``pids`` for the block, then let them go on.

    A stopped gunicorn worker accepts no connection, so the next requests must be answered
    by the others: a test that needs a second process to answer makes it happen instead
    of hoping the kernel spreads the connections (it may give them all to one idle worker).
    Keep the block short: gunicorn replaces a worker silent for 30 s.
    """
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        go_on(pids)


def go_on(pids):
    """Let stopped processes ``pids`` go on (SIGCONT); one already gone is skipped."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)


@contextlib.contextmanager
def frozen_at_most(pids, seconds):
    """``frozen(pids)``, but they go on after ``seconds`` even if the block still runs.

    For a browser: it may hold a connection that a now stopped worker accepted before (a
    preconnect), and a page load on it would wait for that worker; bounded, it is served
    late (by that worker) instead of never.
    """
    thaw = threading.Timer(seconds, go_on, args=(list(pids),))
    with frozen(pids):
        thaw.start()
        try:
            yield
        finally:
            thaw.cancel()
