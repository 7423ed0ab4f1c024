"""The ERP pushes a full customer record (ADR 0035): each push that says something new is kept
as the next version, the one before it stays; a push equal to the current version is a replay
and changes nothing (the rule of application/handlers/versions.py)."""

from __future__ import annotations

from application import commands as c
from application.context import RequestContext
from application.customer_master import record_problems
from application.handlers.versions import VersionedRecords
from application.messagebus import UnitOfWorkFactory
from application.ports import CustomerRecord
from application.unit_of_work import UnitOfWork


def push_customer_record(
    cmd: c.PushCustomerRecord, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory
) -> CustomerRecord:
    """Keep the pushed record as a new version (its tax profile becomes the one billing uses);
    the current version when the push repeats it. A record that breaks a rule changes nothing."""
    return CUSTOMER_RECORDS.put(unit_of_work, ctx, cmd.record)


def seed_customer_records(
    cmd: c.SeedCustomerRecords, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory
) -> int:
    """A seed record becomes version 1 only where the store holds no version yet: what the ERP
    pushed since always wins, and seeding again adds nothing. A seed record may lack fields
    (setup then blocks for them, as it would with the ERP's). Returns how many were kept."""
    return CUSTOMER_RECORDS.seed(unit_of_work, ctx, cmd.records)


def _current(uow: UnitOfWork, record: CustomerRecord) -> CustomerRecord | None:
    return uow.master_data.customer_record(record.customer_id, record.legal_entity_id)


def _bill_with_its_tax_profile(uow: UnitOfWork, stored: CustomerRecord) -> None:
    profile = stored.tax_profile()
    if profile is not None:
        uow.master_data.save_tax_profile(profile)


def _summary(stored: CustomerRecord) -> str:
    return (
        f"tax code {stored.tax_code}, currency {stored.currency}, "
        f"payment terms {stored.payment_terms_days} days"
    )


CUSTOMER_RECORDS: VersionedRecords[CustomerRecord] = VersionedRecords(
    subject=lambda r: f"customer:{r.customer_id}:{r.legal_entity_id}",
    current=_current,
    add=lambda uow, r: uow.master_data.add_customer_record(r),
    problems=record_problems,
    summary=_summary,
    put_action="push_record",
    seed_action="seed_record",
    also=_bill_with_its_tax_profile,
)
