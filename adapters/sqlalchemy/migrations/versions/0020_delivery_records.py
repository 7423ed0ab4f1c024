"""Records of the delivery kinds billing models declare (ADR 0050): one table for every kind,
keyed by (kind, record id), the record's own fields as a JSON payload; and every revision each
record had, so a correction keeps what was reported before it.

Both tables start empty. Downgrading drops them and the records with them.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sqlalchemy.types import UtcDateTime, json_document

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_records",
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("record_id", sa.String(), nullable=False),
        sa.Column("obligation_id", sa.String(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("payload", json_document(), nullable=False),
        sa.Column("reported_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "record_id", name="pk_delivery_records"),
    )
    op.create_index(
        "ix_delivery_records_obligation_id", "delivery_records", ["obligation_id"], unique=False
    )
    op.create_table(
        "delivery_record_revisions",
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("record_id", sa.String(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("obligation_id", sa.String(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("payload", json_document(), nullable=False),
        sa.Column("reported_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "kind", "record_id", "revision", name="pk_delivery_record_revisions"
        ),
    )


def downgrade() -> None:
    op.drop_table("delivery_record_revisions")
    op.drop_index("ix_delivery_records_obligation_id", table_name="delivery_records")
    op.drop_table("delivery_records")
