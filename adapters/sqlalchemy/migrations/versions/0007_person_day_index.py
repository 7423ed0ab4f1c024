"""A person's day found by index (ADR 0025): admission checks the hours already recorded for
the person-days a batch touches, and reads only those rows.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_time_entries_resource_id_work_date", "time_entries", ["resource_id", "work_date"]
    )


def downgrade() -> None:
    op.drop_index("ix_time_entries_resource_id_work_date", table_name="time_entries")
