"""Usage from a metering system's CSV export (ADR 0050, ADR 0051): `throughline import-delivery
usage FILE.csv` records each row, refuses the ones a usage record refuses with their line and
reason, and takes a recount as a correction that keeps the earlier revision. In this process,
on an in-memory database and on a migrated SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from application.context import RequestContext
from application.messagebus import MessageBus
from domain.ids import ContractId, ObligationId
from domain.money import Currency
from domain.usage import USAGE, UsageTerms, UsageTier
from entrypoints.cli.delivery_import import header_of
from tests.e2e.cli_harness import InProcess, OneContract, cli_with_contract, write

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


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[InProcess, MessageBus]]:
    """The CLI in this process, and the bus, on a database with one usage contract."""
    seeded = OneContract("E-API", CONTRACT, "API platform", date(2026, 3, 1), TERMS)
    with cli_with_contract(request.param, tmp_path, seeded) as world:
        yield world


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
    first.refused_rows(
        "4 rows · 2 accepted · 0 corrected · 0 duplicates (no change) · 2 rejected",
        ("4", "u3", "invalid_usage_record"),
        ("5", "u4", "invalid_field", "column quantity"),
    )

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
