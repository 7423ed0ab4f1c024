"""Posted journals for the export tests, built the way the posting path builds them: a balanced
`JournalEntry`, mapped by a chart of accounts (`map_entry`) into the payload the ERP receives
(`gl_entry_payload`), kept as a `PostedEntry` in the in-memory journal.

`generated_books` makes a large, seeded set: several legal entities (one with a lower-case id
and dotted account numbers, which Beancount names cannot hold as they are), EUR, USD, JPY and
BHD, and descriptions and memos with quotes, backslashes, line breaks, commas and leading
formula characters.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta

from adapters.memory import FakeClock, InMemoryStore, InMemoryUnitOfWork
from application.context import RequestContext
from application.journal import gl_entry_payload
from application.records import PostedEntry
from application.unit_of_work import UnitOfWork
from domain.chart_of_accounts import ChartOfAccounts, PostingScope, map_entry
from domain.ids import LegalEntityId, ObligationId
from domain.ledger import Account, JournalEntry, JournalLine
from domain.money import Currency, Money

READER = RequestContext("export-tests", "export-tests")


def chart(
    entity: str, prefix: str = "", dimensions: dict[str, str] | None = None
) -> ChartOfAccounts:
    """A chart naming an account for every posting role, numbered from `prefix`."""
    numbers = {account.value: f"{prefix}{1000 + 10 * n}" for n, account in enumerate(Account)}
    return ChartOfAccounts.of(entity, numbers, dimensions=dimensions)


def posted(
    entry_id: str,
    chart_of_accounts: ChartOfAccounts,
    on: date,
    currency: str,
    lines: Sequence[tuple[Account, int, int, str]],
    *,
    description: str = "",
    source_document: str = "",
    customer_id: str | None = "acme",
    erp_document: str | None = None,
) -> PostedEntry:
    """An entry of (role, debit minor units, credit minor units, memo) lines, posted for the
    chart's legal entity."""
    code = Currency.of(currency)
    journal_lines = [
        JournalLine(
            role,
            Money.from_minor(debit, code),
            Money.from_minor(credit, code),
            ObligationId(f"OB-{number % 3}") if role is Account.REVENUE else None,
            memo,
        )
        for number, (role, debit, credit, memo) in enumerate(lines)
    ]
    entry = JournalEntry.balanced(
        entry_id, on, description, journal_lines, source_document or f"DOC-{entry_id}"
    )
    scope = PostingScope(
        chart_of_accounts.legal_entity_id,
        customer_id=customer_id,
        contract_id=None if customer_id is None else f"C-{customer_id}",
        project_code="PRJ-7",
    )
    mapped = map_entry(entry, chart_of_accounts, scope)
    return PostedEntry(
        entry.entry_id,
        mapped.legal_entity_id,
        entry.posted_on,
        entry.source_document,
        gl_entry_payload(mapped),
        erp_document,
    )


def books_of(entries: Iterable[PostedEntry]) -> InMemoryStore:
    """An in-memory store whose journal holds these postings, in this order."""
    store = InMemoryStore()
    with reading(store) as uow:
        for entry in entries:
            uow.journal.add_posting(entry)
        uow.commit()
    return store


def reading(store: InMemoryStore) -> UnitOfWork:
    return InMemoryUnitOfWork(store, READER, FakeClock(datetime(2026, 1, 1, tzinfo=UTC)).now)


#: (legal entity, chart of accounts, the currencies it books in)
ENTITIES: tuple[tuple[str, ChartOfAccounts, tuple[str, ...]], ...] = (
    ("HR-FR", chart("HR-FR", dimensions={"region": "EMEA"}), ("EUR", "USD")),
    ("HR-US", chart("HR-US", prefix="US-"), ("USD",)),
    ("hr-jp.tokyo", chart("hr-jp.tokyo", prefix="4.", dimensions={"desk": "APAC"}), ("JPY",)),
    ("HR-BH", chart("HR-BH", prefix="B"), ("BHD", "EUR")),
)

_TEXTS = (
    "Issue of invoice",
    'A "quoted" description',
    "back\\slash and, comma",
    "two\nlines",
    '=HYPERLINK("http://example.test")',
    "+1 and -1",
    "@handle",
    "tab\tand carriage\rreturn",
    "Zürich café ★",
)


def generated_books(count: int, seed: int = 11) -> list[PostedEntry]:
    """`count` balanced entries over 2026, each of two to six lines on random roles, amounts up
    to a million minor units, in the currencies of a random legal entity."""
    rng = random.Random(seed)
    roles = list(Account)
    entries = []
    for number in range(1, count + 1):
        _entity, coa, currencies = rng.choice(ENTITIES)
        currency = rng.choice(currencies)
        debits = [rng.randint(1, 1_000_000) for _ in range(rng.randint(1, 3))]
        total = sum(debits)
        parts = rng.randint(1, min(3, total))
        cuts = sorted(rng.sample(range(1, total), parts - 1)) if parts > 1 else []
        credits = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
        lines = [(rng.choice(roles), amount, 0, rng.choice(_TEXTS)) for amount in debits]
        lines += [(rng.choice(roles), 0, amount, rng.choice(_TEXTS)) for amount in credits]
        rng.shuffle(lines)
        on = date(2026, 1, 1) + timedelta(days=rng.randrange(365))
        entries.append(
            posted(
                f"JE-{number:06d}",
                coa,
                on,
                currency,
                lines,
                description=f"{rng.choice(_TEXTS)} {number}",
                customer_id=rng.choice(["acme", "=evil", None, "beta, inc"]),
                erp_document=rng.choice([None, f"ERP-{number}"]),
            )
        )
    return entries


def legal_entities() -> list[LegalEntityId]:
    return [coa.legal_entity_id for _, coa, _ in ENTITIES]
