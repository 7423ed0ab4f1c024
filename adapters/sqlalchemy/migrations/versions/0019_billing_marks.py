"""What a committed billing run left settled, per obligation (ADR 0048): the period and a
stamp of the obligation's inputs, so a re-run of the period skips what has not changed.

The table starts empty: the first run of a period after this migration bills in full, as
before, and marks what it settles. Downgrading drops the table; nothing else reads it.

Revision ID: 0022
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billing_marks",
        sa.Column("obligation_id", sa.String(), primary_key=True),
        sa.Column("period", sa.String(), nullable=False),
        sa.Column("stamp", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("billing_marks")
