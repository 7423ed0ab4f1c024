"""The journal exports (ADR 0039) say exactly what was posted: every amount at its currency's
minor digits, account names Beancount accepts, strings that read back as they were written,
CSV an ERP and a spreadsheet take safely, and a range of months that cannot run backwards."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import attrs
import pytest
from beancount import loader
from beancount.core.data import Open, Transaction

from adapters.ledger_export.beancount_file import (
    ACCOUNT_CLASS,
    account_name,
    component,
    quoted,
    render_beancount,
)
from adapters.ledger_export.journal_csv import columns_for, defused, render_csv
from application.journal_export import (
    EmptyExportRangeError,
    JournalExport,
    UnexportableJournalError,
    entries_to_export,
)
from application.records import PostedEntry
from domain.ledger import Account
from domain.period import Period
from tests.support.journal_books import books_of, chart, posted, reading

FR = chart("HR-FR", dimensions={"region": "EMEA"})
JANUARY, MARCH = Period.month(2026, 1), Period.month(2026, 3)
FIRST_QUARTER = JournalExport.months(JANUARY, MARCH)
#: A posting line of the ledger: two spaces, the account, the amount, the currency.
ADR_0039 = Path(__file__).resolve().parents[2] / "docs" / "adr" / "0039-journal-exports.md"
POSTING = re.compile(r"^  [A-Z][A-Za-z]+:\S+  (\S+) [A-Z]{3}$", re.MULTILINE)


def issue(
    entry_id: str, currency: str, gross: int, net: int, on: date = date(2026, 3, 31)
) -> PostedEntry:
    """An invoice issue in minor units: Dr receivables gross / Cr revenue net / Cr tax."""
    return posted(
        entry_id,
        FR,
        on,
        currency,
        [
            (Account.RECEIVABLES, gross, 0, "gross"),
            (Account.REVENUE, 0, net, "net"),
            (Account.TAX_PAYABLE, 0, gross - net, "tax"),
        ],
        description=f"Issue of invoice {entry_id}",
        source_document=f"INV-{entry_id}",
    )


def loaded(text: str) -> list[object]:
    entries, problems, _options = loader.load_string(text)
    assert problems == [], problems
    return entries


def transactions(text: str) -> list[Transaction]:
    return [e for e in loaded(text) if isinstance(e, Transaction)]


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


# Amounts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "gross", "net", "written"),
    [
        ("EUR", 144000, 120000, ("1440.00", "-1200.00", "-240.00")),
        ("JPY", 144000, 120000, ("144000", "-120000", "-24000")),
        ("BHD", 144000, 120000, ("144.000", "-120.000", "-24.000")),
    ],
)
def test_every_beancount_amount_has_exactly_its_currencys_minor_digits(
    currency: str, gross: int, net: int, written: tuple[str, ...]
) -> None:
    text = render_beancount(FIRST_QUARTER, [issue("JE-1", currency, gross, net)])
    amounts = [found.group(1) for found in POSTING.finditer(text)]
    assert tuple(amounts) == written
    (transaction,) = transactions(text)
    assert [str(p.units.number) for p in transaction.postings] == list(written)


@pytest.mark.parametrize(
    ("currency", "gross", "net", "debit", "credits"),
    [
        ("EUR", 144000, 120000, "1440.00", ["1200.00", "240.00"]),
        ("JPY", 144000, 120000, "144000", ["120000", "24000"]),
        ("BHD", 144001, 120000, "144.001", ["120.000", "24.001"]),
    ],
)
def test_csv_debits_and_credits_have_exactly_the_minor_digits_and_leave_the_other_side_empty(
    currency: str, gross: int, net: int, debit: str, credits: list[str]
) -> None:
    lines = rows(render_csv([issue("JE-1", currency, gross, net)]))
    assert [(r["debit"], r["credit"], r["currency"]) for r in lines] == [
        (debit, "", currency),
        ("", credits[0], currency),
        ("", credits[1], currency),
    ]


def test_an_amount_with_more_decimals_than_its_currency_is_refused_never_rounded() -> None:
    entry = issue("JE-1", "JPY", 1000, 800)
    lines = [dict(line) for line in entry.payload["lines"]]
    lines[0]["debit"] = "1000.4"
    bad = PostedEntry(
        entry.entry_id,
        entry.legal_entity_id,
        entry.posted_on,
        entry.source_document,
        {**entry.payload, "lines": lines},
    )
    with pytest.raises(UnexportableJournalError, match=r"1000\.4 JPY is not a whole number"):
        render_beancount(FIRST_QUARTER, [bad])
    with pytest.raises(UnexportableJournalError, match=r"1000\.4 JPY is not a whole number"):
        render_csv([bad])


# Beancount accounts and directives -----------------------------------------------------------


def test_every_posting_role_has_a_beancount_account_class() -> None:
    assert set(ACCOUNT_CLASS) == set(Account)
    assert {ACCOUNT_CLASS[a] for a in Account} <= {"Assets", "Liabilities", "Income", "Expenses"}


@pytest.mark.parametrize(
    ("role", "entity", "gl_account", "name"),
    [
        ("receivables", "HR-FR", "411000", "Assets:HR-FR:411000"),
        ("cash", "HR-FR", "512000", "Assets:HR-FR:512000"),
        ("unbilled_wip", "HR-FR", "418100", "Assets:HR-FR:418100"),
        ("intercompany_receivable", "HR-FR", "451100", "Assets:HR-FR:451100"),
        ("tax_payable", "HR-FR", "445710", "Liabilities:HR-FR:445710"),
        ("deferred_revenue", "HR-FR", "487000", "Liabilities:HR-FR:487000"),
        ("intercompany_payable", "HR-FR", "451200", "Liabilities:HR-FR:451200"),
        ("revenue", "HR-FR", "706000", "Income:HR-FR:706000"),
        ("write_off_expense", "HR-FR", "654000", "Expenses:HR-FR:654000"),
        ("cost_of_services", "HR-FR", "604000", "Expenses:HR-FR:604000"),
        ("revenue", "tl-uk", "4000", "Income:Tl-uk:4000"),
        ("tax_payable", "hr.jp:tokyo", "445.71", "Liabilities:Hr-jp-tokyo:445-71"),
        ("cash", "HR-US", "bank-a", "Assets:HR-US:Bank-a"),
    ],
)
def test_accounts_are_named_class_legal_entity_gl_account(
    role: str, entity: str, gl_account: str, name: str
) -> None:
    assert account_name(role, entity, gl_account) == name


def test_a_role_the_export_does_not_know_is_refused_by_name() -> None:
    with pytest.raises(UnexportableJournalError, match="'bad_debt' has no Beancount account"):
        account_name("bad_debt", "HR-FR", "654000")


def test_a_component_always_starts_with_a_capital_or_a_digit() -> None:
    assert [component(t) for t in ("a", "1a", "Ab.c", "é")] == ["A", "1a", "Ab-c", "X-"]


def test_two_accounts_that_would_share_a_name_are_refused_rather_than_merged() -> None:
    dotted = chart("HR-FR", prefix="4.")
    dashed = chart("HR-FR", prefix="4-")
    lines = [(Account.CASH, 100, 0, ""), (Account.REVENUE, 0, 100, "")]
    one = posted("JE-1", dotted, date(2026, 1, 5), "EUR", lines)
    other = posted("JE-2", dashed, date(2026, 1, 6), "EUR", lines)
    with pytest.raises(UnexportableJournalError, match="would both be written Assets:HR-FR:4-"):
        render_beancount(FIRST_QUARTER, [one, other])


def test_each_account_opens_on_its_first_use_for_the_currencies_it_holds() -> None:
    january = issue("JE-1", "EUR", 1200, 1000, on=date(2026, 1, 20))
    march = issue("JE-2", "USD", 1200, 1000, on=date(2026, 3, 2))
    entries = loaded(render_beancount(FIRST_QUARTER, [march, january]))
    opened = {e.account: (e.date, sorted(e.currencies)) for e in entries if isinstance(e, Open)}
    assert opened["Assets:HR-FR:1000"] == (date(2026, 1, 20), ["EUR", "USD"])


def test_several_currencies_in_one_file_are_declared_and_check() -> None:
    text = render_beancount(
        FIRST_QUARTER,
        [issue("JE-1", "EUR", 1200, 1000), issue("JE-2", "JPY", 1200, 1000)],
    )
    assert 'option "operating_currency" "EUR"' in text
    assert 'option "operating_currency" "JPY"' in text
    assert "commodity JPY" in text
    _entries, problems, options = loader.load_string(text)
    assert problems == []
    assert options["operating_currency"] == ["EUR", "JPY"]


def test_each_transaction_links_to_its_source_document_entry_legal_entity_and_erp_number() -> None:
    entry = attrs.evolve(issue("JE-7", "EUR", 1200, 1000), erp_document="ERP-9")
    (transaction,) = transactions(render_beancount(FIRST_QUARTER, [entry]))
    assert transaction.meta["entry_id"] == "JE-7"
    assert transaction.meta["source_document"] == "INV-JE-7"
    assert transaction.meta["legal_entity"] == "HR-FR"
    assert transaction.meta["erp_document"] == "ERP-9"
    revenue = transaction.postings[1]
    assert revenue.meta["posting_role"] == "revenue"
    assert revenue.meta["gl_account"] == "1030"
    assert revenue.meta["obligation_id"] == "OB-1"
    assert revenue.meta["customer_id"] == "acme"
    assert revenue.meta["region"] == "EMEA"
    assert revenue.meta["memo"] == "net"


def test_an_entry_the_erp_has_not_booked_has_no_erp_document() -> None:
    (transaction,) = transactions(
        render_beancount(FIRST_QUARTER, [issue("JE-7", "EUR", 1200, 1000)])
    )
    assert "erp_document" not in transaction.meta


HOSTILE = 'a "quoted" \\ back\\slash\nnew line\r\ttab ; not a comment ★'


def cash_received_with_text(text: str, **dimensions: str) -> PostedEntry:
    """1.00 EUR received on 1 February, `text` its description and the cash line's memo."""
    lines = [(Account.CASH, 100, 0, text), (Account.RECEIVABLES, 0, 100, "")]
    return posted("JE-1", FR, date(2026, 2, 1), "EUR", lines, description=text, **dimensions)


