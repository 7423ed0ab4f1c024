"""The `throughline` commands end to end: the real console script in a subprocess on a fresh
SQLite file (`THROUGHLINE_DATABASE_URL`), and the same app in process on `memory://`.

Figures asserted here are worked out by hand from the reference scenarios' terms (the
arithmetic is in the comment beside each), not read back from the code under test.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from adapters.clock import SystemClock
from adapters.memory import SequentialIds
from application import commands as c
from application.context import RequestContext
from application.messagebus import MessageBus
from domain import ids
from domain.money import Currency
from domain.recurring import RecurringTerms
from entrypoints.composition.bootstrap import bootstrap, compose
from entrypoints.composition.database import MemoryDatabase
from entrypoints.composition.externals import Externals
from tests.e2e.cli_harness import (
    Done,
    InProcess,
    Subprocess,
    Throughline,
    copy_memory,
    copy_sqlite,
    reset_container,
    write,
)

pytestmark = pytest.mark.slow

TIME_HEADER = (
    "entry_id,engagement_id,obligation_id,resource_id,role,work_date,hours,task_id,billable"
)


@attrs.frozen
class Template:
    """The reference scenarios loaded once per backend; each test works on a copy."""

    backend: str
    first: Done
    second: Done
    database: Path | MemoryDatabase


@pytest.fixture(scope="module", params=["sqlite", "memory"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def template(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Template]:
    workdir = tmp_path_factory.mktemp(f"demo-{backend}")
    if backend == "sqlite":
        path = workdir / "template.db"
        cli = Subprocess(f"sqlite:///{path}", workdir)
        yield Template(backend, cli("demo"), cli("demo"), path)
        return
    database = MemoryDatabase()
    runner = InProcess(database, workdir)
    try:
        first, second = runner("demo"), runner("demo")
    finally:
        runner.close()
    yield Template(backend, first, second, database)


def _runner(backend: str, tmp_path: Path, source: Path | MemoryDatabase | None) -> Throughline:
    if backend == "sqlite":
        path = tmp_path / "throughline.db"
        if isinstance(source, Path):
            copy_sqlite(source, path)
        return Subprocess(f"sqlite:///{path}", tmp_path)
    database = copy_memory(source) if isinstance(source, MemoryDatabase) else MemoryDatabase()
    return InProcess(database, tmp_path)


@pytest.fixture
def fresh(backend: str, tmp_path: Path) -> Iterator[Throughline]:
    """An empty database (no schema yet on SQLite)."""
    yield _runner(backend, tmp_path, None)
    reset_container()


@pytest.fixture
def loaded(template: Template, tmp_path: Path) -> Iterator[Throughline]:
    """A copy of a database the demo loaded the four reference scenarios into."""
    yield _runner(template.backend, tmp_path, template.database)
    reset_container()


def fingerprint(done: Done) -> str:
    found = re.search(r"Proposal fingerprint: ([0-9a-f]{64})", done.out)
    assert found, done.out
    return found.group(1)


# db upgrade, demo ---------------------------------------------------------------------------


def test_db_upgrade_twice_leaves_the_schema_as_it_is(fresh: Throughline) -> None:
    first = fresh("db", "upgrade")
    second = fresh("db", "upgrade")
    assert first.code == 0, first.text
    assert second.code == 0, second.text
    assert "is at the latest schema" in second.out
    assert fresh("audit", "verify").out.startswith("Audit trail intact: 0 records")


def test_the_demo_loads_the_four_scenarios_through_the_application(template: Template) -> None:
    done = template.first
    assert done.code == 0, done.err
    out = done.out
    for n, title in enumerate(
        ("Global transformation program", "Multi-country engagement", "Blocked setup", "Retainer"),
        1,
    ):
        assert f"Scenario {n} · {title}" in out
    flat = " ".join(out.split())
    # the blocked setup: the typed exception, the refused time, the fix and the replay
    assert (
        "Setup of ENG-VER-01 ran, then setup_blocked: exception EXC-000001 "
        "[master_data / missing_master_data]" in flat
    )
    assert flat.count("refused [engagement_not_accepting_time]") == 2
    assert "Exception EXC-000001 replayed by finance: resolved" in flat
    assert "Setup of ENG-VER-01 replayed" in flat
    assert "2 time entries accepted and approved (replay of the time refused" in flat
    assert (
        "proposed -> contracted -> provisioning -> setup_blocked -> provisioning -> active" in flat
    )
    # 16 h x 135 + 2 h x 320 + 13.75 h x 180 + 7 h x 250, reverse charged: no VAT
    assert "net 7,025.00 EUR, tax 0.00 EUR, gross 7,025.00 EUR" in flat
    # M4 100,000 - 10 % + the four 10,000 retentions + 5 h x 180 = 130,900.00; VAT 26,180.00
    assert "net 130,900.00 EUR, tax 26,180.00 EUR, gross 157,080.00 EUR" in flat
    # the first month of managed service: 12,500 x 16 / 31 days
    assert "gross 6,451.61 USD" in flat
    # the disputed 12 senior-consultant hours at 180 + 20 % VAT = 2,592.00 credited
    assert re.search(r"Credit memo \S+ against invoice \S+: gross 2,592\.00 EUR", flat)
    assert "Audit trail intact" in flat
    assert "EXC-000001" in out[out.index("Exception queue") :]


def test_running_the_demo_again_changes_nothing(template: Template) -> None:
    done = template.second
    assert done.code == 0, done.err
    assert "already loaded" in done.out
    assert "nothing changed" in done.out


def test_the_demo_refuses_a_database_holding_part_of_it(fresh: Throughline) -> None:
    assert fresh("db", "upgrade").code == 0
    bus = seed_bus(fresh)  # an interrupted load got as far as the firm's rate card
    bus.handle(c.CreateRateCard(ids.RateCardId("RC-FR-2026"), "France", "EUR"), SEED)
    done = fresh("demo")
    assert done.code == 1
    assert "holds part of the reference scenarios" in done.err


# import-time --------------------------------------------------------------------------------


def test_import_time_reports_every_row_and_a_second_import_changes_nothing(
    loaded: Throughline,
) -> None:
    write(
        loaded.workdir / "time.csv",
        TIME_HEADER,
        "T-0701,ENG-LUM-01,LUM-CR01,hmartin,senior consultant,2026-07-06,4,DELIVERY,true",
        "T-0702,ENG-LUM-01,LUM-CR01,imoreau,consultant,2026-07-07,3.5,,",
        "T-0701,ENG-LUM-01,LUM-CR01,hmartin,senior consultant,2026-07-06,4,DELIVERY,true",
        "T-0703,ENG-LUM-01,LUM-CR01,hmartin,senior consultant,2026-07-32,4,DELIVERY,true",
        "T-0704,ENG-LUM-01,LUM-CR01,hmartin,senior consultant,2026-07-08,lots,DELIVERY,true",
        "T-0705,ENG-NOPE,LUM-CR01,hmartin,senior consultant,2026-07-09,2,DELIVERY,true",
        "S1-T01,ENG-LUM-01,LUM-CR01,cdubois,senior manager,2026-03-09,4,DELIVERY,true",
    )
    before = fingerprint(loaded("bill", "--period", "2026-07", "--dry-run"))

    first = loaded("import-time", "time.csv")
    assert first.code == 1, first.text  # some rows were rejected
    assert "7 rows · 2 accepted · 2 duplicates (no change) · 3 rejected" in first.out
    first.lists(
        "Rejected rows",
        ("5", "T-0703", "invalid_date"),
        ("6", "T-0704", "invalid_hours"),
        ("7", "T-0705", "unknown_engagement"),
    )
    first.lists(
        "Duplicates",
        ("4", "T-0701", "repeated in the file"),
        ("8", "S1-T01", "already recorded"),
        until="Rejected rows",
    )

    after = loaded("bill", "--period", "2026-07", "--dry-run")
    # 4 h x 180 (senior consultant) + 3.5 h x 135 (consultant) = 1,192.50; VAT 238.50
    assert re.search(r"Net\s+1,192\.50", after.out)
    assert re.search(r"Gross \(EUR\)\s+1,431\.00", after.out)
    assert fingerprint(after) != before

    again = loaded("import-time", "time.csv")
    assert "7 rows · 0 accepted · 4 duplicates (no change) · 3 rejected" in again.out
    assert fingerprint(loaded("bill", "--period", "2026-07", "--dry-run")) == fingerprint(after)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("", "is empty"),
        ("\n\n", "is empty"),
        (TIME_HEADER + "\n", "has a header but no rows"),
        ("entry_id,hours\nX,1\n", "missing column(s) engagement_id"),
        (TIME_HEADER + ",colour\n", "unknown column(s) colour"),
    ],
)
def test_a_time_file_that_cannot_be_used_is_refused_with_exit_2(
    fresh: Throughline, content: str | None, message: str
) -> None:
    if content is not None:
        (fresh.workdir / "time.csv").write_text(content, encoding="utf-8")
    done = fresh("import-time", "time.csv")
    assert done.code == 2, done.text
    assert message in done.err
    assert done.out == ""


# bill -----------------------------------------------------------------------------------------


def test_bill_previews_then_stores_drafts_and_a_second_run_bills_nothing(
    loaded: Throughline,
) -> None:
    preview = loaded("bill", "--period", "2026-07", "--dry-run")
    assert preview.code == 0, preview.text
    assert "Billing run 2026-07 (dry run: nothing is stored)" in preview.out
    # July in advance: Bellerive's retainer fee 6,000.00 + 20 % VAT; Kestrel US's managed
    # service for June (the demo stopped billing it in May) and July, 2 x 12,500.00 USD
    assert re.search(r"Gross \(EUR\)\s+7,200\.00", preview.out)
    assert re.search(r"Managed analytics platform: 2026-06\s+1\s+12,500\.00", preview.out)
    assert re.search(r"Gross \(USD\)\s+25,000\.00", preview.out)
    assert "Stored" not in preview.out

    commit = loaded("bill", "--period", "2026-07", "-v")
    assert commit.code == 0, commit.text
    assert "Billing run 2026-07 (committed as drafts)" in commit.out
    assert "Stored 2 draft documents" in commit.out
    assert fingerprint(commit) == fingerprint(preview)  # what was previewed is what is stored
    assert re.search(r"correlation id cli-[0-9a-f]{16} · actor tester", commit.err)

    again = loaded("bill", "--period", "2026-07")
    assert again.code == 0, again.text
    assert "Nothing to bill for 2026-07." in again.out
    assert "Stored" not in again.out


def test_a_closed_period_refuses_a_bill_dated_in_it_until_reopened_with_a_reason(
    loaded: Throughline,
) -> None:
    closed = loaded("period", "close", "2026-07", "--actor", "m.girard")
    assert closed.code == 0, closed.text
    assert "Accounting period 2026-07 closed by m.girard." in closed.out

    refused = loaded("bill", "--period", "2026-07")
    assert refused.code == 1
    assert "refused [period_closed]" in refused.err
    assert "accounting period 2026-07 is closed" in refused.err

    no_reason = loaded("period", "reopen", "2026-07")
    assert no_reason.code == 2
    assert "--reason" in no_reason.err
    blank = loaded("period", "reopen", "2026-07", "--reason", "  ")
    assert blank.code == 2
    assert "--reason cannot be empty" in blank.err

    reopened = loaded("period", "reopen", "2026-07", "--reason", "late July timesheets")
    assert reopened.code == 0, reopened.text
    assert loaded("bill", "--period", "2026-07").code == 0


def test_a_period_that_has_not_ended_cannot_be_closed(loaded: Throughline) -> None:
    done = loaded("period", "close", "2099-12")
    assert done.code == 1
    assert "refused [period_not_ended]" in done.err


def test_reopening_a_period_that_was_never_closed_is_refused(loaded: Throughline) -> None:
    done = loaded("period", "reopen", "2031-01", "--reason", "typo")
    assert done.code == 2
    assert "never closed" in done.err


# reconcile ------------------------------------------------------------------------------------

#: Every time entry of March 2026 the demo recorded, as the PSA would export it.
MARCH_HOURS = [
    ("S1-T01", "2026-03-09", "4"), ("S1-T02", "2026-03-10", "7.5"),
    ("S1-T03", "2026-03-11", "8"), ("S1-T04", "2026-03-12", "7.5"),
    ("S1-T05", "2026-03-13", "2"), ("S1-T06", "2026-03-24", "6"),
    ("S1-T07", "2026-03-25", "6"), ("S3-T01", "2026-03-09", "7"),
    ("S3-T02", "2026-03-10", "8"), ("S3-T03", "2026-03-16", "7.5"),
    ("S3-T04", "2026-03-17", "8"), ("S3-T05", "2026-03-24", "6.25"),
    ("S3-T06", "2026-03-30", "2"), ("S4-0301", "2026-03-05", "8"),
    ("S4-0302", "2026-03-08", "8"), ("S4-0303", "2026-03-11", "8"),
    ("S4-0304", "2026-03-14", "7.5"), ("S4-0305", "2026-03-17", "8"),
    ("S4-0306", "2026-03-20", "7.5"), ("S4-0307", "2026-03-23", "8"),
]  # fmt: skip
#: The invoices the demo issued in March 2026, as the ERP would have posted them.
MARCH_RECEIVABLES = [
    ("INV-2026-000004", "2026-03-02", "6451.61", "USD"),  # Kestrel US, 16 of 31 days
    ("INV-2026-000005", "2026-03-02", "7200.00", "EUR"),  # Bellerive, March fee
    ("INV-2026-000006", "2026-03-31", "116355.00", "EUR"),  # Lumiere M2 and CR-01 time
    ("INV-2026-000007", "2026-03-31", "7025.00", "EUR"),  # Verhaegen, March time
]


def test_reconcile_lists_exceptions_with_control_totals_and_exits_1(loaded: Throughline) -> None:
    done = loaded("reconcile", "--period", "2026-03")
    assert done.code == 1, done.text
    # nothing came from the PSA or the ERP: each entry and invoice is an exception
    assert done.out.count("missing_in_psa") == len(MARCH_HOURS)
    assert done.out.count("missing_in_erp") == len(MARCH_RECEIVABLES)
    # 41 (S1) + 38.75 (S3) + 55 (S4) hours approved in March
    assert re.search(r"Throughline approved hours\s+134\.75", done.out)


def test_a_clean_reconciliation_exits_0_and_a_mismatch_is_named(loaded: Throughline) -> None:
    psa = write(
        loaded.workdir / "psa.csv",
        "entry_id,work_date,hours",
        *(",".join(row) for row in MARCH_HOURS),
    )
    erp = write(
        loaded.workdir / "erp.csv",
        "number,issue_date,gross,currency",
        *(",".join(row) for row in MARCH_RECEIVABLES),
    )
    clean = loaded("reconcile", "--period", "2026-03", "--psa-hours", "psa.csv",
                   "--erp-receivables", "erp.csv")  # fmt: skip
    assert clean.code == 0, clean.text
    assert "No exceptions: everything reconciles." in clean.out
    assert re.search(r"PSA approved hours\s+134\.75", clean.out)
    # 7,200.00 + 116,355.00 + 7,025.00 EUR; 6,451.61 USD
    assert "130,580.00 EUR, 6,451.61 USD" in clean.out

    psa.write_text(psa.read_text().replace("S3-T03,2026-03-16,7.5", "S3-T03,2026-03-16,7"))
    mismatch = loaded("reconcile", "--period", "2026-03", env={
        "THROUGHLINE_PSA_HOURS": str(psa), "THROUGHLINE_ERP_RECEIVABLES": str(erp)})  # fmt: skip
    assert mismatch.code == 1
    assert re.search(r"hours\s+hours_mismatch\s+S3-T03\s+7\s+7\.5", mismatch.out)


# exceptions -----------------------------------------------------------------------------------


SEED = RequestContext("j.moreau", "seed")


def seed_bus(cli: Throughline) -> MessageBus:
    """A bus of our own on the database the CLI uses, to seed a hard state before acting."""
    if isinstance(cli, Subprocess):
        return bootstrap(cli.env["THROUGHLINE_DATABASE_URL"], ids=SequentialIds())
    assert isinstance(cli, InProcess)
    return compose(cli.database, SystemClock(), SequentialIds(), Externals())


def seed_blocked_setup(cli: Throughline) -> None:
    """Seed-then-act: a contract for a customer the ERP does not know, approved through the
    bus, so its setup lands in the exception queue."""
    bus, ctx = seed_bus(cli), SEED
    contract = ids.ContractId("C-NEW-01")
    customer, entity = ids.CustomerId("newco"), ids.LegalEntityId("HR-FR")
    terms = RecurringTerms(
        ids.ObligationId("NEW-SUPPORT"),
        "Support",
        Currency.of("EUR"),
        Decimal(1000),
        date(2026, 1, 1),
    )
    bus.handle(c.ProposeEngagement(ids.EngagementId("ENG-NEW-01"), customer, contract), ctx)
    bus.handle(c.RegisterContract(contract, customer, entity, "EUR", "Support"), ctx)
    bus.handle(c.DraftContractVersion(contract, date(2026, 1, 1), (terms,)), ctx)
    bus.handle(c.ApproveContractVersion(contract, 1), ctx)


def test_an_exception_is_listed_and_a_replay_heals_it_once_the_master_data_is_fixed(
    fresh: Throughline,
) -> None:
    assert fresh("db", "upgrade").code == 0
    seed_blocked_setup(fresh)

    listed = fresh("exceptions", "list")
    assert listed.code == 0, listed.text
    assert re.search(r"EXC-000001\s+master_data\s+setup\s+engagement:ENG-NEW-01", listed.out)
    assert "customer newco lacks customer for legal entity HR-FR" in listed.out

    still = fresh("exceptions", "replay", "EXC-000001")  # the ERP still lacks the customer
    assert still.code == 1, still.text
    assert "still open" in still.out

    master = fresh.workdir / "customers.json"
    master.write_text(
        json.dumps(
            [
                {
                    "customer_id": "newco",
                    "legal_entity_id": "HR-FR",
                    "name": "Newco SAS",
                    "currency": "EUR",
                    "tax_code": "FR-VAT-20",
                    "billing_address": "1 rue de la Paix, Paris",
                }
            ]
        )
    )
    healed = fresh("exceptions", "replay", "EXC-000001",
                   env={"THROUGHLINE_CUSTOMER_MASTER": str(master)})  # fmt: skip
    assert healed.code == 0, healed.text
    assert "Exception EXC-000001 replayed: resolved." in healed.out
    assert "Exception queue: empty." in fresh("exceptions", "list").out
    assert "resolved" in fresh("exceptions", "list", "--all").out
    assert fresh("audit", "verify").code == 0


def test_replaying_an_unknown_exception_is_bad_input(loaded: Throughline) -> None:
    done = loaded("exceptions", "replay", "EXC-NOPE")
    assert done.code == 2
    assert "not found" in done.err


def test_a_customer_master_file_that_cannot_be_read_is_bad_input(loaded: Throughline) -> None:
    broken = write(loaded.workdir / "customers.json", '[{"customer_id": "x", "colour": "red"}]')
    done = loaded("bill", "--period", "2026-07", env={"THROUGHLINE_CUSTOMER_MASTER": str(broken)})
    assert done.code == 2
    assert "unknown field(s) colour" in done.err


# audit ----------------------------------------------------------------------------------------


def test_audit_verify_finds_the_demo_trail_intact(loaded: Throughline) -> None:
    done = loaded("audit", "verify")
    assert done.code == 0, done.text
    assert re.match(r"Audit trail intact: \d+ records", done.out)


# bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("bill", "--period", "2026-13"), "'2026-13' is not a month; write it as YYYY-MM"),
        (("bill", "--period", "March"), "'March' is not a month"),
        (("bill", "--period", "2026-07", "--invoice-date", "31/07/2026"), "is not a date"),
        (("import-time", "missing.csv"), "missing.csv: no such file"),
        (("period", "reopen", "2026-03"), "Missing option '--reason'"),
        (("period", "close", "2026-3x"), "is not a month"),
        (("reconcile",), "Missing option '--period'"),
        (("reconcile", "--period", "2026-03", "--psa-hours", "none.csv"), "none.csv: no such file"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    fresh: Throughline, args: tuple[str, ...], message: str
) -> None:
    done = fresh(*args)
    assert done.code == 2, done.text
    assert message in done.err
    assert "Traceback" not in done.err


def tamper_with_audit_record(cli: Throughline, sequence: int) -> None:
    """Someone edits one audit record behind the application's back."""
    if isinstance(cli, Subprocess):
        path = cli.env["THROUGHLINE_DATABASE_URL"].removeprefix("sqlite:///")
        with sqlite3.connect(path) as connection:
            connection.execute(
                "UPDATE audit_log SET reason = 'nothing to see' WHERE sequence = ?", (sequence,)
            )
        return
    assert isinstance(cli, InProcess)
    records = cli.database.store.data.audit
    records[sequence - 1] = attrs.evolve(records[sequence - 1], reason="nothing to see")


