"""Consultant transfers between legal entities and intercompany recharges (ADR 0031).

- A resource's employment history (which legal entity it belongs to, from which date) is set
  whole by finance, audited, under an `Idempotency-Key`; so is the transfer pricing (a markup
  over cost per pair of entities, and a default).
- The recharges of a month are worked out from the approved time: per (provider, recipient,
  currency), with the entries, hours and exact cost behind each, the amount rounded once, and
  the balanced journal entry each entity books. Entries that cannot be recharged are listed
  with their reason. A month in a closed period is shown with `postable: false`: nothing is
  posted there.
- Cost rates and costs appear only for principals with `rates:read_cost` (keys absent
  otherwise); the amounts are strings with exactly the currency's minor digits.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Request, Response

from application.intercompany import (
    PostIntercompanyRecharges,
    RechargesPosted,
    SetEmploymentHistory,
    SetTransferPricing,
)
from application.queries.paging import PageRequest
from domain.employment import Employment, EmploymentHistory
from domain.ids import LegalEntityId, ResourceId
from domain.intercompany import (
    IntercompanyRecharge,
    IntercompanyStatement,
    RechargePosting,
    TransferPolicy,
    TransferPricing,
)
from domain.money import EXACT
from entrypoints.http.routes.common import (
    ID_PATTERN,
    RULED_WRITE_PROBLEMS,
    WRITE_PROBLEMS,
    DecimalString,
    Id,
    IdempotencyKey,
    MoneyOut,
    Month,
    MonthQuery,
    answer,
    exact_out,
    money_out,
    to_decimal,
    to_period,
)
from entrypoints.http.routes.declare import (
    RouteFamily,
    Subject,
    answering,
    body_example,
    path_param,
    respond_after,
)
from entrypoints.http.routes.keyset import Rows, paged
from entrypoints.http.runtime import (
    ops_reads_of,
    principal_of,
)

COST = "rates:read_cost"
#: The most spells one employment history and policies one pricing may hold.
MAX_SPELLS = 100
MAX_POLICIES = 500

ResourcePath = Annotated[
    str,
    path_param(
        "The resource (consultant) id, as the PSA numbers it.",
        "a consultant",
        "r1",
        pattern=ID_PATTERN,
    ),
]


def _percent(value: Decimal) -> str:
    return format(value.normalize(EXACT), "f")


# -- employment histories ---------------------------------------------------------------------


class EmploymentIn(msgspec.Struct, forbid_unknown_fields=True):
    legal_entity_id: Id
    start: date
    #: The spell's last day (included); null or absent while it lasts.
    end: date | None = None


class EmploymentsBody(msgspec.Struct, forbid_unknown_fields=True):
    #: Oldest first; spells never overlap.
    employments: Annotated[list[EmploymentIn], msgspec.Meta(min_length=1, max_length=MAX_SPELLS)]


class EmploymentOut(msgspec.Struct):
    legal_entity_id: str
    start: date
    end: date | None


class EmploymentHistoryOut(msgspec.Struct):
    resource_id: str
    employments: list[EmploymentOut]


def history_out(history: EmploymentHistory) -> EmploymentHistoryOut:
    return EmploymentHistoryOut(
        history.resource_id,
        [EmploymentOut(e.legal_entity_id, e.start, e.end) for e in history.employments],
    )


_TRANSFER = {
    "employments": [
        {"legal_entity_id": "tl-de", "start": "2026-01-01", "end": "2026-03-15"},
        {"legal_entity_id": "tl-fr", "start": "2026-03-16", "end": None},
    ]
}


_INTERCOMPANY = RouteFamily("intercompany", "intercompany:write")
_RESOURCE = Subject("resource_id", ResourcePath, EmploymentHistoryOut, answering(history_out))


@_INTERCOMPANY.post(
    "/resources/{resource_id:str}/legal-entities",
    "Set a resource's employment history: the legal entity it belongs to, from which date",
    *RULED_WRITE_PROBLEMS,
    description=(
        "Replaces the whole history (a transfer is a new spell; the one before ends the day "
        "before). Spells are oldest first and never overlap; only the last may be open-ended. "
        "Audited with the history before and after."
    ),
)
@_RESOURCE.command(body_example("a transfer on 16 March", _TRANSFER))
def set_employment_history(resource_id: str, data: EmploymentsBody) -> object:
    spells = (
        Employment(LegalEntityId(e.legal_entity_id), e.start, e.end) for e in data.employments
    )
    return SetEmploymentHistory(ResourceId(resource_id), tuple(spells))


@_INTERCOMPANY.get(
    "/employment-histories",
    "Resources' employment histories, by resource id",
    permission="intercompany:read",
)
@paged(EmploymentHistoryOut, history_out)
def list_employment_histories(request: Request[Any, Any, Any], page: PageRequest) -> Rows:
    histories = ops_reads_of(request).intercompany
    return histories.employment_histories(page)


# -- transfer pricing ---------------------------------------------------------------------------


class PolicyIn(msgspec.Struct, forbid_unknown_fields=True):
    #: The entity whose resources do the work (it recharges).
    provider: Id
    #: The entity whose contract the work is for (it is recharged).
    recipient: Id
    #: Percent over cost, 0 to 1000 ("10" is cost plus 10 %).
    markup_percent: DecimalString


class PricingBody(msgspec.Struct, forbid_unknown_fields=True):
    policies: Annotated[list[PolicyIn], msgspec.Meta(max_length=MAX_POLICIES)]
    #: The markup for pairs no policy names; null: such pairs are reported, not recharged.
    default_markup_percent: DecimalString | None = None


class PolicyOut(msgspec.Struct):
    provider: str
    recipient: str
    markup_percent: str


class PricingOut(msgspec.Struct):
    policies: list[PolicyOut]
    default_markup_percent: str | None


def pricing_out(pricing: TransferPricing) -> PricingOut:
    default = pricing.default_markup_percent
    return PricingOut(
        [PolicyOut(p.provider, p.recipient, _percent(p.markup_percent)) for p in pricing.policies],
        None if default is None else _percent(default),
    )


_PRICING = {
    "policies": [
        {"provider": "tl-de", "recipient": "tl-uk", "markup_percent": "10"},
        {"provider": "tl-fr", "recipient": "tl-uk", "markup_percent": "7.5"},
    ],
    "default_markup_percent": "5",
}


def _policies(data: PricingBody) -> SetTransferPricing:
    policies = tuple(
        TransferPolicy(
            LegalEntityId(p.provider),
            LegalEntityId(p.recipient),
            to_decimal(p.markup_percent, f"/policies/{n}/markup_percent"),
        )
        for n, p in enumerate(data.policies)
    )
    default = data.default_markup_percent
    return SetTransferPricing(
        policies, None if default is None else to_decimal(default, "/default_markup_percent")
    )


@_INTERCOMPANY.post(
    "/transfer-pricing",
    "Set the transfer pricing: a markup over cost per pair of legal entities, a default",
    *RULED_WRITE_PROBLEMS,
    description=(
        "Replaces every policy and the default. One policy per (provider, recipient) pair of "
        "two different entities; markups from 0 to 1000 %. Audited with the pricing before "
        "and after."
    ),
)
def set_transfer_pricing(
    request: Request[Any, Any, Any],
    idempotency_key: IdempotencyKey,
    data: Annotated[PricingBody, body_example("cost plus 10 % from Germany", _PRICING)],
) -> Response[PricingOut]:
    command = _policies(data)

    return respond_after(request, data, command, pricing_out)


@_INTERCOMPANY.get(
    "/transfer-pricing",
    "The transfer pricing in force",
    permission="intercompany:read",
    answers=answer(PricingOut, _PRICING),
)
def get_transfer_pricing(request: Request[Any, Any, Any]) -> PricingOut:
    return pricing_out(ops_reads_of(request).intercompany.transfer_pricing())


# -- recharges ------------------------------------------------------------------------------


class RechargedEntryOut(msgspec.Struct, omit_defaults=True):
    entry_id: str
    resource_id: str
    obligation_id: str
    work_date: date
    hours: str
    cost_rate: MoneyOut | msgspec.UnsetType = msgspec.UNSET
    cost: MoneyOut | msgspec.UnsetType = msgspec.UNSET


class JournalLineOut(msgspec.Struct):
    account: str
    debit: MoneyOut
    credit: MoneyOut
    memo: str


class PostingOut(msgspec.Struct):
    legal_entity_id: str
    side: str
    entry_id: str
    posted_on: date
    description: str
    lines: list[JournalLineOut]


class RechargeOut(msgspec.Struct, omit_defaults=True):
    provider: str
    recipient: str
    currency: str
    markup_percent: str
    hours: str
    #: What the provider charges: cost x (1 + markup), rounded half-up once.
    amount: MoneyOut
    entries: list[RechargedEntryOut]
    #: The provider's entry, then the recipient's; none when the amount is zero.
    journal: list[PostingOut]
    #: The exact cost of the hours (unrounded).
    cost: MoneyOut | msgspec.UnsetType = msgspec.UNSET


class RechargeExceptionOut(msgspec.Struct):
    entry_id: str
    resource_id: str
    work_date: date
    hours: str
    reason: str
    detail: str


class StatementOut(msgspec.Struct):
    period: str
    posted_on: date
    recharges: list[RechargeOut]
    exceptions: list[RechargeExceptionOut]
    postable: bool


def _posting(posting: RechargePosting) -> PostingOut:
    entry = posting.entry
    return PostingOut(
        posting.legal_entity_id,
        posting.side.value,
        entry.entry_id,
        entry.posted_on,
        entry.description,
        [
            JournalLineOut(
                line.account.value, money_out(line.debit), money_out(line.credit), line.memo
            )
            for line in entry.lines
        ],
    )


def _recharge(recharge: IntercompanyRecharge, costed: bool) -> RechargeOut:
    entries = []
    for item in recharge.entries:
        out = RechargedEntryOut(
            item.entry_id, item.resource_id, item.obligation_id, item.work_date, str(item.hours)
        )
        if costed:
            out.cost_rate, out.cost = exact_out(item.cost_rate), exact_out(item.cost)
        entries.append(out)
    found = RechargeOut(
        recharge.provider,
        recharge.recipient,
        recharge.currency.code,
        _percent(recharge.markup_percent),
        str(recharge.hours),
        money_out(recharge.amount),
        entries,
        [_posting(p) for p in recharge.postings],
    )
    if costed:
        found.cost = exact_out(recharge.cost)
    return found


def statement_out(statement: IntercompanyStatement, costed: bool) -> StatementOut:
    return StatementOut(
        statement.period.key,
        statement.period.end,
        [_recharge(r, costed) for r in statement.recharges],
        [
            RechargeExceptionOut(
                p.entry_id, p.resource_id, p.work_date, str(p.hours), p.reason.value, p.detail
            )
            for p in statement.exceptions
        ],
        statement.postable,
    )


@_INTERCOMPANY.get(
    "/intercompany-recharges",
    "A month's intercompany recharges per pair of entities, with their journal entries",
    permission="intercompany:read",
    description=(
        "Time a resource of one legal entity worked on another entity's contract, recharged at "
        "cost plus the pair's markup, per (provider, recipient, currency), dated the month's "
        "last day. Entries without a cost rate, a policy or a legal entity are listed under "
        "`exceptions`. A month in a closed period is shown with `postable: false`: its entries can "
        "no longer be posted."
    ),
)
def get_intercompany_recharges(
    request: Request[Any, Any, Any],
    period: MonthQuery,
) -> StatementOut:
    found = ops_reads_of(request).intercompany.statement(to_period(period))
    return statement_out(found, principal_of(request).may(COST))


class RechargeRunBody(msgspec.Struct, forbid_unknown_fields=True):
    period: Month


class RechargeRunOut(msgspec.Struct):
    period: str
    posted_on: date
    #: The journal entries this run posted (each goes to the ERP through the outbox).
    posted: list[str]
    #: Entries an earlier run of the month already posted, with the same amounts.
    already_posted: list[str]


@_INTERCOMPANY.post(
    "/intercompany-recharge-runs",
    "Post a month's intercompany recharges to both entities' journals",
    *WRITE_PROBLEMS,
    "business-rule",
    "conflict",
    "period-closed",
    description=(
        "Books each recharge of `GET /intercompany-recharges` for the month: in the provider, "
        "Dr intercompany receivable / Cr intercompany revenue; in the recipient, Dr cost of "
        "services / Cr intercompany payable; each entry to its entity's journal and, with a "
        "chart of accounts, to the ERP through the outbox. All or nothing: while the month has "
        "exceptions nothing is posted (422). A second run posts nothing new; a recharge that "
        "changed since it was posted is a 409 and the journal keeps what was posted."
    ),
)
def run_intercompany_recharges(
    request: Request[Any, Any, Any],
    idempotency_key: IdempotencyKey,
    data: Annotated[RechargeRunBody, body_example("March", {"period": "2026-03"})],
) -> Response[RechargeRunOut]:
    period = to_period(data.period)

    def answer(done: RechargesPosted) -> RechargeRunOut:
        return RechargeRunOut(period.key, period.end, list(done.posted), list(done.already_posted))

    return respond_after(request, data, PostIntercompanyRecharges(period), answer)


ROUTES = [
    set_employment_history,
    list_employment_histories,
    set_transfer_pricing,
    get_transfer_pricing,
    get_intercompany_recharges,
    run_intercompany_recharges,
]
