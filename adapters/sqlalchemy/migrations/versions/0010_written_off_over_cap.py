"""A delivered item says which part of what it wrote off was given up over a cap (ADR 0028):
the leakage report tells hours written off over a cap from hours written off by hand. Rows
written before this migration cannot tell the two apart: what they wrote off counts as written
off by hand (the server default 0 fills them); their total written off is unchanged.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sqlalchemy.types import ExactDecimal

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_TABLES = ("time_entries", "expenses")


def upgrade() -> None:
    for table in _TABLES:
        op.add_column(
            table,
            sa.Column("written_off_over_cap", ExactDecimal(), nullable=False, server_default="0"),
        )


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("written_off_over_cap")
