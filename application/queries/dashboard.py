"""The finance dashboard: the overview a controller opens first, in one read.

Documents by state, what customers owe per currency (every amount exact), drafts waiting for a
checker, and the integration queues. A store answers it with one aggregate read; the rule for
adding the figures up is `overview_of`, which the in-memory store applies to its objects and
the SQL store reproduces in its aggregate (the parity tests hold the two together).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable
from typing import Protocol

import attrs

from application.records import ExceptionState
from domain.invoice import InvoiceFigures, InvoiceState
from domain.money import Money

#: The states in which an issued invoice is still owed (in part).
OPEN_INVOICE_STATES = frozenset(
    {InvoiceState.ISSUED, InvoiceState.PARTIALLY_PAID, InvoiceState.DISPUTED}
)
#: The states in which an integration exception still waits for someone (or a retry).
OPEN_EXCEPTION_STATES = frozenset({ExceptionState.OPEN, ExceptionState.RETRY_SCHEDULED})


@attrs.frozen
class CurrencyFigures:
    """Receivables in one currency: what is owed (and disputed), issued and paid."""

    currency: str
    outstanding: Money
    disputed: Money
    issued_gross: Money
    paid: Money


@attrs.frozen
class Overview:
    """The dashboard: counts by state, receivables per currency, the exception queues."""

    invoices_by_state: dict[str, int]
    awaiting_approval: int
    credit_memos_by_state: dict[str, int]
    by_currency: tuple[CurrencyFigures, ...]
    open_exceptions_by_kind: dict[str, int]
    dead_exceptions: int


class DashboardQueries(Protocol):
    """The dashboard's query port."""

    def overview(self) -> Overview:
        """The finance overview as the store holds it now."""
        ...

    def version(self) -> Hashable | None:
        """A token that changes whenever any write is committed to the store, by any process,
        so an answer read after taking it may be kept until it changes; None when the store
        has no cheap one (then nothing may be kept)."""
        ...


def overview_of(
    invoices: Iterable[InvoiceFigures],
    credit_memo_states: Iterable[str],
    exceptions: Iterable[tuple[str, ExceptionState]],
) -> Overview:
    """The overview from the figures of every invoice, the state of every credit memo and the
    (kind, state) of every integration exception: only numbered invoices count as receivables,
    and only open ones as owed."""
    states: Counter[str] = Counter()
    figures: defaultdict[str, dict[str, Money]] = defaultdict(dict)
    for invoice in invoices:
        states[invoice.state.value] += 1
        if invoice.number is None:
            continue
        row = figures[invoice.currency.code]
        zero = Money.zero(invoice.currency)
        owed = invoice.outstanding if invoice.state in OPEN_INVOICE_STATES else zero
        disputed = owed if invoice.state is InvoiceState.DISPUTED else zero
        for name, amount in (
            ("issued", invoice.gross),
            ("paid", invoice.paid),
            ("outstanding", owed),
            ("disputed", disputed),
        ):
            row[name] = row.get(name, zero) + amount
    open_kinds: Counter[str] = Counter()
    dead = 0
    for kind, state in exceptions:
        if state in OPEN_EXCEPTION_STATES:
            open_kinds[kind] += 1
        dead += state is ExceptionState.DEAD
    return Overview(
        invoices_by_state=dict(sorted(states.items())),
        awaiting_approval=states.get(InvoiceState.DRAFT.value, 0),
        credit_memos_by_state=dict(sorted(Counter(credit_memo_states).items())),
        by_currency=tuple(
            CurrencyFigures(code, row["outstanding"], row["disputed"], row["issued"], row["paid"])
            for code, row in sorted(figures.items())
        ),
        open_exceptions_by_kind=dict(sorted(open_kinds.items())),
        dead_exceptions=dead,
    )
