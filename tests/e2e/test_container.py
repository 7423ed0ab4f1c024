"""The composition root and the container, in process: providers overridden as tests do, no
subprocess."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest
from dependency_injector import providers

from adapters.clock import SystemClock
from adapters.ids import RandomIds
from adapters.memory import FakeClock, SequentialIds
from application import commands as c
from application.context import RequestContext
from application.messagebus import Dependencies
from domain.ids import CustomerId, LegalEntityId
from domain.period import Period
from domain.tax import CategoryCode
from entrypoints.composition import bootstrap as bootstrap_module
from entrypoints.composition import container as root
from entrypoints.composition.bootstrap import bootstrap
from entrypoints.composition.container import (
    Container,
    configure,
    provide_bus,
    provide_clock,
    provide_customer_master,
    provide_database,
    provide_dependencies,
    provide_externals,
    provide_unit_of_work,
    release_connections,
)
from entrypoints.composition.database import DatabaseUrlError, MemoryDatabase, open_database, redact
from entrypoints.composition.externals import (
    ExternalDataError,
    load_externals,
    read_customer_master,
    read_erp_receivables,
    read_psa_hours,
)
from entrypoints.composition.settings import Settings
from tests.e2e.cli_harness import reset_container

CTX = RequestContext("m.girard", "corr-test")


pytestmark = pytest.mark.usefixtures("fresh_container")


def test_a_bus_built_by_the_container_uses_the_overridden_clock_ids_and_database() -> None:
    container = Container()
    database = MemoryDatabase()
    clock = FakeClock(datetime(2026, 4, 2, 8, 30, tzinfo=UTC))
    container.settings.override(providers.Object(Settings("memory://")))
    container.database.override(providers.Object(database))
    container.clock.override(providers.Object(clock))
    container.ids.override(providers.Object(SequentialIds()))

    container.bus().handle(c.ClosePeriod(Period.month(2026, 3)), CTX)

    (record,) = database.store.data.audit
    assert (record.subject, record.action, record.actor) == ("period:2026-03", "close", "m.girard")
    assert record.at == clock.current
    assert record.correlation_id == "corr-test"


def test_provider_functions_answer_what_the_module_container_provides_overrides_included() -> None:
    clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
    configure(Settings("memory://"))
    with root.container.clock.override(providers.Object(clock)):
        assert provide_clock() is clock
        assert provide_dependencies().clock is clock
    reset_container()
    configure(Settings("memory://"))
    assert isinstance(provide_clock(), SystemClock)


def test_the_same_settings_keep_the_memory_database_and_new_ones_start_afresh(
    tmp_path: Path,
) -> None:
    psa = tmp_path / "psa.csv"
    psa.write_text("entry_id,work_date,hours\n")
    configure(Settings("memory://"))
    bus = provide_bus()
    configure(Settings("memory://"))
    assert provide_bus() is bus
    configure(Settings("memory://", psa_hours=None, erp_receivables=None))
    assert provide_bus() is bus  # equal settings
    configure(Settings("memory://", psa_hours=psa))
    assert provide_bus() is not bus


def test_bootstrap_wires_the_system_clock_and_ids_unique_across_processes() -> None:
    bus = bootstrap("memory://")
    assert isinstance(bus.deps.clock, SystemClock)
    assert bus.deps.clock.now().tzinfo is UTC
    assert isinstance(bus.deps.ids, RandomIds)
    ids = {bus.deps.ids.next_id("INV") for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"INV-[0-9A-F]{16}", i) for i in ids)


def test_bootstrap_takes_the_fakes_it_is_given() -> None:
    clock = FakeClock(datetime(2026, 2, 1, tzinfo=UTC))
    ids = SequentialIds()
    bus = bootstrap("memory://", clock=clock, ids=ids)
    assert bus.deps.clock is clock
    assert bus.deps.ids is ids


def test_bootstrap_and_the_process_container_bind_handlers_to_the_same_adapters() -> None:
    configure(Settings("memory://"))
    from_the_container = provide_dependencies()
    from_bootstrap = bootstrap("memory://").deps
    for field in attrs.fields(Dependencies):
        mine, theirs = getattr(from_the_container, field.name), getattr(from_bootstrap, field.name)
        assert type(mine) is type(theirs), field.name


def test_entry_points_get_the_very_adapters_the_handlers_are_bound_to() -> None:
    configure(Settings("memory://"))
    deps = provide_dependencies()
    assert provide_bus().deps is deps
    assert provide_unit_of_work() is deps.uow
    assert provide_clock() is deps.clock
    assert provide_customer_master() is deps.customer_master is provide_externals().customer_master


def test_a_command_that_never_reached_its_database_opens_none(tmp_path: Path) -> None:
    configure(Settings(f"sqlite:///{tmp_path / 'never.db'}"))
    release_connections()
    assert not root.container.database.initialized
    assert not (tmp_path / "never.db").exists()


class RecordedDatabase(MemoryDatabase):
    def __init__(self) -> None:
        super().__init__()
        self.disposed = 0

    def dispose(self) -> None:
        self.disposed += 1


def test_the_container_releases_the_database_it_opened_and_forgets_it_with_its_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    opened: list[RecordedDatabase] = []

    def recorded(url: str) -> RecordedDatabase:
        opened.append(RecordedDatabase())
        return opened[-1]

    monkeypatch.setattr(bootstrap_module, "open_database", recorded)
    configure(Settings("memory://"))
    first = provide_database()
    release_connections()  # after a command: connections closed, the database kept
    assert (first.disposed, provide_database()) == (1, first)

    psa = tmp_path / "psa.csv"
    psa.write_text("entry_id,work_date,hours\n")
    configure(Settings("memory://", psa_hours=psa))  # new settings: the old database released
    assert first.disposed == 2
    assert provide_database() is not first
    assert len(opened) == 2


def test_a_database_given_by_override_belongs_to_whoever_gave_it() -> None:
    configure(Settings("memory://"))
    given = RecordedDatabase()
    root.container.database.override(providers.Object(given))
    assert provide_database() is given
    release_connections()
    assert given.disposed == 0


@pytest.mark.parametrize("url", ["nonsense", "var/throughline.db", "://x"])
def test_a_database_url_that_is_not_one_is_refused(url: str) -> None:
    with pytest.raises(DatabaseUrlError, match="is not a database URL"):
        open_database(url)


def test_passwords_never_appear_in_a_printed_url() -> None:
    assert redact("postgresql+psycopg://app:s3cret@db/throughline") == (
        "postgresql+psycopg://app:***@db/throughline"
    )
    assert redact("sqlite:///var/throughline.db") == "sqlite:///var/throughline.db"


def test_the_customer_master_loads_from_json_and_csv(tmp_path: Path) -> None:
    as_json = tmp_path / "customers.json"
    as_json.write_text(
        '{"customers": [{"customer_id": "acme", "legal_entity_id": "HR-FR", "name": "Acme",'
        ' "currency": "EUR", "tax_code": "FR-VAT-20", "reverse_charge": false,'
        ' "billing_address": "1 rue X"}]}'
    )
    as_csv = tmp_path / "customers.csv"
    as_csv.write_text(
        "customer_id,legal_entity_id,name,currency,tax_code,reverse_charge,billing_address\n"
        "acme,HR-FR,Acme,EUR,FR-VAT-20,no,1 rue X\n"
        "globex,HR-US,Globex,,,,\n"
    )
    (acme,) = read_customer_master(as_json)
    assert read_customer_master(as_csv)[0] == acme
    globex = read_customer_master(as_csv)[1]
    assert globex.missing_fields() == ["currency", "tax_profile", "billing_address"]
    externals = load_externals(Settings("memory://", customer_master=as_csv))
    assert externals.customer_master.lookup(CustomerId("acme"), LegalEntityId("HR-FR")) == acme


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("c.json", "[{", "not valid JSON"),
        ("c.json", '{"rows": []}', "expected a list of records"),
        ("c.json", '[{"customer_id": "a", "legal_entity_id": "E"}]', "name is empty"),
        ("c.json", '[{"customer_id": "a", "legal_entity_id": "E", "name": "A", '
                   '"reverse_charge": "maybe"}]', "reverse_charge must be true or false"),
        ("c.csv", "customer_id,name\na,A\n", "missing column(s) legal_entity_id"),
        ("c.csv", "", "the file is empty"),
    ],
)  # fmt: skip
def test_a_customer_master_file_that_cannot_be_read_names_the_problem(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ExternalDataError) as caught:
        read_customer_master(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)


def test_the_psa_and_erp_exports_load_for_reconciliation(tmp_path: Path) -> None:
    psa = tmp_path / "psa.csv"
    psa.write_text("entry_id,work_date,hours\nT1,2026-03-02,7.5\n")
    erp = tmp_path / "erp.csv"
    erp.write_text("number,issue_date,gross,currency\nINV-1,2026-03-31,120.00,EUR\n")
    externals = load_externals(Settings("memory://", psa_hours=psa, erp_receivables=erp))
    march = Period.month(2026, 3)
    assert [(i, str(h)) for i, h in externals.psa_time.approved_hours(march)] == [("T1", "7.5")]
    ((number, gross),) = externals.erp_receivables.posted_invoices(march)
    assert (number, str(gross.amount), gross.currency.code) == ("INV-1", "120.00", "EUR")
    assert externals.psa_time.approved_hours(Period.month(2026, 4)) == []


@pytest.mark.parametrize("amount", ["1_0", "1e1", "NaN", "+10", "\u0661\u0660"])
def test_an_export_amount_that_is_not_a_plain_decimal_is_refused_with_its_line(
    tmp_path: Path, amount: str
) -> None:
    psa = tmp_path / "psa.csv"
    psa.write_text(f"entry_id,work_date,hours\nT1,2026-03-02,7.5\nT2,2026-03-02,{amount}\n")
    with pytest.raises(ExternalDataError) as caught:
        read_psa_hours(psa)
    assert str(caught.value) == f"{psa}, line 3: hours {amount!r} cannot be read"
    erp = tmp_path / "erp.csv"
    erp.write_text(f"number,issue_date,gross,currency\nINV-1,2026-03-31,{amount},EUR\n")
    with pytest.raises(ExternalDataError, match="line 2: gross"):
        read_erp_receivables(erp)


def test_a_json_customer_master_record_may_carry_codes_per_tax_category(tmp_path: Path) -> None:
    path = tmp_path / "customers.json"
    path.write_text(
        '[{"customer_id": "acme", "legal_entity_id": "HR-FR", "name": "Acme",'
        ' "tax_code": "FR-VAT-20", "tax_categories": ['
        '{"category": "expenses", "tax_code": "FR-ZERO"},'
        ' {"category": "expenses:training", "tax_code": "FR-EX", "exemption_reason": "CGI 261"}'
        "]}]"
    )
    (acme,) = read_customer_master(path)
    assert acme.tax_categories == (
        CategoryCode("expenses", "FR-ZERO"),
        CategoryCode("expenses:training", "FR-EX", "CGI 261"),
    )
    path.write_text(
        '[{"customer_id": "acme", "legal_entity_id": "HR-FR", "name": "Acme",'
        ' "tax_categories": [{"category": "time", "tax_code": "X"}]}]'
    )
    with pytest.raises(ExternalDataError, match=r"record 1: tax_categories\[0\]"):
        read_customer_master(path)
