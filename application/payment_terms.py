"""Payment terms of an issued invoice (ADR 0037): the days the payer's customer record gives
for the legal entity that bills, else the documented default; the due date is the issue date
plus those days, fixed at issue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from application.customer_master import current_record
from domain.invoice import DEFAULT_PAYMENT_TERMS_DAYS

if TYPE_CHECKING:
    from application.ports import CustomerMaster, CustomerRecord
    from application.unit_of_work import UnitOfWork
    from domain.invoice import Invoice


def terms_days(record: CustomerRecord | None) -> int:
    """The record's payment terms, or the default when there is no record or it states none."""
    if record is None or record.payment_terms_days is None:
        return DEFAULT_PAYMENT_TERMS_DAYS
    return record.payment_terms_days


def terms_for(uow: UnitOfWork, master: CustomerMaster, invoice: Invoice) -> int:
    """The payment terms of the invoice's payer with its legal entity, as the master holds them
    now (the pushed record first, else the ERP's answer)."""
    record = current_record(uow, master, str(invoice.payer), str(invoice.legal_entity_id))
    return terms_days(record)


def terms_text(days: int) -> str:
    """The payment terms as a document prints them."""
    if days == 0:
        return "Payment due on receipt."
    return f"Payment due within {days} days of the invoice date."
