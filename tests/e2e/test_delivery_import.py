"""`throughline import-delivery KIND FILE.csv` (ADR 0050): a CSV file of a declared delivery
kind's records (the test-only kind of tests/support/metered.py), each row accepted, corrected,
a duplicate or rejected with its line, column and reason; a second import changes nothing.
In this process, on an in-memory database and on a migrated SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from domain.ids import ObligationId
from domain.money import Currency
from entrypoints.cli.delivery_import import DeliveryFileError, header_of, read_delivery_file
from tests.e2e.cli_harness import InProcess, OneContract, cli_with_contract, write
from tests.support.metered import UNITS, MeteredTerms

HEADER = header_of(UNITS)


METERING = OneContract(
    "E-MTR",
    "C-MTR",
    "Metering",
    date(2026, 1, 1),
    MeteredTerms(ObligationId("metered"), "API calls", Currency.of("EUR"), Decimal("2.50")),
)


@pytest.fixture(params=["memory", "sqlite"])
def cli(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[InProcess]:
    """The CLI in this process, on a database with one metered contract (units at 2.50)."""
    with cli_with_contract(request.param, tmp_path, METERING) as (runner, _):
        yield runner


def test_import_delivery_reports_every_row_and_a_second_import_changes_nothing(
    cli: InProcess,
) -> None:
    write(
        cli.workdir / "units.csv",
        "units,occurred_on,record_id,obligation_id",
        "3,2026-03-02,m1,metered",
        "4,2026-03-03,m2,metered",
        "3,2026-03-02,m1,metered",
        "lots,2026-03-04,m3,metered",
        "-2,2026-03-04,m4,metered",
        "1,2026-03-05,m5,nowhere",
    )
    first = cli("import-delivery", "test_units", "units.csv")
    first.refused_rows(
        "6 rows · 2 accepted · 0 corrected · 1 duplicate (no change) · 3 rejected",
        ("5", "m3", "invalid_field", "column units"),
        ("6", "m4", "negative_units"),
        ("7", "m5", "unknown_obligation"),
    )
    again = cli("import-delivery", "test_units", "units.csv")
    assert "6 rows · 0 accepted · 0 corrected · 3 duplicates (no change) · 3 rejected" in again.out
    write(cli.workdir / "fix.csv", HEADER, "m2,metered,2026-03-03,5,recount")
    fixed = cli("import-delivery", "test_units", "fix.csv")
    assert fixed.code == 0, fixed.text
    assert "1 row · 0 accepted · 1 corrected · 0 duplicates (no change) · 0 rejected" in fixed.out


def test_an_unknown_kind_or_an_unusable_file_is_refused_with_exit_2(cli: InProcess) -> None:
    write(cli.workdir / "units.csv", "record_id,colour", "m1,red")
    unknown_kind = cli("import-delivery", "nope", "units.csv")
    unusable = cli("import-delivery", "test_units", "units.csv")
    assert (unknown_kind.code, unusable.code) == (2, 2)
    assert "test_units" in unknown_kind.err
    assert "missing column(s) obligation_id, occurred_on, units" in unusable.err
    assert "unknown column(s) colour" in unusable.err


def test_the_header_is_the_record_class_fields_and_cells_are_read_as_their_types(
    tmp_path: Path,
) -> None:
    path = write(
        tmp_path / "units.csv", HEADER, "m1,metered,2026-03-02,3,", "m2,metered,2026-03-02,4,night"
    )
    parsed = read_delivery_file(UNITS, path)
    assert HEADER == "record_id,obligation_id,occurred_on,units,note"
    assert [(r.line, r.record.units, r.record.note) for r in parsed.rows] == [
        (2, 3, ""),
        (3, 4, "night"),
    ]
    with pytest.raises(DeliveryFileError, match="has a header but no rows"):
        read_delivery_file(UNITS, write(tmp_path / "empty.csv", HEADER))
