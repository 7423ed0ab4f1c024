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
from litestar import Request, Response

from adapters.chart_of_accounts import chart_to_json
from application.context import RequestContext
from application.journal import (
    JournalFilter,
    SetChartOfAccounts,
    TrialBalanceRow,
)
from application.records import PostedEntry
from domain.chart_of_accounts import ChartOfAccounts
from domain.money import Currency, Money, dsum
from entrypoints.http.problems import ACCOUNT_PATTERN, SNAKE_NAME_PATTERN
from entrypoints.http.routes.common import (
    ID_PATTERN,
    MONTH,
    RULED_WRITE_PROBLEMS,
    Id,
    IdempotencyKey,
    Limit,
    MonthQuery,
    answer,
    query_param,
    to_period,
)
from entrypoints.http.routes.declare import RouteFamily, body_example
from entrypoints.http.routes.keyset import KeysetCursor, page_out, page_request
from entrypoints.http.runtime import (
    Page,
    execute,
    finance_of,
    services_of,
)

ACCOUNT = ACCOUNT_PATTERN


def journal_query(
    name: str, pattern: str, description: str, example: str, required: bool = False
) -> Any:
    """A query parameter of the journal's reads, its one example summarised by its description."""
    return query_param(
        name, description, example, required=required, pattern=pattern, description=description
    )


Month = Annotated[str | None, journal_query("period", MONTH, "The month, YYYY-MM.", "2026-03")]
Entity = Annotated[
    str | None,
    journal_query("legal_entity_id", ID_PATTERN, "The legal entity that books.", "HR-FR"),
]
Account = Annotated[
    str | None,
    journal_query("account", ACCOUNT, "An ERP account a line of the entry is on.", "411000"),
]
Document = Annotated[
    str | None,
    journal_query(
        "source_document",
        ID_PATTERN,
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
    #: On a tax payable line, the tax code it books (ADR 0040); null on the others, and on
    #: entries posted before tax was posted per code.
    tax_code: str | None = None


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
                line.get("tax_code"),
            )
            for line in payload["lines"]
        ],
        posting.erp_document,
        posting.acknowledged_at,
    )


_JOURNAL = RouteFamily("journal", "journal:read")


@_JOURNAL.get(
    "/journal-entries",
    "Journal entries as handed to the ERP, with their accounts and dimensions",
    description=(
        "Entries posted by issuing invoices and credit memos, recording payments and "
        "recognising revenue, mapped to the legal entity's chart of accounts; by posting date. "
        "Filters combine: `period` (YYYY-MM), `legal_entity_id`, `account` (entries with a line "
        "on it), `source_document`. `erp_document` is the ERP's number once it booked the entry. "
        "At most 200 entries a page."
    ),
)
def list_journal_entries(
    request: Request[Any, Any, Any],
    period: Month = None,
    legal_entity_id: Entity = None,
    account: Account = None,
    source_document: Document = None,
    limit: Limit = None,
    cursor: KeysetCursor = None,
) -> Page[JournalEntryOut]:
    wanted = JournalFilter(
        None if period is None else to_period(period), legal_entity_id, account, source_document
    )
    page = finance_of(request).books.journal_entries(wanted, page_request(limit, cursor))
    return page_out(page, lambda row: entry_out(row.entry))


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


@_JOURNAL.get(
    "/trial-balance",
    "A legal entity's trial balance for a month, per ERP account and currency",
    description=(
        "Debits, credits and the debit-positive balance of each account the month's posted "
        "entries touched; per currency the balances sum to zero (`totals`)."
    ),
)
def get_trial_balance(
    request: Request[Any, Any, Any],
    period: MonthQuery,
    legal_entity_id: Annotated[
        str,
        query_param(
            "legal_entity_id",
            "the French entity",
            "HR-FR",
            required=True,
            pattern=ID_PATTERN,
            description="The legal entity that books.",
        ),
    ],
) -> TrialBalanceOut:
    month = to_period(period)
    rows = finance_of(request).books.trial_balance(month, legal_entity_id)
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


# -- charts of accounts -----------------------------------------------------------------------

