"""Journal entries as handed to the ERP (ADR 0034): each entry mapped to its legal entity's
accounts with its dimensions, and the ERP's document number once the ERP has answered (the
journal reads and the trial balance come from here); and the charts of accounts finance sets
over the API (ADR 0033).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sqlalchemy.types import UtcDateTime, big_id, json_document

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journal_postings",
        sa.Column("sequence", big_id(), primary_key=True, autoincrement=True),
        sa.Column(
            "entry_id",
            sa.String(),
            sa.ForeignKey("journal_entries.entry_id"),
            nullable=False,
            unique=True,
        ),
        sa.Column("legal_entity_id", sa.String(), nullable=False),
        sa.Column("posted_on", sa.Date(), nullable=False),
        sa.Column("source_document", sa.String(), nullable=False),
        sa.Column("payload", json_document(), nullable=False),
        sa.Column("erp_document", sa.String(), nullable=True),
        sa.Column("acknowledged_at", UtcDateTime(), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_journal_postings_entity_date", "journal_postings", ["legal_entity_id", "posted_on"]
    )

    op.create_table(
        "charts_of_accounts",
        sa.Column("legal_entity_id", sa.String(), primary_key=True),
        sa.Column("document", json_document(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("charts_of_accounts")
    op.drop_index("ix_journal_postings_entity_date", table_name="journal_postings")
    op.drop_table("journal_postings")
