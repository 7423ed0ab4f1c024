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


def _pause_before_commit(connection: Any) -> None:
    """Everything is written in the transaction; say how much, then wait for the kill."""
    ledger = connection.exec_driver_sql("SELECT count(*) FROM ledger_entries").scalar()
    entries = connection.exec_driver_sql("SELECT count(*) FROM time_entries").scalar()
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
