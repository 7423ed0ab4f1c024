"""Ledger entries say whether a credit memo made them (ADR 0026): what a milestone or an
installment still has to bill is read from what invoices billed, apart from what credits took
back, and a withheld retention is negative without being a credit. Existing rows are marked
from the document they belong to: the entries of a credit memo are credits.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ledger = sa.table(
    "ledger_entries",
    sa.column("document_id", sa.String()),
    sa.column("credit", sa.Boolean()),
)
_memos = sa.table("credit_memos", sa.column("id", sa.String()))


def upgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch:
        batch.add_column(
            sa.Column("credit", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.get_bind().execute(
        sa.update(_ledger)
        .where(_ledger.c.document_id.in_(sa.select(_memos.c.id)))
        .values(credit=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_column("credit")
