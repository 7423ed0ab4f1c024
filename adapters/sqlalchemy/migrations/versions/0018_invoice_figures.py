"""The figures of an invoice beside its snapshot (ADR 0042): its currency, gross, what was
paid and what was credited, so the dashboard adds receivables up in one aggregate statement
and invoice lists show amounts without reading a document per row.

Existing invoices get their figures from their snapshots here; from now on the repository
writes them with every change. Downgrading drops the columns (the snapshots still hold every
figure).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

from adapters.sqlalchemy.types import ExactDecimal, json_document

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_FIGURES = ("gross", "paid", "credited")


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(sa.Column("currency", sa.String(3), nullable=True))
        for name in _FIGURES:
            batch.add_column(sa.Column(name, ExactDecimal(), nullable=True))
    invoices = sa.table(
        "invoices",
        sa.column("id", sa.String()),
        sa.column("body", json_document()),
        sa.column("currency", sa.String()),
        *(sa.column(name, ExactDecimal()) for name in _FIGURES),
    )
    bind = op.get_bind()
    for row_id, body in bind.execute(sa.select(invoices.c.id, invoices.c.body)).all():
        values = _figures(body)
        bind.execute(sa.update(invoices).where(invoices.c.id == row_id).values(**values))


def _figures(body: dict[str, Any]) -> dict[str, Any]:
    def amount(money: dict[str, str] | None) -> Decimal:
        return Decimal(0) if money is None else Decimal(money["amount"])

    return {
        "currency": body["currency"],
        "gross": amount(body["totals"]["gross"]),
        "paid": amount(body.get("paid")),
        "credited": amount(body.get("credited")),
    }


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        for name in reversed(_FIGURES):
            batch.drop_column(name)
        batch.drop_column("currency")
