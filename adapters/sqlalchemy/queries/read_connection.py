"""One read: a connection whose transaction only reads (on SQLite a deferred `BEGIN`, so a
question never queues behind the writer), closed when the answer is built."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection, Engine

from adapters.sqlalchemy.unit_of_work import READ_ONLY


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A read-only connection for the statements of one question."""
    with engine.connect().execution_options(**{READ_ONLY: True}) as connection:
        yield connection
