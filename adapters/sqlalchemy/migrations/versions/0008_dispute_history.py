"""An invoice keeps its disputes as history (ADR 0012): the stored `dispute_reason`, which
outlived the dispute it named, becomes the invoice's `disputes`. A reason on a disputed
invoice is its open dispute; a reason left on any other invoice is a dispute that ended before
the history was kept, recorded as resolved (when is not known). No column changes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from adapters.sqlalchemy.types import json_document

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LEGACY_RESOLUTION = "resolved before Throughline kept a dispute history"

_invoices = sa.table(
    "invoices",
    sa.column("id", sa.String()),
    sa.column("state", sa.String()),
    sa.column("body", json_document()),
)


def _history(reason: str | None, state: str) -> list[dict[str, Any]]:
    if reason is None:
        return []
    resolution = None if state == "disputed" else LEGACY_RESOLUTION
    return [
        {
            "reason": reason,
            "opened_at": None,
            "resolution": resolution,
            "resolved_at": None,
            "credit_memo_id": None,
        }
    ]


def _rewrite(change: Any) -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_invoices.c.id, _invoices.c.state, _invoices.c.body)).all()
    for invoice_id, state, body in rows:
        changed = change(dict(body), state)
        if changed is not None:
            bind.execute(
                sa.update(_invoices).where(_invoices.c.id == invoice_id).values(body=changed)
            )


def _upgraded(body: dict[str, Any], state: str) -> dict[str, Any] | None:
    if "dispute_reason" not in body:
        return None
    body["disputes"] = _history(body.pop("dispute_reason"), state)
    return body


def _downgraded(body: dict[str, Any], state: str) -> dict[str, Any] | None:
    if "disputes" not in body:
        return None
    disputes = body.pop("disputes")
    body["dispute_reason"] = disputes[-1]["reason"] if disputes else None
    return body


def upgrade() -> None:
    _rewrite(_upgraded)


def downgrade() -> None:
    _rewrite(_downgraded)
