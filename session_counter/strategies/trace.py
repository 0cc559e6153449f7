"""The trace of one increment, asked for by a request header: when it read, what, when it wrote.

A request that sends ``X-Race-Trace: 1`` gets, in its JSON answer, a ``trace``: the
times (``time.monotonic()``, one clock for every process of a machine) at which its
increment read the shared value and wrote the next one, the values, when it answered,
and its pid and thread. Without the header nothing is recorded: each mark costs one
ContextVar lookup that finds None.
"""

import contextvars
import os
import threading
import time
from contextlib import contextmanager

TRACE_HEADER = "X-Race-Trace"
FIELDS = ("read_at", "read_value", "wrote_at", "wrote_value", "answered_at", "pid", "thread")

# A contextvar, not a thread-local: each gevent greenlet and each thread has its own.
_current = contextvars.ContextVar("increment_trace", default=None)


class IncrementTrace:
    """The read and write points of one increment (the last attempt's, after retries)."""

    __slots__ = ("read_at", "read_value", "wrote_at", "wrote_value")

    def __init__(self):
        self.read_at = self.read_value = self.wrote_at = self.wrote_value = None

    def as_dict(self, answered_at=None):
        """Return the JSON trace, with when the answer was made and who made it."""
        return {"read_at": self.read_at, "read_value": self.read_value,
                "wrote_at": self.wrote_at, "wrote_value": self.wrote_value,
                "answered_at": time.monotonic() if answered_at is None else answered_at,
                "pid": os.getpid(), "thread": threading.current_thread().name}


def asked_for(headers):
    """Tell whether a request's headers ask for a trace."""
    return headers.get(TRACE_HEADER, "").strip() in ("1", "true", "yes")


@contextmanager
def recording_if_asked(headers):
    """Record a trace (yielded) when ``headers`` ask for one; else yield None, record nothing."""
    if not asked_for(headers):
        yield None
        return
    with recording() as trace:
        yield trace


def answer_fields(trace):
    """Return the JSON answer's extra fields: {"trace": ...} when traced, else nothing."""
    return {} if trace is None else {"trace": trace.as_dict()}


@contextmanager
def recording():
    """Record the marks made inside the block into a new IncrementTrace (yielded)."""
    trace = IncrementTrace()
    token = _current.set(trace)
    try:
        yield trace
    finally:
        _current.reset(token)


def tracing():
    """Tell whether this request is being traced."""
    return _current.get() is not None


def mark_read(value):
    """Record that the increment read ``value`` now; return it."""
    trace = _current.get()
    if trace is not None:
        trace.read_at, trace.read_value = time.monotonic(), value
    return value


def mark_wrote(value):
    """Record that the increment's write of ``value`` landed now; return it."""
    trace = _current.get()
    if trace is not None:
        trace.wrote_at, trace.wrote_value = time.monotonic(), value
    return value


def mark_atomic(value):
    """Record one indivisible read-add-write that produced ``value``: one point in time.

    The store added one to ``value - 1`` and wrote ``value`` in a single step, so the
    read and the write share a time (read_at == wrote_at).
    """
    trace = _current.get()
    if trace is not None:
        now = time.monotonic()
        trace.read_at, trace.read_value = now, value - 1
        trace.wrote_at, trace.wrote_value = now, value
    return value
