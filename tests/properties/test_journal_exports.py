"""A large generated journal through both exports (ADR 0039): thousands of balanced entries of
four legal entities in EUR, USD, JPY and BHD. The Beancount file passes the real `bean-check`
and the balances Beancount computes equal our trial balance exactly, for the whole year and
for each legal entity; the CSV read back balances per entry and currency and sums to the same
trial balance. A Hypothesis property: whatever the amounts, Beancount reads back exactly the
amounts posted, with exactly the currency's minor digits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from beancount import loader
from beancount.core.data import Transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.ledger_export.beancount_file import render_beancount
from adapters.ledger_export.journal_csv import render_csv
from adapters.memory import InMemoryStore
from application.journal_export import JournalExport, entries_to_export
from application.records import PostedEntry
from domain.ledger import Account
from domain.money import Currency
from domain.period import Period
from tests.support.export_checks import (
    bean_check,
    beancount_balances,
    check_csv,
    check_ledger,
    csv_rows,
    trial_balances,
)
from tests.support.journal_books import (
    ENTITIES,
    books_of,
    chart,
    generated_books,
    legal_entities,
    posted,
    reading,
)

ENTRIES = 3000
YEAR = JournalExport.months(Period.month(2026, 1), Period.month(2026, 12))


@pytest.fixture(scope="module")
def books() -> InMemoryStore:
    return books_of(generated_books(ENTRIES))


@pytest.fixture(scope="module")
def year(books: InMemoryStore) -> list[PostedEntry]:
    with reading(books) as uow:
        return entries_to_export(uow, YEAR)


def test_the_generated_journal_covers_every_entity_and_currency(year: list[PostedEntry]) -> None:
    assert len(year) == ENTRIES
    assert {e.legal_entity_id for e in year} == set(legal_entities())
    assert {e.payload["currency"] for e in year} == {"EUR", "USD", "JPY", "BHD"}


def test_bean_check_accepts_the_years_export(year: list[PostedEntry], tmp_path: Path) -> None:
    bean_check(render_beancount(YEAR, year), tmp_path)


def test_beancount_balances_equal_the_trial_balance_to_the_minor_unit(
    books: InMemoryStore, year: list[PostedEntry]
) -> None:
    with reading(books) as uow:
        expected = trial_balances(uow, YEAR, legal_entities())
    assert expected
    assert beancount_balances(render_beancount(YEAR, year)) == expected


@pytest.mark.parametrize("entity", [entity for entity, _chart, _currencies in ENTITIES])
def test_each_legal_entitys_quarter_checks_and_equals_its_trial_balance(
    books: InMemoryStore, entity: str, tmp_path: Path
) -> None:
    quarter = JournalExport.months(Period.month(2026, 4), Period.month(2026, 6), entity)
    with reading(books) as uow:
        chosen = entries_to_export(uow, quarter)
        expected = trial_balances(uow, quarter, [entity])
    assert chosen
    assert {e.legal_entity_id for e in chosen} == {entity}
    check_ledger(render_beancount(quarter, chosen), expected, tmp_path)


def test_the_csv_balances_per_entry_and_sums_to_the_trial_balance(
    books: InMemoryStore, year: list[PostedEntry]
) -> None:
    with reading(books) as uow:
        expected = trial_balances(uow, YEAR, legal_entities())
    check_csv(render_csv(year), year, expected)


def test_no_csv_text_cell_starts_a_formula(year: list[PostedEntry]) -> None:
    for row in csv_rows(render_csv(year)):
        for column, value in row.items():
            if column not in {"debit", "credit"}:
                assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (column, value)


FR = chart("HR-FR")
CURRENCIES = ("EUR", "USD", "JPY", "BHD", "KWD", "CLF")


@settings(max_examples=60, deadline=None)
@given(
    currency=st.sampled_from(CURRENCIES),
    amounts=st.lists(st.integers(1, 10**12), min_size=1, max_size=5),
)
def test_beancount_reads_back_exactly_the_posted_amounts_at_the_minor_digits(
    currency: str, amounts: list[int]
) -> None:
    lines = [(Account.RECEIVABLES, minor, 0, "") for minor in amounts]
    lines.append((Account.REVENUE, 0, sum(amounts), ""))
    entry = posted("JE-1", FR, date(2026, 5, 4), currency, lines)
    entries, problems, _options = loader.load_string(render_beancount(YEAR, [entry]))
    assert problems == []
    (transaction,) = [e for e in entries if isinstance(e, Transaction)]
    digits = Currency.of(currency).minor_units
    for posting, (_role, debit, credit, _memo) in zip(transaction.postings, lines, strict=True):
        number = posting.units.number
        assert number == Decimal(debit - credit).scaleb(-digits)
        assert number.as_tuple().exponent == -digits
