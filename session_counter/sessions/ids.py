"""Session ids are credentials: files, locks and logs name a session by a hash of its key.

Anyone who reads a session id can send it as a cookie and be that client, so an id
never goes to disk as a name or into a log line. The store key ("session:<id>") is
hashed with sha256: the full hex digest names the session's file (whose flock is its
lock), and its first 12 characters name the session in logs, so an operator can find the file
(``ls instance/sessions/<those 12>*``) but nobody can turn a log line back into a cookie.
"""

import hashlib

LOG_HASH_CHARS = 12  # 48 bits: enough to tell sessions apart in a log, useless as a cookie


def hashed_key(store_id):
    """Return the sha256 hex digest of a session's store key (its file's name)."""
    return hashlib.sha256(store_id.encode()).hexdigest()


def log_name(store_id):
    """Return how logs name the session stored under ``store_id``: 'session <short hash>'."""
    return f"session {hashed_key(store_id)[:LOG_HASH_CHARS]}"
