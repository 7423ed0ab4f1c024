"""Split billing in the application (ADR 0029): what the billing run needs to know about the
invoices a period already has, so a fixed-amount payer is billed its amount once per period."""

from __future__ import annotations

from collections.abc import Sequence

from application.unit_of_work import UnitOfWork
from domain.contract import Contract
from domain.ids import CustomerId, ObligationId
from domain.invoice import DocumentKind, InvoiceState
from domain.money import Money
from domain.period import Period


def billed_in_period(
    uow: UnitOfWork, contracts: Sequence[Contract], period: Period
) -> dict[tuple[ObligationId, CustomerId], Money]:
    """What invoices of the period already billed each payer of a fixed-amount split (read
    only for contracts that have one: a fixed amount is owed once per period)."""
    chosen = {
        x.contract_id
        for x in contracts
        if any(p.is_fixed for v in x.versions for d in v.payers for p in d.payers)
    }
    if not chosen:
        return {}
    billed: dict[tuple[ObligationId, CustomerId], Money] = {}
    # Only these contracts' invoices: a run asks once per chunk, and every invoice ever
    # issued grows with the firm's history (ADR 0060).
    for invoice in uow.invoices.for_contracts(chosen):
        if (
            invoice.period != period
            or invoice.kind is not DocumentKind.INVOICE
            or invoice.state is InvoiceState.DISCARDED
        ):
            continue
        for line in invoice.lines:
            key = (line.obligation_id, invoice.payer)
            billed[key] = billed.get(key, Money.zero(invoice.currency)) + line.amount
    return billed
