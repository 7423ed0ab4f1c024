"""The ERP's answer to each journal entry posted to it (ADR 0034): its document number, kept
once per entry, so the journal shows which entries the general ledger has booked.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sqlalchemy.types import UtcDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journal_acknowledgements",
        sa.Column(
            "entry_id",
            sa.String(),
            sa.ForeignKey("journal_entries.entry_id"),
            primary_key=True,
        ),
        sa.Column("erp_document", sa.String(), nullable=False),
        sa.Column("acknowledged_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("journal_acknowledgements")
