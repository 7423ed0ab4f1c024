"""Finance keeps the master data of our legal entities (ADR 0037): each put that says
something new is kept as the next version, the one before stays; a put equal to the current
version changes nothing. Every kept version is audited."""

from __future__ import annotations

import attrs

from application import commands as c
from application.changes import VersionKept
from application.context import RequestContext
from application.errors import PayloadError
from application.legal_entities import LegalEntityRecord, entity_problems, same_content
from application.messagebus import UnitOfWorkFactory
from application.unit_of_work import UnitOfWork


def put_legal_entity(
    cmd: c.PutLegalEntity, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory
) -> LegalEntityRecord:
    """Keep the record as the legal entity's next version (the current one when the put
    repeats it); a record that breaks a rule changes nothing."""
    _refuse_broken(cmd.record)
    record = cmd.record
    with unit_of_work(ctx) as uow:
        current = uow.master_data.legal_entity(record.legal_entity_id)
        if current is not None and same_content(current, record):
            return current
        stored = _keep(uow, record, 0 if current is None else current.version)
        uow.commit()
    return stored


def _refuse_broken(record: LegalEntityRecord) -> None:
    problems = entity_problems(record)
    if problems:
        raise PayloadError([(f"/{field}", detail) for field, detail in problems])


def _keep(uow: UnitOfWork, record: LegalEntityRecord, known: int) -> LegalEntityRecord:
    stored = attrs.evolve(record, version=known + 1)
    uow.master_data.add_legal_entity(stored)
    summary = f"{stored.legal_name}, VAT id {stored.vat_id or 'none'}"
    subject = f"legal_entity:{record.legal_entity_id}"
    uow.record(VersionKept(subject, "put_master_data", known, stored.version, summary))
    return stored


def seed_legal_entities(
    cmd: c.SeedLegalEntities, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory
) -> int:
    """A seed record becomes version 1 only where the store holds no version yet: what finance
    put since always wins, and seeding again adds nothing. Returns how many were kept."""
    with unit_of_work(ctx) as uow:
        kept = [r for r in cmd.records if _seed(uow, r)]
        uow.commit()
    return len(kept)


def _seed(uow: UnitOfWork, record: LegalEntityRecord) -> bool:
    if uow.master_data.legal_entity(record.legal_entity_id) is not None:
        return False
    uow.master_data.add_legal_entity(attrs.evolve(record, version=1))
    uow.record(VersionKept(f"legal_entity:{record.legal_entity_id}", "seed", 0, 1))
    return True
