"""The inbox: inbound webhooks stored raw, keyed by (source, message id), before processing.

Revision ID: 0002
Revises: 0001
Create Date: 2026-03-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sqlalchemy.types import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("message_id", sa.String(), nullable=False),
        sa.Column("event_type", sa.String(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("correlation_id", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("processed_at", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("exception_id", sa.String(), nullable=True),
        sa.Column("steps_done", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source", "message_id", name="pk_inbox"),
    )
    op.create_index("ix_inbox_state_received_at", "inbox", ["state", "received_at"])


def downgrade() -> None:
    op.drop_table("inbox")
