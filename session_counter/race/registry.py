"""Race ids: issued by the server, at most RACE_MAX_LIVE live at once, each expiring.

A race started from the page counts in counters of its own (strategies/namespaces.py),
named by the id issued here. Every worker process of a server reads the same registry,
a SQLite file in the instance folder, so an id issued by one is known to all. When a race
finishes its counters are dropped at once. The row of an ended race (finished or expired)
stays GRACE seconds more; then the next start or finish drops its counters (again, for a
finished one: a request checked just before the end may still have written one).
"""

import logging
import os
import secrets
import sqlite3
import threading
import time

from werkzeug.exceptions import BadRequest, Gone, NotFound, TooManyRequests

from ..errors import StoreUnavailable
from ..strategies.namespaces import RACE_ID, is_race_id

log = logging.getLogger(__name__)

FILE = "races.sqlite"  # in the instance folder
GRACE = 30.0  # seconds an ended race's row stays: longer than any request takes
CLEAN_TRIES = 3  # sweeps that try to drop an ended race's counters before giving up
KEEP_IDLE = 8  # idle registry connections one process keeps
SCHEMA = """
CREATE TABLE IF NOT EXISTS races (id TEXT PRIMARY KEY, started REAL NOT NULL,
    expires REAL NOT NULL, tries INTEGER NOT NULL DEFAULT 0);
"""


