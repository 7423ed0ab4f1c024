"""Split billing (ADR 0029): an invoice names the payer it bills, as a column to filter on, and
each row of the billed ledger names the payer a split obligation billed. Existing invoices bill
their customer; existing ledger rows stay without a payer (the customer's).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(sa.Column("payer_id", sa.String(), nullable=True))
        batch.create_index("ix_invoices_payer_id", ["payer_id"])
    invoices = sa.table(
        "invoices", sa.column("customer_id", sa.String()), sa.column("payer_id", sa.String())
    )
    op.execute(sa.update(invoices).values(payer_id=invoices.c.customer_id))
    with op.batch_alter_table("ledger_entries") as batch:
        batch.add_column(sa.Column("payer", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_column("payer")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_index("ix_invoices_payer_id")
        batch.drop_column("payer_id")