def test_narration_and_metadata_read_back_exactly_as_written() -> None:
    entry = cash_received_with_text(HOSTILE, customer_id='x"\\y')
    (transaction,) = transactions(render_beancount(FIRST_QUARTER, [entry]))
    assert transaction.narration == HOSTILE
    assert transaction.postings[0].meta["memo"] == HOSTILE
    assert transaction.postings[0].meta["customer_id"] == 'x"\\y'


def test_other_control_characters_become_spaces() -> None:
    assert quoted("a\x00b\x1bc") == '"a b c"'


def test_an_empty_range_is_still_a_valid_ledger() -> None:
    assert loaded(render_beancount(FIRST_QUARTER, [])) == []


# CSV ----------------------------------------------------------------------------------------


def documented_csv_columns() -> tuple[str, ...]:
    """The columns ADR 0039 lists for the journal CSV, before the charts' own dimensions."""
    text = " ".join(ADR_0039.read_text(encoding="utf-8").split())
    listed = text[text.index("Columns: `") + len("Columns: `") :].split("`", 1)[0]
    return tuple(column.strip() for column in listed.split(","))


def test_the_csv_columns_are_the_documented_ones_then_every_dimension_a_chart_adds() -> None:
    entries = [issue("JE-1", "EUR", 1200, 1000)]
    assert columns_for(entries) == (*documented_csv_columns(), "region")
    first = rows(render_csv(entries))[0]
    assert first["posted_on"] == "2026-03-31"
    assert (first["gl_account"], first["posting_role"]) == ("1000", "receivables")
    assert (first["source_document"], first["erp_document"]) == ("INV-JE-1", "")
    assert (first["customer_id"], first["project_code"], first["region"]) == (
        "acme",
        "PRJ-7",
        "EMEA",
    )


