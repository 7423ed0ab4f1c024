"""The four reference scenarios (domain guide, section 9) exported the way a finance team would
(ADR 0039): loaded once through the real application into a SQLite file, then exported with
the real `throughline export` command and over HTTP. The Beancount file passes the real
`bean-check`, the balances Beancount computes equal our trial balance exactly for the whole
range and for each legal entity, and the CSV read back balances per entry and sums to the same
trial balance. The command and the route give the same bytes.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest

from adapters.ledger_export.beancount_file import render_beancount
from adapters.ledger_export.journal_csv import DIMENSION_COLUMNS, LINE_COLUMNS, render_csv
from adapters.memory import FakeClock
from adapters.sqlalchemy.database import Database
from application.context import RequestContext
from application.journal_export import JournalExport, entries_to_export
from application.records import PostedEntry
from application.unit_of_work import UnitOfWork
from domain.period import Period
from entrypoints.composition.database import reader
from entrypoints.demo.firm import MONTH_ENDS
from entrypoints.demo.loader import load_reference_scenarios
from tests.e2e.cli_harness import InProcess, Subprocess, copy_sqlite
from tests.e2e.http.sql_harness import running_sql_api
from tests.support.export_checks import (
    Balances,
    bean_check,
    beancount_balances,
    check_csv,
    check_ledger,
    csv_balances,
    csv_rows,
    trial_balances,
)

pytestmark = pytest.mark.slow

ENTITIES = ("HR-FR", "HR-US")
FIRST, LAST = MONTH_ENDS[0], MONTH_ENDS[-1]
ALL = JournalExport.months(FIRST, LAST)
READER = RequestContext("finance", "export-scenarios")


@attrs.frozen
class Scenarios:
    """The SQLite file the reference scenarios were loaded into, and its posted journal."""

    path: Path
    database: Database
    entries: tuple[PostedEntry, ...]

    def read(self) -> UnitOfWork:
        """A read-only unit of work on the database."""
        return reader(self.database, FakeClock(datetime(2026, 7, 1, tzinfo=UTC)))(READER)


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenarios]:
    path = tmp_path_factory.mktemp("scenarios") / "throughline.db"
    database = Database(f"sqlite:///{path}")
    try:
        database.upgrade()
        load_reference_scenarios(database)
        with Scenarios(path, database, ()).read() as uow:
            entries = tuple(entries_to_export(uow, ALL))
        yield Scenarios(path, database, entries)
    finally:
        database.dispose()


def expected(scenarios: Scenarios, export: JournalExport, entities: tuple[str, ...]) -> Balances:
    """Our trial balance of the legal entities over the export's range."""
    with scenarios.read() as uow:
        return trial_balances(uow, export, entities)


def test_the_scenarios_posted_entries_of_both_legal_entities_and_currencies(
    scenarios: Scenarios,
) -> None:
    assert len(scenarios.entries) >= 40
    assert {e.legal_entity_id for e in scenarios.entries} == set(ENTITIES)
    assert {e.payload["currency"] for e in scenarios.entries} == {"EUR", "USD"}


def test_bean_check_accepts_the_scenarios_export(scenarios: Scenarios, tmp_path: Path) -> None:
    bean_check(render_beancount(ALL, scenarios.entries), tmp_path)


def test_beancount_balances_equal_the_trial_balance_exactly(scenarios: Scenarios) -> None:
    balances = beancount_balances(render_beancount(ALL, scenarios.entries))
    assert balances == expected(scenarios, ALL, ENTITIES)
    assert any(currency == "USD" for _account, currency in balances)


@pytest.mark.parametrize("entity", ENTITIES)
@pytest.mark.parametrize(("first", "last"), [(FIRST, LAST), (Period.month(2026, 3), LAST)])
def test_one_legal_entitys_export_checks_and_equals_its_trial_balance(
    scenarios: Scenarios, entity: str, first: Period, last: Period, tmp_path: Path
) -> None:
    export = JournalExport.months(first, last, entity)
    with scenarios.read() as uow:
        chosen = entries_to_export(uow, export)
    assert chosen
    check_ledger(render_beancount(export, chosen), expected(scenarios, export, (entity,)), tmp_path)


def test_the_csv_balances_per_entry_and_equals_the_trial_balance(scenarios: Scenarios) -> None:
    all_balances = expected(scenarios, ALL, ENTITIES)
    rows = check_csv(render_csv(scenarios.entries), scenarios.entries, all_balances)
    sources = {row["source_document"] for row in rows}
    assert {e.source_document for e in scenarios.entries} == sources


# Through the real command and the real app ---------------------------------------------------


@pytest.fixture
def throughline(scenarios: Scenarios, tmp_path: Path) -> Subprocess:
    """`throughline` on a copy of the scenarios' database."""
    copy = tmp_path / "throughline.db"
    copy_sqlite(scenarios.path, copy)
    return Subprocess(f"sqlite:///{copy}", tmp_path)


