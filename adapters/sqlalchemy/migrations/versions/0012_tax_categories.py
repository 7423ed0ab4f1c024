"""A tax profile maps tax categories to tax codes (ADR 0030): time and fees, expenses, or
expenses of one category may each take their own code, an exempt one with its reason. A
profile stored before has none (NULL): every line takes its one default code, as before.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sqlalchemy.types import json_document

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tax_profiles", sa.Column("categories", json_document(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tax_profiles") as batch:
        batch.drop_column("categories")
