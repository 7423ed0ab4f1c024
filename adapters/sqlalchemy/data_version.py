"""A cheap token that changes whenever a write is committed to the database, by any process:
what lets a read keep its answer until the data under it changes.

SQLite has one: `PRAGMA data_version` on a connection changes whenever another connection (of
this process or another) has committed since the connection last asked. A connection kept
for this alone, which never writes, therefore sees every commit. Asking reads the WAL index
in shared memory: a few microseconds, no lock taken that a writer waits for.

PostgreSQL has none as cheap (a snapshot's text would do, at a round trip per request, the
cost of the read it would save): there the token is None and nothing is kept.

The order matters to whoever keeps an answer: take the token *before* reading, and keep the
answer under that token. A commit that lands between the two changes the token, so the next
request reads again; an answer is never kept under a token older than a commit it misses.
"""

from __future__ import annotations

import sqlite3
import threading

from sqlalchemy.engine import Engine

#: How long asking may wait if SQLite is recovering its WAL index (it never waits on writers).
_BUSY_TIMEOUT_MS = 5_000


class SqliteDataVersion:
    """`PRAGMA data_version` on a connection of its own to the database file."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None

    def __call__(self) -> int:
        with self._lock:
            if self._connection is None:
                self._connection = sqlite3.connect(
                    self._path, isolation_level=None, check_same_thread=False
                )
                self._connection.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            (version,) = self._connection.execute("PRAGMA data_version").fetchone()
            return int(version)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


def data_version_of(engine: Engine) -> SqliteDataVersion | None:
    """The data version of the database behind `engine`: SQLite files only (an in-memory
    SQLite database is private to one connection; PostgreSQL has no cheap one)."""
    path = sqlite_file_of(engine)
    return None if path is None else SqliteDataVersion(path)


def sqlite_file_of(engine: Engine) -> str | None:
    """The SQLite file behind `engine`, which another connection of its own can open; None
    for PostgreSQL and for an in-memory or URI-named SQLite database."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.database.startswith("file:"):  # a URI: shared memory or options we do not parse
        return None
    return url.database
