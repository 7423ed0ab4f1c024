"""The finance dashboard's figures, read in one unit of work: documents by state, what
customers owe per currency, drafts waiting for a checker, and the integration queues."""

from __future__ import annotations

from collections import Counter, defaultdict

import attrs

from application.records import ExceptionState
from application.unit_of_work import UnitOfWork
from domain.invoice import InvoiceState
from domain.money import Money

_OPEN_INVOICE_STATES = frozenset(
    {InvoiceState.ISSUED, InvoiceState.PARTIALLY_PAID, InvoiceState.DISPUTED}
)


@attrs.frozen
class CurrencyFigures:
    currency: str
    outstanding: Money
    disputed: Money
    issued_gross: Money
    paid: Money


@attrs.frozen
class Overview:
    invoices_by_state: dict[str, int]
    awaiting_approval: int
    credit_memos_by_state: dict[str, int]
    by_currency: tuple[CurrencyFigures, ...]
    open_exceptions_by_kind: dict[str, int]
    dead_exceptions: int


def finance_overview(uow: UnitOfWork) -> Overview:
    """What a controller looks at first; every amount exact, per currency."""
    invoices = uow.invoices.figures()  # not every line of every invoice
    states = Counter(i.state.value for i in invoices)
    figures: defaultdict[str, dict[str, Money]] = defaultdict(dict)
    for invoice in invoices:
        if invoice.number is None:
            continue
        row = figures[invoice.currency.code]
        zero = Money.zero(invoice.currency)
        row["issued"] = row.get("issued", zero) + invoice.gross
        row["paid"] = row.get("paid", zero) + invoice.paid
        owed = invoice.outstanding if invoice.state in _OPEN_INVOICE_STATES else zero
        row["outstanding"] = row.get("outstanding", zero) + owed
        disputed = owed if invoice.state is InvoiceState.DISPUTED else zero
        row["disputed"] = row.get("disputed", zero) + disputed
    exceptions = uow.exceptions.all()
    open_kinds = Counter(
        x.kind.value
        for x in exceptions
        if x.state in (ExceptionState.OPEN, ExceptionState.RETRY_SCHEDULED)
    )
    return Overview(
        invoices_by_state=dict(sorted(states.items())),
        awaiting_approval=states.get(InvoiceState.DRAFT.value, 0),
        credit_memos_by_state=dict(
            sorted(Counter(m.state.value for m in uow.credit_memos.all()).items())
        ),
        by_currency=tuple(
            CurrencyFigures(code, row["outstanding"], row["disputed"], row["issued"], row["paid"])
            for code, row in sorted(figures.items())
        ),
        open_exceptions_by_kind=dict(sorted(open_kinds.items())),
        dead_exceptions=sum(1 for x in exceptions if x.state is ExceptionState.DEAD),
    )
