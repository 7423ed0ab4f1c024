"""The W3C trace context of the request that wrote an outbox event, so the relay continues
that trace when it delivers the event (ADR 0020). Null when tracing was off.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("traceparent", sa.String(), nullable=True))
    op.add_column("outbox", sa.Column("tracestate", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("tracestate")
        batch.drop_column("traceparent")
