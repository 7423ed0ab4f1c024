"""A throwaway PostgreSQL database per benchmark run, on the server CI prepared."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg


@contextmanager
def fresh_database(url: str, template: str | None = None) -> Iterator[str]:
    """Create an empty database next to the one in `url` (a copy of the database named
    `template` when given); drop it afterwards."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = url.replace("postgresql+psycopg://", "postgresql://")
    copy = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    base, _, _ = url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        _drop(admin, name)


#: An autovacuum worker may still be in the new database when the benchmark ends: FORCE
#: cannot end a superuser's session for an ordinary role, so the drop waits for it to leave.
DROP_ATTEMPTS = 20


def _drop(admin: str, name: str) -> None:
    for attempt in range(DROP_ATTEMPTS):
        try:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except (psycopg.errors.InsufficientPrivilege, psycopg.errors.ObjectInUse):
            if attempt == DROP_ATTEMPTS - 1:
                raise
            time.sleep(0.25 * (attempt + 1))
