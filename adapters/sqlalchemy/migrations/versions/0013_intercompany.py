"""Consultant transfers (ADR 0031): each resource's employment history (the legal entities it
belongs to, effective-dated) as one JSON document per resource, and the transfer pricing
between legal entities as one document.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sqlalchemy.types import json_document

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resource_employments",
        sa.Column("resource_id", sa.String(), nullable=False),
        sa.Column("body", json_document(), nullable=False),
        sa.PrimaryKeyConstraint("resource_id", name="pk_resource_employments"),
    )
    op.create_table(
        "transfer_pricing",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("body", json_document(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_transfer_pricing"),
    )


def downgrade() -> None:
    op.drop_table("transfer_pricing")
    op.drop_table("resource_employments")
