"""The outbox's due rows in commit order: a partial index for the relay's claims.

Without it a PostgreSQL claim walks the primary key from the first event ever written and
filters out the delivered history, so every claim costs more as the outbox grows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-03-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_DUE = sa.text("state IN ('pending', 'failed')")


def upgrade() -> None:
    op.create_index(
        "ix_outbox_due", "outbox", ["sequence"], postgresql_where=_DUE, sqlite_where=_DUE
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_due", table_name="outbox")
