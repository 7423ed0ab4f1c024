"""The journal gaps an ERP would notice (ADR 0040): each tax payable line names its tax code,
an invoice keeps what was written off as uncollectable, and an engagement keeps the PSA's
reference of the project provisioned for it.

Journal lines posted before this migration keep no tax code (they were posted as one tax line
per document); invoices written before it have written nothing off; engagements set up before
it have no project code, since the PSA's answer was not kept then: the new columns start null.

Downgrading drops the columns and takes the two new fields out of the invoice and engagement
snapshots (the code before this migration refuses keys it does not know), so it forgets the
project codes and the amounts written off; the write-off journal entries stay. An invoice in
the `written_off` state has no earlier form: write-offs are not undone by a downgrade.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from adapters.sqlalchemy.types import ExactDecimal, json_document

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("journal_lines") as batch:
        batch.add_column(sa.Column("tax_code", sa.String(), nullable=True))
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(sa.Column("written_off", ExactDecimal(), nullable=True))
    with op.batch_alter_table("engagements") as batch:
        batch.add_column(sa.Column("project_code", sa.String(), nullable=True))
        batch.create_index("ix_engagements_project_code", ["project_code"])


def _forget(table_name: str, key: str) -> None:
    """Take `key` out of every snapshot of the table that has it."""
    table = sa.table(table_name, sa.column("id", sa.String()), sa.column("body", json_document()))
    bind = op.get_bind()
    for row_id, body in bind.execute(sa.select(table.c.id, table.c.body)).all():
        if key in body:
            kept: dict[str, Any] = {k: v for k, v in body.items() if k != key}
            bind.execute(sa.update(table).where(table.c.id == row_id).values(body=kept))


def downgrade() -> None:
    _forget("engagements", "project_code")
    _forget("invoices", "written_off")
    with op.batch_alter_table("engagements") as batch:
        batch.drop_index("ix_engagements_project_code")
        batch.drop_column("project_code")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("written_off")
    with op.batch_alter_table("journal_lines") as batch:
        batch.drop_column("tax_code")
