"""Finance keeps the master data of our legal entities (ADR 0037): each put that says
something new is kept as the next version, the one before stays; a put equal to the current
version changes nothing. Every kept version is audited."""

from __future__ import annotations

import attrs

from application import commands as c
from application.context import RequestContext
from application.errors import PayloadError
from application.handlers.common import audit
from application.legal_entities import LegalEntityRecord, entity_problems, same_content
from application.messagebus import Dependencies


def put_legal_entity(
    cmd: c.PutLegalEntity, ctx: RequestContext, deps: Dependencies
) -> LegalEntityRecord:
    """Keep the record as the legal entity's next version (the current one when the put
    repeats it); a record that breaks a rule changes nothing."""
    problems = entity_problems(cmd.record)
    if problems:
        raise PayloadError([(f"/{field}", detail) for field, detail in problems])
    record = cmd.record
    with deps.uow(ctx) as uow:
        current = uow.master_data.legal_entity(record.legal_entity_id)
        if current is not None and same_content(current, record):
            return current
        known = 0 if current is None else current.version
        stored = attrs.evolve(record, version=known + 1)
        uow.master_data.add_legal_entity(stored)
        audit(
            uow,
            ctx,
            deps,
            f"legal_entity:{record.legal_entity_id}",
            "put_master_data",
            None if current is None else f"v{known}",
            f"v{stored.version}",
            f"{stored.legal_name}, VAT id {stored.vat_id or 'none'}",
        )
        uow.commit()
        return stored


def seed_legal_entities(cmd: c.SeedLegalEntities, ctx: RequestContext, deps: Dependencies) -> int:
    """A seed record becomes version 1 only where the store holds no version yet: what finance
    put since always wins, and seeding again adds nothing. Returns how many were kept."""
    kept = 0
    with deps.uow(ctx) as uow:
        for record in cmd.records:
            if uow.master_data.legal_entity(record.legal_entity_id) is not None:
                continue
            uow.master_data.add_legal_entity(attrs.evolve(record, version=1))
            audit(uow, ctx, deps, f"legal_entity:{record.legal_entity_id}", "seed", None, "v1")
            kept += 1
        uow.commit()
    return kept
