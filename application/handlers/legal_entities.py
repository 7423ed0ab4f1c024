"""Finance keeps the master data of our legal entities (ADR 0037): each put that says
something new is kept as the next version, the one before stays; a put equal to the current
version changes nothing. Every kept version is audited (application/handlers/versions.py)."""

from __future__ import annotations

from application import commands as c
from application.context import RequestContext
from application.handlers.versions import VersionedRecords
from application.legal_entities import LegalEntityRecord, entity_problems
from application.messagebus import UnitOfWorkFactory


def put_legal_entity(
    cmd: c.PutLegalEntity, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory
) -> LegalEntityRecord:
    """Keep the record as the legal entity's next version (the current one when the put
    repeats it); a record that breaks a rule changes nothing."""
    return LEGAL_ENTITIES.put(unit_of_work, ctx, cmd.record)


def seed_legal_entities(
    cmd: c.SeedLegalEntities, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory
) -> int:
    """A seed record becomes version 1 only where the store holds no version yet: what finance
    put since always wins, and seeding again adds nothing. Returns how many were kept."""
    return LEGAL_ENTITIES.seed(unit_of_work, ctx, cmd.records)


LEGAL_ENTITIES: VersionedRecords[LegalEntityRecord] = VersionedRecords(
    subject=lambda r: f"legal_entity:{r.legal_entity_id}",
    current=lambda uow, r: uow.master_data.legal_entity(r.legal_entity_id),
    add=lambda uow, r: uow.master_data.add_legal_entity(r),
    problems=entity_problems,
    summary=lambda r: f"{r.legal_name}, VAT id {r.vat_id or 'none'}",
    put_action="put_master_data",
    seed_action="seed",
)
