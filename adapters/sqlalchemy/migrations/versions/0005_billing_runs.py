"""What operations watches (ADR 0022): a row per committed billing run, written in the run's
transaction, so the last run's duration and size are known whichever process ran it; and a
partial index over the idempotency claims still in progress, so counting them does not read a
day of completed keys.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sqlalchemy.types import UtcDateTime, big_id

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_IN_PROGRESS = sa.text("status = 'in_progress'")


def upgrade() -> None:
    op.create_table(
        "billing_runs",
        sa.Column("sequence", big_id(), autoincrement=True, nullable=False),
        sa.Column("period", sa.String(), nullable=False),
        sa.Column("invoices", sa.Integer(), nullable=False),
        sa.Column("adjustments", sa.Integer(), nullable=False),
        sa.Column("duration_microseconds", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("correlation_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name="pk_billing_runs"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_idempotency_keys_in_progress",
        "idempotency_keys",
        ["created_at"],
        postgresql_where=_IN_PROGRESS,
        sqlite_where=_IN_PROGRESS,
    )


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_in_progress", table_name="idempotency_keys")
    op.drop_table("billing_runs")
