"""Running totals of an obligation's recorded time by role, work date and billable (ADR 0059):
the obligations that keep them, and one row per (obligation, role, work date, billable) with
its count of entries and their hours.

Both tables start empty: an obligation's totals are seeded from its entries the first time
admission asks for them, so nothing is copied here. Downgrading drops them; the grouped read
of the entries answers the same question.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sqlalchemy.types import ExactDecimal

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cap_total_obligations",
        sa.Column("obligation_id", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("obligation_id", name="pk_cap_total_obligations"),
    )
    op.create_table(
        "cap_totals",
        sa.Column("obligation_id", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("work_date", sa.Date(), nullable=False),
        sa.Column("billable", sa.Boolean(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("hours", ExactDecimal(), nullable=False),
        sa.PrimaryKeyConstraint(
            "obligation_id", "role", "work_date", "billable", name="pk_cap_totals"
        ),
    )


def downgrade() -> None:
    op.drop_table("cap_totals")
    op.drop_table("cap_total_obligations")
