"""The ERP pushes a full customer record (ADR 0035): each push that says something new is kept
as the next version, the one before it stays; a push equal to the current version is a replay
and changes nothing."""

from __future__ import annotations

import attrs

from application import commands as c
from application.changes import VersionKept
from application.context import RequestContext
from application.customer_master import record_problems, same_content
from application.errors import PayloadError
from application.messagebus import UnitOfWorkFactory
from application.ports import CustomerRecord
from application.unit_of_work import UnitOfWork


def push_customer_record(
    cmd: c.PushCustomerRecord, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory
) -> CustomerRecord:
    """Keep the pushed record as a new version (its tax profile becomes the one billing uses);
    the current version when the push repeats it. A record that breaks a rule changes nothing."""
    _refuse_broken(cmd.record)
    record = cmd.record
    with unit_of_work(ctx) as uow:
        current = uow.master_data.customer_record(record.customer_id, record.legal_entity_id)
        if current is not None and same_content(current, record):
            return current
        stored = _keep(uow, record, 0 if current is None else current.version)
        uow.commit()
    return stored


def _refuse_broken(record: CustomerRecord) -> None:
    problems = record_problems(record)
    if problems:
        raise PayloadError([(f"/{field}", detail) for field, detail in problems])


def _keep(uow: UnitOfWork, record: CustomerRecord, known: int) -> CustomerRecord:
    """The record as the next version, its tax profile the one billing uses."""
    stored = attrs.evolve(record, version=known + 1)
    uow.master_data.add_customer_record(stored)
    profile = stored.tax_profile()
    if profile is not None:
        uow.master_data.save_tax_profile(profile)
    summary = (
        f"tax code {stored.tax_code}, currency {stored.currency}, "
        f"payment terms {stored.payment_terms_days} days"
    )
    subject = f"customer:{record.customer_id}:{record.legal_entity_id}"
    uow.record(VersionKept(subject, "push_record", known, stored.version, summary))
    return stored


def seed_customer_records(
    cmd: c.SeedCustomerRecords, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory
) -> int:
    """A seed record becomes version 1 only where the store holds no version yet: what the ERP
    pushed since always wins, and seeding again adds nothing. A seed record may lack fields
    (setup then blocks for them, as it would with the ERP's). Returns how many were kept."""
    with unit_of_work(ctx) as uow:
        kept = [r for r in cmd.records if _seed(uow, r)]
        uow.commit()
    return len(kept)


def _seed(uow: UnitOfWork, record: CustomerRecord) -> bool:
    key = (record.customer_id, record.legal_entity_id)
    if uow.master_data.customer_record(*key) is not None:
        return False
    uow.master_data.add_customer_record(attrs.evolve(record, version=1))
    uow.record(VersionKept(f"customer:{key[0]}:{key[1]}", "seed_record", 0, 1))
    return True
