"""Reconciliation: PSA approved hours vs our approved vs billed hours; issued invoices vs the
ERP's receivables. Each exception is listed (missing, duplicate, mismatch) with control
totals; a clean re-run lists nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal

import attrs

from application import commands as c
from application.context import RequestContext
from application.messagebus import UnitOfWorkFactory
from application.ports import ErpReceivables, PsaTimeExport
from application.unit_of_work import UnitOfWork
from domain.billing import BilledLedger, SourceKind, SourceRef
from domain.invoice import DocumentKind, Invoice, InvoiceState
from domain.money import EXACT, Money, dsum
from domain.period import Period
from domain.time_entry import ItemState, TimeEntry

UNISSUED = (InvoiceState.DRAFT, InvoiceState.APPROVED, InvoiceState.DISCARDED)


@attrs.frozen
class ReconciliationException:
    area: str  # "hours" or "receivables"
    kind: str  # missing_in_throughline, missing_in_psa, missing_in_erp, duplicate, ...
    subject: str
    expected: str
    actual: str


@attrs.frozen
class ControlTotals:
    psa_hours: Decimal
    approved_hours: Decimal
    billed_hours: Decimal
    issued_gross: tuple[Money, ...]
    erp_gross: tuple[Money, ...]


@attrs.frozen
class ReconciliationReport:
    period: Period
    exceptions: tuple[ReconciliationException, ...]
    totals: ControlTotals

    @property
    def clean(self) -> bool:
        return not self.exceptions


def reconcile(
    cmd: c.Reconcile,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    psa_time: PsaTimeExport,
    erp_receivables: ErpReceivables,
) -> ReconciliationReport:
    """Each difference between our books and the PSA's hours or the ERP's receivables of the
    period is an exception; the PSA and the ERP are asked before our books are read."""
    psa = list(psa_time.approved_hours(cmd.period))
    erp = list(erp_receivables.posted_invoices(cmd.period))
    with unit_of_work(ctx, read_only=True) as uow:
        books = _our_books(uow, cmd.period)
    return _compare(cmd.period, psa, erp, books)


@attrs.frozen
class _OurBooks:
    entries: dict[str, TimeEntry]
    ledger: BilledLedger
    invoices: list[Invoice]


def _our_books(uow: UnitOfWork, period: Period) -> _OurBooks:
    """Our approved (not rejected) time of the period, what was billed, the invoices issued."""
    ours: dict[str, TimeEntry] = {
        e.entry_id: e
        for e in uow.delivery.time_entries_in(period)
        if e.state is not ItemState.REJECTED
    }
    ledger = uow.ledger.load(c.contract_id for c in uow.contracts.all())
    invoices = [
        i
        for i in uow.invoices.all()
        if i.state not in UNISSUED
        and i.issue_date is not None
        and period.contains(i.issue_date)
        and i.kind is not DocumentKind.CREDIT_ADJUSTMENT
    ]
    return _OurBooks(ours, ledger, invoices)


def _compare(
    period: Period,
    psa: Sequence[tuple[str, Decimal]],
    erp: Sequence[tuple[str, Money]],
    books: _OurBooks,
) -> ReconciliationReport:
    ours, ledger, invoices = books.entries, books.ledger, books.invoices
    exceptions: list[ReconciliationException] = []
    psa_counts = Counter(entry_id for entry_id, _ in psa)
    psa_hours: dict[str, Decimal] = {}
    for entry_id, hours in psa:
        if psa_counts[entry_id] > 1 and entry_id in psa_hours:
            continue
        psa_hours[entry_id] = hours
    for entry_id, count in sorted(psa_counts.items()):
        if count > 1:
            exceptions.append(
                ReconciliationException("hours", "duplicate_in_psa", entry_id, "1", str(count))
            )
    for entry_id, hours in sorted(psa_hours.items()):
        entry = ours.get(entry_id)
        if entry is None:
            exceptions.append(
                ReconciliationException("hours", "missing_in_throughline", entry_id, f"{hours}", "")
            )
        elif entry.hours != hours:
            exceptions.append(
                ReconciliationException(
                    "hours", "hours_mismatch", entry_id, f"{hours}", f"{entry.hours}"
                )
            )
    for entry_id in sorted(set(ours) - set(psa_hours)):
        exceptions.append(
            ReconciliationException(
                "hours", "missing_in_psa", entry_id, "", f"{ours[entry_id].hours}"
            )
        )
    billed = dsum(
        ledger.billed_quantity(SourceRef(SourceKind.TIME_ENTRY, entry_id)) for entry_id in ours
    )
    exceptions += _receivables(invoices, erp)
    issued_by_currency = _by_currency(i.totals.gross for i in invoices)
    erp_by_currency = _by_currency(gross for _, gross in erp)
    totals = ControlTotals(
        dsum(psa_hours.values()),
        dsum(e.hours for e in ours.values()),
        billed,
        tuple(issued_by_currency[k] for k in sorted(issued_by_currency)),
        tuple(erp_by_currency[k] for k in sorted(erp_by_currency)),
    )
    return ReconciliationReport(period, tuple(exceptions), totals)


def _by_currency(amounts: Iterable[Money]) -> dict[str, Money]:
    totals: dict[str, Money] = {}
    for amount in amounts:
        code = amount.currency.code
        totals[code] = totals.get(code, Money.zero(amount.currency)) + amount
    return totals


def _receivables(
    invoices: Sequence[Invoice], erp: Sequence[tuple[str, Money]]
) -> list[ReconciliationException]:
    found: list[ReconciliationException] = []
    counts = Counter(number for number, _ in erp)
    posted = dict(erp)
    for number, count in sorted(counts.items()):
        if count > 1:
            found.append(
                ReconciliationException("receivables", "duplicate_in_erp", number, "1", str(count))
            )
    ours = {i.number: i for i in invoices if i.number}
    for number, invoice in sorted(ours.items()):
        gross = posted.get(number)
        if gross is None:
            found.append(
                ReconciliationException(
                    "receivables", "missing_in_erp", number, str(invoice.totals.gross), ""
                )
            )
        elif EXACT.compare(gross.amount, invoice.totals.gross.amount) != 0:
            found.append(
                ReconciliationException(
                    "receivables", "amount_mismatch", number, str(invoice.totals.gross), str(gross)
                )
            )
    for number in sorted(set(posted) - set(ours)):
        found.append(
            ReconciliationException(
                "receivables", "missing_in_throughline", number, "", str(posted[number])
            )
        )
    return found