def test_csv_quotes_commas_quotes_and_line_breaks_the_rfc_4180_way() -> None:
    text = 'Acme, Inc. "Q1"\nsecond line'
    entry = cash_received_with_text(text)
    written = render_csv([entry])
    assert '"Acme, Inc. ""Q1""\nsecond line"' in written
    assert written.endswith("\r\n")
    assert written.count("\r\n") == 3  # the header and two rows; the inner break stays \n
    first = rows(written)[0]
    assert (first["description"], first["memo"]) == (text, text)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_text_cell_that_would_start_a_formula_is_prefixed_with_an_apostrophe(
    start: str,
) -> None:
    text = f"{start}SUM(A1:A9)"
    entry = posted(
        "JE-1",
        FR,
        date(2026, 2, 1),
        "EUR",
        [(Account.CASH, 100, 0, text), (Account.RECEIVABLES, 0, 100, "")],
        description=text,
        customer_id=text,
    )
    first = rows(render_csv([entry]))[0]
    assert first["description"] == first["memo"] == first["customer_id"] == "'" + text
    assert defused("Issue -1") == "Issue -1"


# The range -----------------------------------------------------------------------------------


def test_a_range_covers_the_first_months_first_day_to_the_last_months_last_day() -> None:
    export = JournalExport.months(JANUARY, MARCH, "HR-FR")
    assert export.period == Period(date(2026, 1, 1), date(2026, 3, 31))
    assert export.label == "2026-01..2026-03 HR-FR"
    assert export.file_stem == "journal-2026-01-2026-03-HR-FR"
    assert JournalExport.months(MARCH, MARCH).label == "2026-03"


def test_a_range_whose_first_month_comes_after_its_last_is_refused() -> None:
    with pytest.raises(EmptyExportRangeError, match="from 2026-03 to 2026-01"):
        JournalExport.months(MARCH, JANUARY)


def test_the_export_holds_the_ranges_entries_of_the_legal_entity_only() -> None:
    us = chart("HR-US")
    lines = [(Account.CASH, 100, 0, ""), (Account.RECEIVABLES, 0, 100, "")]
    store = books_of(
        [
            posted("JE-1", FR, date(2025, 12, 31), "EUR", lines),
            posted("JE-2", FR, date(2026, 1, 1), "EUR", lines),
            posted("JE-3", us, date(2026, 2, 1), "USD", lines),
            posted("JE-4", FR, date(2026, 3, 31), "EUR", lines),
            posted("JE-5", FR, date(2026, 4, 1), "EUR", lines),
        ]
    )
    with reading(store) as uow:
        everyone = entries_to_export(uow, FIRST_QUARTER)
        french = entries_to_export(uow, JournalExport.months(JANUARY, MARCH, "HR-FR"))
    assert [e.entry_id for e in everyone] == ["JE-2", "JE-3", "JE-4"]
    assert [e.entry_id for e in french] == ["JE-2", "JE-4"]
