"""Usage from a metering system's CSV export (ADR 0050, ADR 0051): `throughline import-delivery
usage FILE.csv` records each row, refuses the ones a usage record refuses with their line and
reason, and takes a recount as a correction that keeps the earlier revision. In this process,
on an in-memory database and on a migrated SQLite file."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.clock import SystemClock
from adapters.memory import SequentialIds
from adapters.sqlalchemy.database import Database as SqlDatabase
from application import commands as c
from application.context import RequestContext
from application.messagebus import MessageBus
from domain.ids import ContractId, CustomerId, EngagementId, LegalEntityId, ObligationId
from domain.money import Currency
from domain.usage import USAGE, UsageTerms, UsageTier
from entrypoints.cli.delivery_import import header_of
from entrypoints.composition.bootstrap import compose
from entrypoints.composition.database import MemoryDatabase
from entrypoints.composition.externals import Externals
from tests.e2e.cli_harness import InProcess, reset_container

SEED = RequestContext("j.moreau", "seed")
CONTRACT = ContractId("C-API")
# 0 to 100 calls at 1.00, then 0.80 a call; at least 150.00 a month.
TERMS = UsageTerms(
    ObligationId("api"),
    "API calls",
    Currency.of("EUR"),
    "calls",
    (
        UsageTier(Decimal(0), Decimal("1.00"), Decimal(100)),
        UsageTier(Decimal(100), Decimal("0.80")),
    ),
    date(2026, 3, 1),
    minimum_per_period=Decimal("150.00"),
)


def write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[InProcess, MessageBus]]:
    """The CLI in this process, and the bus, on a database with one usage contract."""
    if request.param == "memory":
        database = MemoryDatabase()
    else:
        database = SqlDatabase(f"sqlite:///{tmp_path / 'throughline.db'}")
        database.upgrade()
    bus = compose(database, SystemClock(), SequentialIds(), Externals())  # type: ignore[arg-type]
    customer = CustomerId("acme")
    bus.handle(c.ProposeEngagement(EngagementId("E-API"), customer, CONTRACT), SEED)
    bus.handle(
        c.RegisterContract(CONTRACT, customer, LegalEntityId("tl-uk"), "EUR", "API platform"), SEED
    )
    bus.handle(c.DraftContractVersion(CONTRACT, date(2026, 3, 1), (TERMS,)), SEED)
    bus.handle(c.ApproveContractVersion(CONTRACT, 1), SEED)
    runner = InProcess(database, tmp_path)  # type: ignore[arg-type]
    try:
        yield runner, bus
    finally:
        reset_container()
        if isinstance(database, SqlDatabase):
            database.dispose()


def test_imported_usage_is_recorded_row_by_row_and_a_recount_corrects_it(
    world: tuple[InProcess, MessageBus],
) -> None:
    cli, bus = world
    assert header_of(USAGE) == "record_id,obligation_id,occurred_on,quantity,unit,note"
    write(
        cli.workdir / "usage.csv",
        "record_id,obligation_id,occurred_on,quantity,unit,note",
        "u1,api,2026-03-04,60,calls,gateway eu-west",
        "u2,api,2026-03-20,50,calls,",
        "u3,api,2026-03-21,-5,calls,a negative count",
        "u4,api,2026-03-22,many,calls,",
    )
    first = cli("import-delivery", "usage", "usage.csv")
    assert first.code == 1, first.text  # some rows were rejected
    assert "4 rows · 2 accepted · 0 corrected · 0 duplicates (no change) · 2 rejected" in first.out
    rejected = first.out[first.out.index("Rejected rows") :]
    assert re.search(r"4\s+u3\s+invalid_usage_record", rejected)
    assert re.search(r"5\s+u4\s+invalid_field\s+column quantity", rejected)

    write(cli.workdir / "recount.csv", header_of(USAGE), "u2,api,2026-03-20,40,calls,recount")
    recount = cli("import-delivery", "usage", "recount.csv")
    assert recount.code == 0, recount.text
    assert "1 row · 0 accepted · 1 corrected · 0 duplicates (no change) · 0 rejected" in recount.out

    with bus.deps.uow(SEED, read_only=True) as uow:
        kept = [
            (r.revision, r.record.quantity) for r in uow.delivery_records.revisions("usage", "u2")
        ]
    # The recount is u2's second revision; the first stays as provenance.
    assert kept == [(1, Decimal(50)), (2, Decimal(40))]
