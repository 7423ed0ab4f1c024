"""Time entries lose their index on the work date alone (ADR 0058, amendment of 2026-12-07):
every entry ingested paid for it, and only the period reports (reconciliation, intercompany
statement) read by the date alone, once per period, where a scan of the table costs less
than building the period's entries does. A person's day keeps its (resource_id, work_date)
index, an obligation's time its (obligation_id) index.

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
    op.drop_index("ix_time_entries_work_date", table_name="time_entries")


def downgrade() -> None:
    op.create_index("ix_time_entries_work_date", "time_entries", ["work_date"])
