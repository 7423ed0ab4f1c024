"""The customer master, inbound (ADR 0035): every version of each customer record the ERP
pushed, keyed by customer, legal entity and version, the record itself one JSON document.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sqlalchemy.types import json_document

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_records",
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("legal_entity_id", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("body", json_document(), nullable=False),
        sa.PrimaryKeyConstraint(
            "customer_id", "legal_entity_id", "version", name="pk_customer_records"
        ),
    )


def downgrade() -> None:
    op.drop_table("customer_records")