def test_audit_verify_names_the_first_tampered_record_and_exits_1(loaded: Throughline) -> None:
    tamper_with_audit_record(loaded, 7)
    done = loaded("audit", "verify")
    assert done.code == 1
    assert re.match(r"Audit trail BROKEN at record 7 of \d+: contents do not match", done.out)


def test_a_bad_database_url_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    # operators' own process: the URL is read from the command line, not a test override
    done = Subprocess(f"sqlite:///{tmp_path / 'tl.db'}", tmp_path)(
        "bill", "--period", "2026-07", "--database-url", "nonsense"
    )
    assert done.code == 2, done.text
    assert "not a database URL" in done.err
    assert "Traceback" not in done.err


def test_a_database_without_its_schema_asks_for_db_upgrade(tmp_path: Path) -> None:
    # an in-memory database is created with its schema; a file database may lack one
    done = Subprocess(f"sqlite:///{tmp_path / 'tl.db'}", tmp_path)("exceptions", "list")
    assert done.code == 1
    assert "run `throughline db upgrade` first" in done.err
    assert "Traceback" not in done.err


def test_the_periodic_jobs_run_on_the_loaded_books_and_a_second_run_finds_nothing_due(
    loaded: Throughline,
) -> None:
    first = loaded("exceptions", "run-due")
    second = loaded("exceptions", "run-due")

    assert first.code == 0, first.text
    assert "Retried" in first.out
    assert "idempotency key(s)" in first.out
    assert second.code == 0, second.text
    assert "Retried 0 exception(s), accepted 0 milestone(s) passively" in second.out
