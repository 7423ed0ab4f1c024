"""The seller's master data and due dates (ADR 0037): every version of each of our legal
entities (legal name, address, VAT id, payment account) as one JSON document per version, and
the due date an invoice is given at issue as a column beside its snapshot.

Invoices issued before this migration keep no due date (the column stays NULL and their
snapshots have none): their terms were never recorded, and an issued invoice is not edited.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sqlalchemy.types import json_document

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "legal_entities",
        sa.Column("legal_entity_id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("body", json_document(), nullable=False),
        sa.PrimaryKeyConstraint("legal_entity_id", "version", name="pk_legal_entities"),
    )
    op.add_column("invoices", sa.Column("due_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("due_date")
    op.drop_table("legal_entities")