AccountNumber = Annotated[
    str,
    msgspec.Meta(
        pattern=ACCOUNT,
        description="An ERP account: letters, digits, '.' and '-', at most 32 characters.",
    ),
]
Key = Annotated[str, msgspec.Meta(pattern=ID_PATTERN)]
DimensionName = Annotated[str, msgspec.Meta(pattern=SNAKE_NAME_PATTERN)]
DimensionValue = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class ChartIn(msgspec.Struct, forbid_unknown_fields=True):
    legal_entity_id: Id
    #: Every posting role, each with its ERP account.
    accounts: Annotated[dict[Key, AccountNumber], msgspec.Meta(max_length=50)]
    revenue_by_obligation_type: Annotated[dict[Key, AccountNumber], msgspec.Meta(max_length=50)] = (
        msgspec.field(default_factory=dict)
    )
    tax_payable_by_tax_code: Annotated[dict[Key, AccountNumber], msgspec.Meta(max_length=200)] = (
        msgspec.field(default_factory=dict)
    )
    dimensions: Annotated[dict[DimensionName, DimensionValue], msgspec.Meta(max_length=20)] = (
        msgspec.field(default_factory=dict)
    )


class ChartOut(msgspec.Struct):
    legal_entity_id: str
    accounts: dict[str, str]
    revenue_by_obligation_type: dict[str, str]
    tax_payable_by_tax_code: dict[str, str]
    dimensions: dict[str, str]


def chart_out(chart: ChartOfAccounts) -> ChartOut:
    return msgspec.convert(chart_to_json(chart), ChartOut)


_CHART = {
    "legal_entity_id": "HR-FR",
    "accounts": {
        "receivables": "411000",
        "unbilled_wip": "418100",
        "deferred_revenue": "487000",
        "revenue": "706000",
        "tax_payable": "445710",
        "cash": "512000",
        "intercompany_receivable": "451100",
        "intercompany_revenue": "706900",
        "cost_of_services": "604000",
        "intercompany_payable": "451200",
        "write_off_expense": "654000",
    },
    "revenue_by_obligation_type": {"time_and_materials": "706100"},
    "tax_payable_by_tax_code": {"FR-VAT-20": "445710"},
    "dimensions": {"region": "EMEA"},
}


@_JOURNAL.post(
    "/charts-of-accounts",
    "Set one legal entity's chart of accounts: the ERP account of every posting role",
    *RULED_WRITE_PROBLEMS,
    permission="journal:write",
    description=(
        "Replaces the legal entity's mapping whole: `accounts` names an ERP account for every "
        "posting role; revenue may be refined per billing model and tax payable per tax code; "
        "`dimensions` adds constant dimensions to every line. A mapping that misses a role, "
        "names an unknown one or refines revenue for a billing model that does not exist is 422 "
        "`business-rule` and changes nothing. Entries posted before "
        "keep their accounts. Audited with the mapping before and after."
    ),
)
def set_chart_of_accounts(
    request: Request[Any, Any, Any],
    idempotency_key: IdempotencyKey,
    data: Annotated[ChartIn, body_example("the French entity's accounts", _CHART)],
) -> Response[ChartOut]:
    services = services_of(request)

    def run(ctx: RequestContext) -> tuple[int, object]:
        chart = ChartOfAccounts.of(
            data.legal_entity_id,
            data.accounts,
            data.revenue_by_obligation_type,
            data.tax_payable_by_tax_code,
            data.dimensions,
        )
        stored: ChartOfAccounts = services.bus.handle(SetChartOfAccounts(chart), ctx)
        return 200, chart_out(stored)

    return execute(request, data, run)


@_JOURNAL.get(
    "/charts-of-accounts",
    "The charts of accounts in force, per legal entity",
    answers=answer(list[ChartOut], [_CHART]),
    description=(
        "Per legal entity, the mapping finance set over the API, else the one the deployment "
        "read at start-up."
    ),
)
def list_charts_of_accounts(request: Request[Any, Any, Any]) -> list[ChartOut]:
    configured = services_of(request).bus.deps.charts
    return [chart_out(chart) for chart in finance_of(request).books.charts(configured)]


ROUTES = [list_journal_entries, get_trial_balance, set_chart_of_accounts, list_charts_of_accounts]
