"""Natural keys (ADR 0024): a fact that has an id in its source system (a payment, a dispute)
is recorded once. The primary key (kind, source, key) is the constraint; the row keeps the
fact's canonical content, so a repeat is a replay or a conflict that names the field, and
when, by whom and under which correlation id it was first recorded.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sqlalchemy.types import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "natural_keys",
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("correlation_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "source", "key", name="pk_natural_keys"),
    )


def downgrade() -> None:
    op.drop_table("natural_keys")
