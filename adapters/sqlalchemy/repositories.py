"""Aggregate repositories: key columns + revision + the converter's JSON snapshot.

Each repository keeps an identity map (the same id gives the same object within one unit of
work) and the snapshot and revision each aggregate was loaded with. Nothing is written until
commit: then new aggregates are inserted with one executemany, and changed ones (snapshot
differs) are updated with `WHERE id = :id AND revision = :loaded`; no row updated means
someone else committed a change first, and the unit of work raises `ConflictError`.

Queries read candidate rows by their key columns, hand back the tracked object where one
exists, and re-check the predicate on the objects, so a query sees this unit of work's own
uncommitted changes, as the in-memory adapter does.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from adapters.sqlalchemy import tables as t
from adapters.sqlalchemy.repository_base import (
    CHUNK as CHUNK,
)
from adapters.sqlalchemy.repository_base import (
    AggregateMapping,
    SqlAlchemyRepository,
)
from adapters.sqlalchemy.repository_base import (
    Session as Session,
)
from adapters.sqlalchemy.repository_base import (
    chunks as chunks,
)
from application.errors import NotFoundError
from application.records import ExceptionState, IntegrationException
from domain.accounting_period import AccountingPeriod
from domain.contract import Contract
from domain.credit_memo import CreditMemo
from domain.engagement import Engagement
from domain.ids import ContractId, ObligationId
from domain.invoice import Invoice, InvoiceFigures, InvoiceState
from domain.milestone import Milestone, MilestoneState
from domain.money import Currency, Money
from domain.period import Period
from domain.ratecard import RateCard


@functools.cache
def _overlapping_periods_statement() -> sa.Select[Any]:
    """Periods with a day from first_ to last_."""
    c = t.accounting_periods.c
    return (
        sa.select(c.id, c.revision, c.body)
        .where(
            c.period_start <= sa.bindparam("last_", type_=sa.Date()),
            c.period_end >= sa.bindparam("first_", type_=sa.Date()),
        )
        .order_by(c.id)
    )


# The aggregates -------------------------------------------------------------------------------

CONTRACTS = AggregateMapping(
    "contract",
    t.contracts,
    Contract,
    lambda c: c.contract_id,
    lambda c: {"customer_id": c.customer_id},
)
RATE_CARDS = AggregateMapping(
    "rate_card", t.rate_cards, RateCard, lambda r: r.rate_card_id, lambda r: {}
)
ENGAGEMENTS = AggregateMapping(
    "engagement",
    t.engagements,
    Engagement,
    lambda e: e.engagement_id,
    lambda e: {
        "contract_id": e.contract_id,
        "customer_id": e.customer_id,
        "state": e.state.value,
        "project_code": e.project_code,
    },
)
MILESTONES = AggregateMapping(
    "milestone",
    t.milestones,
    Milestone,
    lambda m: m.milestone_id,
    lambda m: {
        "obligation_id": m.obligation_id,
        "state": m.state.value,
        "passive_acceptance_due_on": m.passive_acceptance_due_on,
    },
)
INVOICES = AggregateMapping(
    "invoice",
    t.invoices,
    Invoice,
    lambda i: i.invoice_id,
    lambda i: {
        "customer_id": i.customer_id,
        "contract_id": i.contract_id,
        "state": i.state.value,
        "number": i.number,
        "issue_date": i.issue_date,
        "payer_id": i.payer,
        "due_date": i.due_date,
        "written_off": None if i.written_off is None else i.written_off.amount,
        # The figures the read side adds up (ADR 0042).
        "currency": i.currency.code,
        "gross": i.totals.gross.amount,
        "paid": i.amount_paid.amount,
        "credited": i.amount_credited.amount,
    },
)
CREDIT_MEMOS = AggregateMapping(
    "credit_memo",
    t.credit_memos,
    CreditMemo,
    lambda m: m.credit_memo_id,
    lambda m: {"invoice_id": m.invoice_id, "state": m.state.value, "number": m.number},
)
PERIODS = AggregateMapping(
    "accounting_period",
    t.accounting_periods,
    AccountingPeriod,
    lambda p: p.period.key,
    lambda p: {"period_start": p.period.start, "period_end": p.period.end, "state": p.state.value},
)
EXCEPTIONS = AggregateMapping(
    "integration_exception",
    t.integration_exceptions,
    IntegrationException,
    lambda x: x.exception_id,
    lambda x: {"subject": x.subject, "state": x.state.value, "next_attempt_at": x.next_attempt_at},
)


class SqlAlchemyEngagements(SqlAlchemyRepository[Engagement]):
    def for_contracts(self, contracts: Iterable[ContractId]) -> dict[ContractId, Engagement]:
        wanted = set(contracts)
        found: dict[ContractId, Engagement] = {}
        for clause in self._session.among(t.engagements.c.contract_id, wanted):
            for engagement in self._where(clause, lambda e: e.contract_id in wanted):
                found[engagement.contract_id] = engagement
        return found

    def find_by_contract(self, contract_id: ContractId) -> Engagement | None:
        found = self._where(
            t.engagements.c.contract_id == contract_id, lambda e: e.contract_id == contract_id
        )
        return found[0] if found else None


class SqlAlchemyMilestones(SqlAlchemyRepository[Milestone]):
    def for_obligations(self, obligations: Iterable[ObligationId]) -> list[Milestone]:
        return self._among("obligation_id", obligations)

    def completed_due(self, today: date) -> list[Milestone]:
        c = t.milestones.c
        clause = sa.and_(
            c.state == MilestoneState.COMPLETED.value, c.passive_acceptance_due_on <= today
        )
        return self._where(clause, lambda m: _due(m, today), scan_tracked=True)


def _due(milestone: Milestone, today: date) -> bool:
    due_on = milestone.passive_acceptance_due_on
    return milestone.state is MilestoneState.COMPLETED and due_on is not None and due_on <= today


class SqlAlchemyInvoices(SqlAlchemyRepository[Invoice]):
    def figures(self) -> list[InvoiceFigures]:
        """From the key columns and a few fields of each snapshot, read by the database; the
        invoices this unit of work holds (maybe changed) from the objects."""
        found = {
            row.id: _invoice_figures(row)
            for row in self._session.connection.execute(_invoice_figures_statement())
            if row.id not in self._tracked
        }
        for item_id, tracked in self._tracked.items():
            found[item_id] = tracked.item.figures
        return [found[item_id] for item_id in sorted(found)]

    def for_contracts(self, contracts: Iterable[ContractId]) -> list[Invoice]:
        """By the contract index (not every invoice read)."""
        return self._among("contract_id", contracts)


def _invoice_figures(row: Any) -> InvoiceFigures:
    currency = _currency(row.currency)

    def money(amount: str | None, code: str | None) -> Money:
        if amount is None:  # no payment (or credit) yet: the invoice says null
            return Money.zero(currency)
        return Money(Decimal(amount), _currency(code or ""))

    return InvoiceFigures(
        row.id,
        InvoiceState(row.state),
        row.number,
        currency,
        money(row.gross, row.gross_currency),
        money(row.paid, row.paid_currency),
        money(row.credited, row.credited_currency),
        None if row.written_off is None else Money(row.written_off, currency),
    )


@functools.cache
def _currency(code: str) -> Currency:
    return Currency.of(code)


@functools.cache
def _invoice_figures_statement() -> sa.Select[Any]:
    c = t.invoices.c

    def field(*path: str) -> Any:
        return c.body[path].as_string()  # JSON text extraction on both databases

    return sa.select(
        c.id,
        c.state,
        c.number,
        field("currency").label("currency"),
        field("totals", "gross", "amount").label("gross"),
        field("totals", "gross", "currency").label("gross_currency"),
        field("paid", "amount").label("paid"),
        field("paid", "currency").label("paid_currency"),
        field("credited", "amount").label("credited"),
        field("credited", "currency").label("credited_currency"),
        c.written_off,
    ).order_by(c.id)


class SqlAlchemyContracts(SqlAlchemyRepository[Contract]):
    pass


class SqlAlchemyRateCards(SqlAlchemyRepository[RateCard]):
    pass


class SqlAlchemyPeriods(SqlAlchemyRepository[AccountingPeriod]):
    """Accounting periods, keyed by the period (`2026-03`)."""

    def get(self, period: Period) -> AccountingPeriod | None:  # type: ignore[override]
        return self.find(period.key)

    def overlapping(self, first: date, last: date) -> list[AccountingPeriod]:
        return self._matching(
            _overlapping_periods_statement(),
            {"first_": first, "last_": last},
            lambda p: p.period.start <= last and p.period.end >= first,
        )

    def hold_for_posting(self) -> None:
        """PostgreSQL: the periods' advisory lock, shared, to the end of the transaction (READ
        COMMITTED would let a close commit between reading the periods and posting). SQLite:
        the unit of work holds the database's one write lock already."""
        self._hold(_PERIODS_HELD_SHARED)

    def hold_for_closing(self) -> None:
        """PostgreSQL: the periods' advisory lock, exclusive, to the end of the transaction."""
        self._hold(_PERIODS_HELD)

    def _hold(self, statement: str) -> None:
        if self._session.dialect == "postgresql":
            self._session.connection.execute(sa.text(statement))


