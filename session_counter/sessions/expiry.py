"""Session files by expiry time, in SQLite: a sweep finds the due ones without reading the folder.

Each new session file is recorded with its expiry (one INSERT). A rewrite that extends
a session is not recorded, so writes stay one pwrite: when the sweep finds an entry
due whose file was extended, it files it again under the file's own expiry. Files the
index does not know (written by an older version, or whose INSERT failed) are found by
the sweep's slow walk through the folder. Every wait is short: an index that is busy
or broken is logged and skipped, it never fails a request.
"""

import logging
import os
import sqlite3
import threading

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS expiry (name TEXT PRIMARY KEY, expires INTEGER NOT NULL)
    WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS by_expiry ON expiry (expires);
"""


class ExpiryIndex:
    """Session file names by expiry time, shared by every process on this machine."""

    def __init__(self, path, timeout=0.2):
        """Keep the index in the SQLite file ``path``; wait at most ``timeout`` s for it."""
        self.path = path
        self.timeout = timeout
        # One connection per process, used by one thread at a time: a connection per
        # thread would be one per request under gevent, where threads are greenlets.
        self._lock = threading.Lock()
        self._db, self._pid = None, None

    def add(self, name, expires):
        """Record a new session file; a failure is logged (the walk finds the file later)."""
        try:
            with self._lock:
                self._connection().execute("INSERT OR REPLACE INTO expiry VALUES (?, ?)",
                                           (name, expires))
        except sqlite3.Error as error:
            log.warning("could not record session file %s in %s (%s); the sweep's walk "
                        "will find it", name[:12], self.path, error)

    def due(self, now, limit):
        """Return up to ``limit`` names whose recorded expiry is before ``now``, oldest first."""
        with self._lock:
            rows = self._connection().execute(
                "SELECT name FROM expiry WHERE expires < ? ORDER BY expires LIMIT ?",
                (now, limit)).fetchall()
        return [name for (name,) in rows]

    def settle(self, gone, refile):
        """Forget the ``gone`` names; file each name in ``refile`` under its new expiry."""
        with self._lock:
            db = self._connection()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("DELETE FROM expiry WHERE name = ?", [(name,) for name in gone])
                db.executemany("UPDATE expiry SET expires = ? WHERE name = ?",
                               [(expires, name) for name, expires in refile.items()])
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _connection(self):
        """Return this process's connection (a new one after a fork); hold self._lock."""
        if self._pid != os.getpid():
            db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None,
                                 check_same_thread=False)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")  # an index entry lost in a crash
                db.executescript(SCHEMA)  # is found by the walk
            except sqlite3.Error:
                db.close()
                raise
            self._db, self._pid = db, os.getpid()
        return self._db
