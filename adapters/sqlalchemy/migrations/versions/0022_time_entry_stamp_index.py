"""The time entries' obligation index carries each entry's revision, so the billing run's
settled-mark stamp (ADR 0048: per obligation, how many entries and their revisions summed) is
read from the index alone, without a lookup of each entry's row (ADR 0060).

The new index replaces the one on the obligation alone: every read by obligation uses its
first column as before, and ingest still maintains one index for it. Downgrading restores the
index on the obligation alone.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_time_entries_obligation_id_revision", "time_entries", ["obligation_id", "revision"]
    )
    op.drop_index("ix_time_entries_obligation_id", table_name="time_entries")


def downgrade() -> None:
    op.create_index("ix_time_entries_obligation_id", "time_entries", ["obligation_id"])
    op.drop_index("ix_time_entries_obligation_id_revision", table_name="time_entries")
