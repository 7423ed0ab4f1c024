"""The ERP pushes a full customer record (ADR 0035): each push that says something new is kept
as the next version, the one before it stays; a push equal to the current version is a replay
and changes nothing."""

from __future__ import annotations

import attrs

from application import commands as c
from application.context import RequestContext
from application.customer_master import record_problems, same_content
from application.errors import PayloadError
from application.handlers.common import audit
from application.messagebus import Dependencies
from application.ports import CustomerRecord


def push_customer_record(
    cmd: c.PushCustomerRecord, ctx: RequestContext, deps: Dependencies
) -> CustomerRecord:
    """Keep the pushed record as a new version (its tax profile becomes the one billing uses);
    the current version when the push repeats it. A record that breaks a rule changes nothing."""
    problems = record_problems(cmd.record)
    if problems:
        raise PayloadError([(f"/{field}", detail) for field, detail in problems])
    record = cmd.record
    with deps.uow(ctx) as uow:
        current = uow.master_data.customer_record(record.customer_id, record.legal_entity_id)
        if current is not None and same_content(current, record):
            return current
        known = 0 if current is None else current.version
        stored = attrs.evolve(record, version=known + 1)
        uow.master_data.add_customer_record(stored)
        profile = stored.tax_profile()
        if profile is not None:
            uow.master_data.save_tax_profile(profile)
        audit(
            uow,
            ctx,
            deps,
            f"customer:{record.customer_id}:{record.legal_entity_id}",
            "push_record",
            None if current is None else f"v{known}",
            f"v{stored.version}",
            f"tax code {stored.tax_code}, currency {stored.currency}, "
            f"payment terms {stored.payment_terms_days} days",
        )
        uow.commit()
        return stored


def seed_customer_records(
    cmd: c.SeedCustomerRecords, ctx: RequestContext, deps: Dependencies
) -> int:
    """A seed record becomes version 1 only where the store holds no version yet: what the ERP
    pushed since always wins, and seeding again adds nothing. A seed record may lack fields
    (setup then blocks for them, as it would with the ERP's). Returns how many were kept."""
    kept = 0
    with deps.uow(ctx) as uow:
        for record in cmd.records:
            key = (record.customer_id, record.legal_entity_id)
            if uow.master_data.customer_record(*key) is not None:
                continue
            uow.master_data.add_customer_record(attrs.evolve(record, version=1))
            audit(uow, ctx, deps, f"customer:{key[0]}:{key[1]}", "seed_record", None, "v1")
            kept += 1
        uow.commit()
    return kept
