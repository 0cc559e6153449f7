"""Write session files the way the store does, with an expiry or content a test chooses."""

import time

import msgspec

from session_counter.sessions.file_store import HEADER, MAGIC


def file_bytes(session, expires=0):
    """Return the bytes of a session file holding ``session`` until ``expires``.

    ``session`` may be any value, a list for instance, to write a damaged session.
    """
    body = msgspec.msgpack.encode(session)
    return HEADER.pack(MAGIC, expires, len(body)) + body


def write_session_file(path, session, expires=0):
    """Replace the file at ``path`` with one holding ``session`` until ``expires``."""
    with open(path, "wb") as f:
        f.write(file_bytes(session, expires))


def age_session_file(path, seconds_ago):
    """Rewrite a session file's expiry to ``seconds_ago`` in the past, keeping its body."""
    with open(path, "r+b") as f:
        data = f.read()
        f.seek(0)
        f.write(HEADER.pack(MAGIC, int(time.time()) - seconds_ago,
                            HEADER.unpack_from(data)[2]))