#: One advisory lock per schema (advisory locks are the database's; two schemas' periods are
#: unrelated): posters share it, closing and reopening take it alone.
_PERIODS_LOCK_KEY = "hashtext(current_schema() || '.accounting_periods')"
_PERIODS_HELD_SHARED = f"SELECT pg_advisory_xact_lock_shared({_PERIODS_LOCK_KEY})"
_PERIODS_HELD = f"SELECT pg_advisory_xact_lock({_PERIODS_LOCK_KEY})"


class SqlAlchemyExceptions(SqlAlchemyRepository[IntegrationException]):
    """The typed exception queue."""

    def get(self, exception_id: str) -> IntegrationException:
        item = self.find(exception_id)
        if item is None:
            raise NotFoundError(f"no integration exception {exception_id}")
        return item

    def open_for(self, subject: str) -> list[IntegrationException]:
        return self._where(
            t.integration_exceptions.c.subject == subject,
            lambda x: x.subject == subject and x.state is not ExceptionState.RESOLVED,
        )


def new_repositories(
    session: Session,
) -> tuple[
    SqlAlchemyContracts,
    SqlAlchemyRateCards,
    SqlAlchemyEngagements,
    SqlAlchemyMilestones,
    SqlAlchemyInvoices,
    SqlAlchemyRepository[CreditMemo],
    SqlAlchemyPeriods,
    SqlAlchemyExceptions,
]:
    return (
        SqlAlchemyContracts(session, CONTRACTS),
        SqlAlchemyRateCards(session, RATE_CARDS),
        SqlAlchemyEngagements(session, ENGAGEMENTS),
        SqlAlchemyMilestones(session, MILESTONES),
        SqlAlchemyInvoices(session, INVOICES),
        SqlAlchemyRepository(session, CREDIT_MEMOS),
        SqlAlchemyPeriods(session, PERIODS),
        SqlAlchemyExceptions(session, EXCEPTIONS),
    )