class Registry:
    """The races of one instance folder: start, check, finish, and the sweep of ended ones."""

    def __init__(self, path, strategies, max_live, lifetime, clock=time.time):
        """``strategies()`` returns {name: strategy}, whose counters each race gets."""
        self.path, self.strategies = path, strategies
        self.max_live, self.lifetime, self.clock = max_live, lifetime, clock
        self.grace = GRACE
        # Idle connections of this process, lent one per call: a connection per thread
        # would be one per request where each request has a thread or greenlet of its
        # own (the dev server, gevent), each opened and its schema run again (~0.1 ms).
        self._idle, self._pid = [], None
        self._guard = threading.Lock()

    def _take(self):
        """Return an idle connection of this process, or a new one (none survive a fork)."""
        with self._guard:
            if self._pid != os.getpid():
                self._idle, self._pid = [], os.getpid()
            if self._idle:
                return self._idle.pop()
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                               check_same_thread=False)
        try:
            conn.executescript(SCHEMA)
        except BaseException:
            conn.close()
            raise
        return conn

    def _give_back(self, conn):
        """Keep a connection for the next call (at most KEEP_IDLE of them), else close it."""
        with self._guard:
            if self._pid == os.getpid() and len(self._idle) < KEEP_IDLE:
                self._idle.append(conn)
                return
        conn.close()

    def _run(self, work, write=False):
        """Return ``work(conn)`` in one transaction (BEGIN IMMEDIATE to write); 503 on failure."""
        try:
            conn = self._take()
        except sqlite3.Error as error:
            raise StoreUnavailable(f"the race registry {self.path} failed: {error}") from error
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                result = work(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                self._give_back(conn)  # rolled back: as good as new
                conn = None
                raise
            conn.execute("COMMIT")
        except sqlite3.Error as error:
            if conn is not None:  # in an unknown state: never lent again
                conn.close()
            self._drop_idle()  # the file may be damaged or gone: open it afresh next time
            raise StoreUnavailable(f"the race registry {self.path} failed: {error}") from error
        self._give_back(conn)
        return result

    def _drop_idle(self):
        """Close this process's idle connections (they may hold a deleted file open)."""
        with self._guard:
            idle, self._idle = (self._idle if self._pid == os.getpid() else []), []
        for conn in idle:
            conn.close()

    def start(self):
        """Issue a fresh race id and make its counters at 0; 429 when K races are live."""
        self.sweep()
        race, now = secrets.token_hex(16), self.clock()

        def insert(conn):
            live = conn.execute("SELECT expires FROM races WHERE expires > ? ORDER BY expires",
                                (now,)).fetchall()
            if len(live) >= self.max_live:
                wait = max(1, int(live[0][0] - now) + 1)
                error = TooManyRequests(
                    f"{len(live)} races are running on this server, the most it runs at "
                    f"once (RACE_MAX_LIVE); the next ends in at most {wait} s: try again then.",
                    retry_after=wait)
                error.extra = {"retry_after": wait}
                raise error
            conn.execute("INSERT INTO races (id, started, expires) VALUES (?, ?, ?)",
                         (race, now, now + self.lifetime))

        self._run(insert, write=True)
        unavailable = {}
        for name, strategy in self.strategies().items():
            try:
                strategy.reset(race)
            except StoreUnavailable as error:  # that strategy answers 503 in this race
                unavailable[name] = str(error)
        return {"race": race, "expires_in": self.lifetime, "max_live": self.max_live,
                "unavailable": unavailable}

    def check(self, race):
        """Return ``race`` if it is live; else a 400 (not an id), 404 (unknown) or 410 (ended)."""
        if not is_race_id(race):
            shown = race if len(race) <= 40 else race[:40] + "..."
            raise BadRequest(f"{shown!r} is not a race id ({RACE_ID.pattern}, as POST "
                             "/api/race/start issues them)")
        row = self._run(lambda conn: conn.execute("SELECT expires FROM races WHERE id = ?",
                                                  (race,)).fetchone())
        if row is None:
            raise NotFound("no race has this id on this server (never issued, or ended "
                           "long ago): start one with POST /api/race/start")
        if row[0] <= self.clock():
            raise Gone("this race has ended (finished, or older than RACE_LIFETIME); its "
                       "counters are dropped: start another with POST /api/race/start")
        return race

    def finish(self, race):
        """End a live race now and drop its counters; its row stays GRACE seconds more."""
        self.check(race)
        self._run(lambda conn: conn.execute("UPDATE races SET expires = ? WHERE id = ?",
                                            (self.clock(), race)), write=True)
        failed = self.forget(race)
        self.sweep()
        return {"race": race, "finished": True, "not_dropped": failed}

    def live_ids(self):
        """Return the set of ids of the races running now."""
        return {row[0] for row in self._run(lambda conn: conn.execute(
            "SELECT id FROM races WHERE expires > ?", (self.clock(),)).fetchall())}

    def forget(self, race):
        """Drop a race's counters in every strategy; return {name: error} of those that failed."""
        failed = {}
        for name, strategy in self.strategies().items():
            try:
                strategy.forget(race)
            except StoreUnavailable as error:
                failed[name] = str(error)
        return failed

    def sweep(self):
        """Drop the counters and rows of races ended more than GRACE seconds ago."""
        ended = self._run(lambda conn: conn.execute(
            "SELECT id, tries FROM races WHERE expires <= ?",
            (self.clock() - self.grace,)).fetchall())
        for race, tries in ended:
            failed = self.forget(race)
            if failed and tries + 1 < CLEAN_TRIES:  # a store is down: try again next sweep
                self._run(lambda conn, race=race: conn.execute(
                    "UPDATE races SET tries = tries + 1 WHERE id = ?", (race,)), write=True)
                continue
            if failed:
                log.warning("race %s: counters left in %s after %d tries", race[:8],
                            ", ".join(sorted(failed)), CLEAN_TRIES)
            self._run(lambda conn, race=race: conn.execute(
                "DELETE FROM races WHERE id = ?", (race,)), write=True)


def init_app(app):
    """Make the app's race registry (its file is opened by the first request that needs it)."""
    app.extensions["race_registry"] = Registry(
        os.path.join(app.instance_path, FILE),
        lambda: app.extensions["counter_strategies"],
        app.config["RACE_MAX_LIVE"], app.config["RACE_LIFETIME"])


def registry_of(app):
    """Return the app's race registry."""
    return app.extensions["race_registry"]
