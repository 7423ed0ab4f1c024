"""SQLite's WAL checkpoints in a thread of their own, off the requests' path.

In WAL mode every commit appends its pages to the write-ahead log, and the commit that finds
the log past `wal_autocheckpoint` pages (1,000) copies them back into the database file and
syncs it before it returns: one request in a few hundred pays for everyone's, a pause of
several milliseconds that is the slow tail of the API's write latency. Here a thread, on a
connection of its own, runs a PASSIVE checkpoint every `every_seconds`: it copies what no
reader still needs and never waits for a writer or blocks one. While it keeps up, the log
never reaches the threshold and no commit checkpoints; when it does not (a burst larger than
the interval's writes), the automatic checkpoint is still there, so the log stays bounded as
before. Durability is unchanged: `synchronous=NORMAL` in WAL mode syncs at checkpoints, which
still happen, only elsewhere.
"""

from __future__ import annotations

import sqlite3
import threading

from sqlalchemy.engine import Engine

from adapters.sqlalchemy.data_version import sqlite_file_of

#: How long a checkpoint may wait if SQLite is recovering its WAL index (it never waits on
#: writers: a PASSIVE checkpoint takes what it can and stops).
_BUSY_TIMEOUT_MS = 5_000
#: How long stopping waits for a checkpoint under way.
_STOP_TIMEOUT_SECONDS = 5.0


class WalCheckpointer:
    """PASSIVE checkpoints of one SQLite file, every `every_seconds`, in a daemon thread."""

    def __init__(self, path: str, every_seconds: float = 0.2) -> None:
        self._path = path
        self._every = every_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def checkpoint(self, connection: sqlite3.Connection) -> tuple[int, int, int]:
        """One PASSIVE checkpoint: (1 if it could not finish, frames in the log, frames
        copied back)."""
        busy, frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return int(busy), int(frames), int(copied)

    def start(self) -> None:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(
                target=self._run, name="sqlite-wal-checkpoint", daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread after its current checkpoint (no parameter: Litestar hands a
        shutdown hook that takes one the app)."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            thread.join(_STOP_TIMEOUT_SECONDS)

    def _run(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            connection.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            while not self._stopping.wait(self._every):
                try:
                    self.checkpoint(connection)
                except sqlite3.Error:
                    continue  # the next turn tries again; commits checkpoint meanwhile
        finally:
            connection.close()


def wal_checkpointer_of(engine: Engine) -> WalCheckpointer | None:
    """A checkpointer for the SQLite file behind `engine`; None for anything else."""
    path = sqlite_file_of(engine)
    return None if path is None else WalCheckpointer(path)
