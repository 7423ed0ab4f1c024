"""Draft invoices written by hand in the tests (not proposed by a billing run): the lines and
totals a test chose, for the customer's contract, sent by one of the firm's legal entities."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import attrs

from domain.document import DocumentLine, DocumentTotals
from domain.ids import ContractId, CustomerId, InvoiceId, LegalEntityId
from domain.invoice import DocumentKind, Invoice
from domain.period import Period
from tests.support.builders import MARCH


@attrs.frozen
class Parties:
    """Whose invoice it is: the customer, the contract it bills, the legal entity sending it."""

    customer: str = "acme"
    contract: str = "CON-1"
    seller: str = "tl-uk"


def drafted_invoice(
    invoice_id: str,
    lines: Sequence[DocumentLine],
    totals: DocumentTotals,
    by: str,
    at: datetime,
    *,
    parties: Parties = Parties(),
    period: Period = MARCH,
    kind: DocumentKind = DocumentKind.INVOICE,
    references: str | None = None,
    payer: str | None = None,
) -> Invoice:
    """A draft invoice of `lines` written by `by`, for March 2026 unless told otherwise."""
    return Invoice.draft(
        InvoiceId(invoice_id),
        CustomerId(parties.customer),
        ContractId(parties.contract),
        LegalEntityId(parties.seller),
        period,
        tuple(lines),
        totals,
        by,
        at,
        kind=kind,
        references=None if references is None else InvoiceId(references),
        payer_id=None if payer is None else CustomerId(payer),
    )
