"""A process that does a workload and stops inside its transaction, just before the commit,
and waits there to be killed (see test_faults). Run as
`python -m tests.integration.crash_child billing|import DATABASE_URL`.
"""

from __future__ import annotations

import sys
import time
from datetime import date
from typing import Any

from sqlalchemy import event

from adapters.sqlalchemy.database import Database
from application import commands as c
from domain.period import Period
from tests.integration.support import build_app
from tests.unit.application.conftest import time_entry

MARCH = Period.month(2026, 3)
IMPORT_SIZE = 200


def import_batch() -> c.RecordTimeEntries:
    entries = (
        time_entry(f"imp-{n:04d}", date(2026, 3, 1 + n % 28), "1") for n in range(IMPORT_SIZE)
    )
    return c.RecordTimeEntries(tuple(entries))


def _count(connection: Any, table: str) -> int:
    """Read through the driver: on PostgreSQL the commit is about to be queued behind the
    audit chain's append in the driver's pipeline (ADR 0065), where the driver waits for a
    reply and SQLAlchemy's result would not."""
    cursor = connection.connection.driver_connection.execute(f"SELECT count(*) FROM {table}")
    return int(cursor.fetchone()[0])


def _pause_before_commit(connection: Any) -> None:
    """Everything is written in the transaction; say how much, then wait for the kill."""
    ledger = _count(connection, "ledger_entries")
    entries = _count(connection, "time_entries")
    print(f"paused ledger={ledger} time_entries={entries}", flush=True)
    time.sleep(300)


def main(workload: str, url: str) -> None:
    database = Database(url)
    app = build_app(database)
    event.listen(database.engine, "commit", _pause_before_commit)
    if workload == "billing":
        app.do(c.RunBilling(MARCH, dry_run=False), actor="billing-clerk")
    else:
        app.do(import_batch(), actor="psa-import")
    print("committed", flush=True)  # never reached: the test kills the process first


if __name__ == "__main__":
    main(*sys.argv[1:3])
