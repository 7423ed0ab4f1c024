"""SQLite's WAL is checkpointed by a thread of the API process (wal_checkpoint.py), so no
request's commit has to: a PASSIVE checkpoint copies the log back without waiting for anyone,
and the thread starts and stops with the server."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa

from adapters.sqlalchemy.wal_checkpoint import WalCheckpointer, wal_checkpointer_of


def _wal_database(path: Path) -> sqlite3.Connection:
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")  # only the checkpointer copies the log back
    writer.execute("CREATE TABLE entries (id INTEGER PRIMARY KEY, note TEXT)")
    return writer


def test_a_passive_checkpoint_copies_back_what_the_commits_wrote_to_the_log(
    tmp_path: Path,
) -> None:
    path = tmp_path / "books.db"
    writer = _wal_database(path)
    writer.executemany("INSERT INTO entries (note) VALUES (?)", [("x" * 500,)] * 200)
    checkpointer = WalCheckpointer(str(path))
    own = sqlite3.connect(path, isolation_level=None)
    busy, frames, copied = checkpointer.checkpoint(own)
    assert (busy, copied) == (0, frames)
    assert frames > 0
    reader = sqlite3.connect(path)
    assert reader.execute("SELECT count(*) FROM entries").fetchone() == (200,)
    for connection in (own, reader, writer):
        connection.close()


def test_a_checkpoint_does_not_wait_for_a_reader_holding_an_older_snapshot(
    tmp_path: Path,
) -> None:
    path = tmp_path / "books.db"
    writer = _wal_database(path)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM entries").fetchone() == (0,)  # its snapshot
    writer.executemany("INSERT INTO entries (note) VALUES (?)", [("y",)] * 50)
    own = sqlite3.connect(path, isolation_level=None)
    _, frames, copied = WalCheckpointer(str(path)).checkpoint(own)
    assert copied < frames  # what the reader may still need stays in the log
    reader.execute("COMMIT")
    for connection in (own, reader, writer):
        connection.close()


def test_the_thread_starts_and_stops_with_the_server(tmp_path: Path) -> None:
    path = tmp_path / "books.db"
    _wal_database(path).close()
    checkpointer = WalCheckpointer(str(path), every_seconds=0.01)
    checkpointer.start()
    checkpointer.start()  # once only
    thread = checkpointer._thread
    assert thread is not None
    assert thread.is_alive()
    checkpointer.stop()
    assert not thread.is_alive()


def test_only_a_sqlite_file_gets_a_checkpointer(tmp_path: Path) -> None:
    file_engine = sa.create_engine(f"sqlite:///{tmp_path / 'books.db'}")
    assert wal_checkpointer_of(file_engine) is not None
    assert wal_checkpointer_of(sa.create_engine("sqlite://")) is None
    postgres = sa.create_engine("postgresql+psycopg://u:p@localhost/db")
    assert wal_checkpointer_of(postgres) is None