def test_the_beancount_command_writes_a_file_bean_check_accepts(
    throughline: Subprocess, scenarios: Scenarios, tmp_path: Path
) -> None:
    target = tmp_path / "books.beancount"
    done = throughline(
        "export", "beancount", "--from", FIRST.key, "--to", LAST.key, "-o", str(target)
    )
    assert done.code == 0, done.text
    assert done.out == ""
    assert f"Wrote {len(scenarios.entries)} journal entries" in done.err
    text = target.read_text(encoding="utf-8")
    assert text == render_beancount(ALL, scenarios.entries)
    check_ledger(text, expected(scenarios, ALL, ENTITIES), tmp_path)


def test_the_csv_command_writes_to_standard_output_for_one_legal_entity(
    throughline: Subprocess, scenarios: Scenarios
) -> None:
    done = throughline(
        "export", "csv", "--from", "2026-03", "--to", "2026-06", "--legal-entity", "HR-US"
    )
    assert done.code == 0, done.text
    rows = csv_rows(done.out)
    assert rows
    assert {row["legal_entity_id"] for row in rows} == {"HR-US"}
    assert {row["currency"] for row in rows} == {"USD"}
    export = JournalExport.months(Period.month(2026, 3), LAST, "HR-US")
    assert csv_balances(rows) == expected(scenarios, export, ("HR-US",))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "2026-13", "--to", "2026-06"), "'2026-13' is not a month"),
        (("--from", "March", "--to", "2026-06"), "'March' is not a month"),
        (("--from", "2026-06", "--to", "2026-01"), "first month comes after the last"),
        (("--from", "2026-01", "--to", "2026-06", "--legal-entity", " "), "cannot be empty"),
    ],
)
@pytest.mark.parametrize("kind", ["beancount", "csv"])
def test_a_bad_month_or_a_backwards_range_exits_2_with_a_clear_message(
    memory_cli: InProcess, kind: str, args: tuple[str, ...], message: str
) -> None:
    done = memory_cli("export", kind, *args)
    assert done.code == 2, done.text
    assert message in done.err
    assert done.out == ""


def test_an_empty_range_of_an_empty_journal_is_a_header_or_an_empty_ledger(
    memory_cli: InProcess, tmp_path: Path
) -> None:
    ledger = memory_cli("export", "beancount", "--from", "2026-01", "--to", "2026-01")
    assert ledger.code == 0, ledger.text
    bean_check(ledger.out, tmp_path)
    table = memory_cli("export", "csv", "--from", "2026-01", "--to", "2026-01")
    assert table.code == 0, table.text
    assert table.out.splitlines() == [",".join((*LINE_COLUMNS, *DIMENSION_COLUMNS))]


def test_the_demo_says_where_to_fetch_its_journal_as_a_file(memory_cli: InProcess) -> None:
    done = memory_cli("demo")
    assert done.code == 0, done.text
    assert (
        "The journal as a Beancount ledger: throughline export beancount --from 2026-01 "
        "--to 2026-06 (or csv), or GET /journal-entries/export?format=beancount&from=2026-01"
        "&to=2026-06"
    ) in done.out
    ledger = memory_cli("export", "beancount", "--from", "2026-01", "--to", "2026-06")
    assert ledger.code == 0, ledger.text
    assert beancount_balances(ledger.out)


def test_the_export_commands_say_what_they_write_in_their_help(memory_cli: InProcess) -> None:
    done = memory_cli("export", "--help")
    assert done.code == 0, done.text
    assert "beancount" in done.out
    assert "csv" in done.out
    for kind in ("beancount", "csv"):
        helped = memory_cli("export", kind, "--help")
        assert helped.code == 0, helped.text
        for option in ("--from", "--to", "--legal-entity", "--output"):
            assert option in helped.out


def test_the_route_answers_the_same_bytes_as_the_command(
    throughline: Subprocess, scenarios: Scenarios, tmp_path: Path
) -> None:
    months = {"from": FIRST.key, "to": LAST.key, "legal_entity_id": "HR-FR"}
    with running_sql_api(scenarios.database) as api:
        for kind in ("beancount", "csv"):
            answer = api.get("/journal-entries/export", who="auditor", format=kind, **months)
            assert answer.status_code == 200, answer.text
            target = tmp_path / f"export.{kind}"
            done = throughline(
                "export", kind, "--from", FIRST.key, "--to", LAST.key, "--legal-entity", "HR-FR",
                "--output", str(target),
            )  # fmt: skip
            assert done.code == 0, done.text
            assert answer.content == target.read_bytes()
            assert answer.headers["content-disposition"] == (
                f'attachment; filename="journal-2026-01-2026-06-HR-FR.{kind}"'
            )


def test_standard_output_carries_the_exact_bytes_crlf_included(
    throughline: Subprocess, scenarios: Scenarios
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "export", "csv", "--from", FIRST.key,
         "--to", LAST.key],
        capture_output=True, cwd=throughline.workdir, env=throughline.env, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == render_csv(scenarios.entries).encode("utf-8")
    assert done.stdout.count(b"\r\n") == len(csv_rows(done.stdout.decode("utf-8"))) + 1
