"""The journal as handed to the ERP, and the trial balance (ADRs 0033 and 0034).

- `GET /journal-entries`: the posted entries, filtered by month, legal entity, ERP account and
  source document, by posting date; each line with its ERP account, posting role, debit and
  credit (strings with exactly the currency's minor digits) and every dimension; the ERP's
  document number once the ERP has booked the entry. Paginated (at most 200 per page).
- `GET /trial-balance?period=&legal_entity_id=`: per ERP account and currency, the debits,
  credits and balance of the month; the balances of each currency sum to zero.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Request, get
from litestar.openapi.spec import Example
from litestar.params import QueryParameter

from application.journal import JournalFilter, TrialBalanceRow, posted_entries, trial_balance
from application.records import PostedEntry
from domain.money import Currency, Money, dsum
from entrypoints.http.routes.common import (
    Cursor,
    Limit,
    documented,
    permission,
    to_period,
)
from entrypoints.http.runtime import Page, context_of, paginate, services_of

MONTH = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
IDENTIFIER = r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,99}$"
ACCOUNT = r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,31}$"


def _query(name: str, pattern: str, description: str, example: str) -> Any:
    return QueryParameter(
        name=name,
        required=False,
        pattern=pattern,
        description=description,
        examples=[Example(summary=description, value=example)],
    )


Month = Annotated[str | None, _query("period", MONTH, "The month, YYYY-MM.", "2026-03")]
Entity = Annotated[
    str | None, _query("legal_entity_id", IDENTIFIER, "The legal entity that books.", "HR-FR")
]
Account = Annotated[
    str | None, _query("account", ACCOUNT, "An ERP account a line of the entry is on.", "411000")
]
Document = Annotated[
    str | None,
    _query(
        "source_document",
        r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,99}$",
        "The invoice or credit memo number or payment id behind the entry.",
        "INV-2026-000001",
    ),
]


class JournalLineOut(msgspec.Struct):
    line_no: int
    gl_account: str
    posting_role: str
    debit: str
    credit: str
    memo: str
    dimensions: dict[str, str | None]


class JournalEntryOut(msgspec.Struct):
    entry_id: str
    legal_entity_id: str
    posted_on: date
    description: str
    source_document: str
    currency: str
    total: str
    lines: list[JournalLineOut]
    #: The ERP's document number; null until the ERP has booked the entry.
    erp_document: str | None
    acknowledged_at: datetime | None


def entry_out(posting: PostedEntry) -> JournalEntryOut:
    payload = posting.payload
    return JournalEntryOut(
        posting.entry_id,
        posting.legal_entity_id,
        posting.posted_on,
        payload["description"],
        posting.source_document,
        payload["currency"],
        payload["total"],
        [
            JournalLineOut(
                line["line_no"],
                line["gl_account"],
                line["posting_role"],
                line["debit"],
                line["credit"],
                line["memo"],
                dict(line["dimensions"]),
            )
            for line in payload["lines"]
        ],
        posting.erp_document,
        posting.acknowledged_at,
    )


@get(
    "/journal-entries",
    opt=permission("journal:read"),
    tags=["journal"],
    summary="Journal entries as handed to the ERP, with their accounts and dimensions",
    description=(
        "Entries posted by issuing invoices and credit memos, recording payments and "
        "recognising revenue, mapped to the legal entity's chart of accounts; by posting date. "
        "Filters combine: `period` (YYYY-MM), `legal_entity_id`, `account` (entries with a line "
        "on it), `source_document`. `erp_document` is the ERP's number once it booked the entry. "
        "At most 200 entries a page."
    ),
    responses=documented(),
    sync_to_thread=True,
)
def list_journal_entries(
    request: Request[Any, Any, Any],
    period: Month = None,
    legal_entity_id: Entity = None,
    account: Account = None,
    source_document: Document = None,
    limit: Limit = None,
    cursor: Cursor = None,
) -> Page[JournalEntryOut]:
    services = services_of(request)
    wanted = JournalFilter(
        None if period is None else to_period(period), legal_entity_id, account, source_document
    )
    with services.reader(context_of(request)) as uow:
        found = posted_entries(uow, wanted)
    page = paginate(found, limit, cursor, services.limits)
    return Page([entry_out(p) for p in page.items], page.next_cursor)


class TrialBalanceLineOut(msgspec.Struct):
    gl_account: str
    currency: str
    debit: str
    credit: str
    #: Debit-positive: a credit balance is negative.
    balance: str


class TrialBalanceOut(msgspec.Struct):
    period: str
    legal_entity_id: str
    accounts: list[TrialBalanceLineOut]
    #: Per currency, the sum of the balances: always zero.
    totals: dict[str, str]


def _amount(value: Decimal, currency: str) -> str:
    amount = Money(value, Currency.of(currency)).quantized().amount
    return str(amount.copy_abs() if amount.is_zero() else amount)


def _row(row: TrialBalanceRow) -> TrialBalanceLineOut:
    return TrialBalanceLineOut(
        row.gl_account,
        row.currency,
        _amount(row.debit, row.currency),
        _amount(row.credit, row.currency),
        _amount(row.balance, row.currency),
    )


@get(
    "/trial-balance",
    opt=permission("journal:read"),
    tags=["journal"],
    summary="A legal entity's trial balance for a month, per ERP account and currency",
    description=(
        "Debits, credits and the debit-positive balance of each account the month's posted "
        "entries touched; per currency the balances sum to zero (`totals`)."
    ),
    responses=documented(),
    sync_to_thread=True,
)
def get_trial_balance(
    request: Request[Any, Any, Any],
    period: Annotated[
        str,
        QueryParameter(
            name="period",
            required=True,
            pattern=MONTH,
            description="The month, YYYY-MM.",
            examples=[Example(summary="March 2026", value="2026-03")],
        ),
    ],
    legal_entity_id: Annotated[
        str,
        QueryParameter(
            name="legal_entity_id",
            required=True,
            pattern=IDENTIFIER,
            description="The legal entity that books.",
            examples=[Example(summary="the French entity", value="HR-FR")],
        ),
    ],
) -> TrialBalanceOut:
    services = services_of(request)
    month = to_period(period)
    with services.reader(context_of(request)) as uow:
        rows = trial_balance(uow, month, legal_entity_id)
    balances: dict[str, list[Decimal]] = {}
    for row in rows:
        balances.setdefault(row.currency, []).append(row.balance)
    totals = {currency: dsum(values) for currency, values in balances.items()}
    return TrialBalanceOut(
        month.key,
        legal_entity_id,
        [_row(row) for row in rows],
        {currency: _amount(total, currency) for currency, total in sorted(totals.items())},
    )


ROUTES = [list_journal_entries, get_trial_balance]
