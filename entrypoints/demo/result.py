"""What the demo report shows of one scenario, read back from the application's books.

The model of the report (`entrypoints.demo.report` renders it): each scenario's engagements
and the path they took, what happened, its issued documents, what its billing runs did not
bill, its revenue positions, its journal and its trial balances. `entrypoints.demo.books`
builds it from a database the scenario ran on.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

import attrs

from application.balances import ObligationBalances
from domain.ledger import Account, JournalEntry
from domain.money import Currency, Money, money_sum
from entrypoints.demo.steps import Step


def _zero(like: Money) -> Money:
    return Money.zero(like.currency)


@attrs.frozen
class EngagementView:
    """An engagement and every state it went through, in order."""

    engagement_id: str
    contract_id: str
    customer: str
    path: tuple[str, ...]

    @property
    def state(self) -> str:
        return self.path[-1]


@attrs.frozen
class LineView:
    """One line of an invoice or a credit memo as printed."""

    line_no: int
    obligation_id: str
    kind: str
    description: str
    quantity: Decimal
    unit_price: Money
    amount: Money
    sources: tuple[str, ...]
    credits_line: int | None = None


@attrs.frozen
class TaxView:
    tax_code: str
    base: Money
    rate: Decimal
    amount: Money
    note: str


class DocumentType(StrEnum):
    INVOICE = "invoice"
    CREDIT_MEMO = "credit memo"


@attrs.frozen
class DocumentView:
    """An issued invoice or credit memo, as it stands at the end of the scenario."""

    type: DocumentType
    number: str
    document_id: str
    issued_on: date
    customer: str
    contract_id: str
    currency: str
    lines: tuple[LineView, ...]
    net: Money
    taxes: tuple[TaxView, ...]
    tax: Money
    gross: Money
    drafted_by: str
    approved_by: str
    state: str
    journal_entry: str
    paid: Money
    credited: Money
    outstanding: Money
    references: str | None = None
    reason: str = ""
    write_off: bool = False

    def net_by_obligation(self) -> dict[str, Money]:
        out: dict[str, Money] = {}
        for line in self.lines:
            out[line.obligation_id] = out.get(line.obligation_id, _zero(self.net)) + line.amount
        return out


@attrs.frozen
class ExclusionView:
    """A quantity a billing run did not bill, and why."""

    run_on: date
    contract_id: str
    obligation_id: str
    source: str
    quantity: Decimal
    value: Money
    disposition: str
    reason: str


@attrs.frozen
class BlockedView:
    """A contract a billing run could not bill, with the reason code and what to fix."""

    run_on: date
    contract_id: str
    reason: str
    detail: str


@attrs.frozen
class ExceptionView:
    """An item of the finance exception queue the scenario raised, and how it ended."""

    exception_id: str
    raised_on: date
    subject: str
    kind: str
    reason_code: str
    detail: str
    state: str
    resolved_by: str | None
    resolved_on: date | None


@attrs.frozen
class PositionView(ObligationBalances):
    """One obligation's revenue position at the end of the scenario, as the application's
    engagement balances give it, under the contract it belongs to."""

    contract_id: str


@attrs.frozen
class TrialBalanceRow:
    account: str
    debit: Money
    credit: Money


@attrs.frozen
class TrialBalanceView:
    """The balances of every account the scenario's journal touched, in one currency."""

    currency: str
    rows: tuple[TrialBalanceRow, ...]

    @property
    def total_debit(self) -> Money:
        return money_sum((r.debit for r in self.rows), Currency.of(self.currency))

    @property
    def total_credit(self) -> Money:
        return money_sum((r.credit for r in self.rows), Currency.of(self.currency))

    def balance(self, account: Account) -> Money:
        """Debit-positive balance of one account (zero if untouched)."""
        for row in self.rows:
            if row.account == account.value:
                return row.debit - row.credit
        return Money.zero(Currency.of(self.currency))


@attrs.frozen
class RetainerMonthView:
    """One retainer period's hours: bought, carried, used, over, carried out and lost."""

    period: str
    closed: bool
    purchased: Decimal
    carried_in: Decimal
    used_from_carry: Decimal
    used_from_current: Decimal
    overage: Decimal
    carried_out: Decimal
    breakage_not_carried: Decimal
    breakage_expired: Decimal

    @property
    def breakage(self) -> Decimal:
        return self.breakage_not_carried + self.breakage_expired


@attrs.frozen
class ScenarioResult:
    """Everything one scenario did and where it left the books."""

    number: int
    title: str
    summary: str
    as_of: date
    steps: tuple[Step, ...]
    engagements: tuple[EngagementView, ...]
    documents: tuple[DocumentView, ...]
    exclusions: tuple[ExclusionView, ...]
    blocked: tuple[BlockedView, ...]
    positions: tuple[PositionView, ...]
    journal: tuple[JournalEntry, ...]
    trial_balances: tuple[TrialBalanceView, ...]
    retainer_months: tuple[RetainerMonthView, ...] = ()
    exceptions: tuple[ExceptionView, ...] = ()

    @property
    def invoices(self) -> tuple[DocumentView, ...]:
        return tuple(d for d in self.documents if d.type is DocumentType.INVOICE)

    @property
    def credit_memos(self) -> tuple[DocumentView, ...]:
        return tuple(d for d in self.documents if d.type is DocumentType.CREDIT_MEMO)

    def document(self, number: str) -> DocumentView:
        for doc in self.documents:
            if doc.number == number:
                return doc
        raise KeyError(number)
