"""The initial schema: aggregates as key columns + revision + JSON snapshot; bulk data relational.

Revision ID: 0001
Revises:
Create Date: 2026-03-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from adapters.sqlalchemy.types import ExactDecimal, UtcDateTime, big_id, json_document

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _aggregate(
    name: str,
    *columns: sa.Column[object],
    indexes: tuple[str, ...] = (),
    unique: tuple[str, ...] = (),
) -> None:
    """id, the key columns, revision and body; SQLite cannot add constraints later."""
    op.create_table(
        name,
        sa.Column("id", sa.String(), nullable=False),
        *columns,
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("body", json_document(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
        *(sa.UniqueConstraint(column, name=f"uq_{name}_{column}") for column in unique),
    )
    for column in indexes:
        op.create_index(f"ix_{name}_{column}", name, [column])


def upgrade() -> None:
    _aggregate(
        "contracts",
        sa.Column("customer_id", sa.String(), nullable=False),
        indexes=("customer_id",),
    )
    _aggregate("rate_cards")
    _aggregate(
        "engagements",
        sa.Column("contract_id", sa.String(), nullable=False),
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        indexes=("contract_id", "customer_id"),
    )
    _aggregate(
        "milestones",
        sa.Column("obligation_id", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("passive_acceptance_due_on", sa.Date(), nullable=True),
        indexes=("obligation_id",),
    )
    op.create_index(
        "ix_milestones_state_passive_acceptance_due_on",
        "milestones",
        ["state", "passive_acceptance_due_on"],
    )
    _aggregate(
        "invoices",
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("contract_id", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("number", sa.String(), nullable=True),
        sa.Column("issue_date", sa.Date(), nullable=True),
        indexes=("customer_id", "contract_id", "state"),
        unique=("number",),
    )
    _aggregate(
        "credit_memos",
        sa.Column("invoice_id", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("number", sa.String(), nullable=True),
        indexes=("invoice_id",),
        unique=("number",),
    )
    _aggregate(
        "accounting_periods",
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
    )
    _aggregate(
        "integration_exceptions",
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
        indexes=("subject",),
    )
    op.create_index(
        "ix_integration_exceptions_state_next_attempt_at",
        "integration_exceptions",
        ["state", "next_attempt_at"],
    )

    op.create_table(
        "time_entries",
        sa.Column("entry_id", sa.String(), nullable=False),
        sa.Column("obligation_id", sa.String(), nullable=False),
        sa.Column("resource_id", sa.String(), nullable=False),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("task_id", sa.String(), nullable=False),
        sa.Column("work_date", sa.Date(), nullable=False),
        sa.Column("hours", ExactDecimal(), nullable=False),
        sa.Column("billable", sa.Boolean(), nullable=False),
        sa.Column("cost_rate", ExactDecimal(), nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("held", ExactDecimal(), nullable=False),
        sa.Column("released", ExactDecimal(), nullable=False),
        sa.Column("written_off", ExactDecimal(), nullable=False),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name="pk_time_entries"),
    )
    op.create_index("ix_time_entries_obligation_id", "time_entries", ["obligation_id"])
    op.create_index("ix_time_entries_work_date", "time_entries", ["work_date"])

    op.create_table(
        "expenses",
        sa.Column("expense_id", sa.String(), nullable=False),
        sa.Column("obligation_id", sa.String(), nullable=False),
        sa.Column("resource_id", sa.String(), nullable=False),
        sa.Column("category", sa.String(), nullable=False),
        sa.Column("incurred_on", sa.Date(), nullable=False),
        sa.Column("cost", ExactDecimal(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("held", ExactDecimal(), nullable=False),
        sa.Column("released", ExactDecimal(), nullable=False),
        sa.Column("written_off", ExactDecimal(), nullable=False),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("expense_id", name="pk_expenses"),
    )
    op.create_index("ix_expenses_obligation_id", "expenses", ["obligation_id"])
    op.create_index("ix_expenses_incurred_on", "expenses", ["incurred_on"])

    op.create_table(
        "ledger_entries",
        sa.Column("id", big_id(), autoincrement=True, nullable=False),
        sa.Column("contract_id", sa.String(), nullable=False),
        sa.Column("document_id", sa.String(), nullable=False),
        sa.Column("obligation_id", sa.String(), nullable=False),
        sa.Column("source_kind", sa.String(), nullable=False),
        sa.Column("source_id", sa.String(), nullable=False),
        sa.Column("quantity", ExactDecimal(), nullable=False),
        sa.Column("amount", ExactDecimal(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("write_off", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_entries"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_ledger_entries_contract_id", "ledger_entries", ["contract_id"])
    op.create_index("ix_ledger_entries_document_id", "ledger_entries", ["document_id"])

    op.create_table(
        "journal_entries",
        sa.Column("sequence", big_id(), autoincrement=True, nullable=False),
        sa.Column("entry_id", sa.String(), nullable=False),
        sa.Column("posted_on", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("source_document", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name="pk_journal_entries"),
        sa.UniqueConstraint("entry_id", name="uq_journal_entries_entry_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_journal_entries_posted_on", "journal_entries", ["posted_on"])
    op.create_table(
        "journal_lines",
        sa.Column("entry_id", sa.String(), nullable=False),
        sa.Column("line_no", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("account", sa.String(), nullable=False),
        sa.Column("obligation_id", sa.String(), nullable=True),
        sa.Column("debit", ExactDecimal(), nullable=False),
        sa.Column("credit", ExactDecimal(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["journal_entries.entry_id"],
            name="fk_journal_lines_entry_id_journal_entries",
        ),
        sa.PrimaryKeyConstraint("entry_id", "line_no", name="pk_journal_lines"),
    )
    op.create_index("ix_journal_lines_obligation_id", "journal_lines", ["obligation_id"])

    op.create_table(
        "outbox",
        sa.Column("sequence", big_id(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(), nullable=False),
        sa.Column("aggregate_type", sa.String(), nullable=False),
        sa.Column("aggregate_id", sa.String(), nullable=False),
        sa.Column("event_type", sa.String(), nullable=False),
        sa.Column("payload", json_document(), nullable=False),
        sa.Column("correlation_id", sa.String(), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(), nullable=True),
        sa.Column("claimed_at", UtcDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("sequence", name="pk_outbox"),
        sa.UniqueConstraint("event_id", name="uq_outbox_event_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_outbox_state_next_attempt_at", "outbox", ["state", "next_attempt_at"])
    op.create_index(
        "ix_outbox_aggregate_type_aggregate_id", "outbox", ["aggregate_type", "aggregate_id"]
    )

    op.create_table(
        "audit_log",
        sa.Column("sequence", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("actor", sa.String(), nullable=False),
        sa.Column("correlation_id", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("before", sa.String(), nullable=True),
        sa.Column("after", sa.String(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("previous_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_subject", "audit_log", ["subject"])

    op.create_table(
        "idempotency_keys",
        sa.Column("principal", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("principal", "key", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"])

    op.create_table(
        "sequences",
        sa.Column("series", sa.String(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("series", name="pk_sequences"),
    )
    op.create_table(
        "tax_profiles",
        sa.Column("customer_id", sa.String(), nullable=False),
        sa.Column("legal_entity_id", sa.String(), nullable=False),
        sa.Column("tax_code", sa.String(), nullable=False),
        sa.Column("reverse_charge", sa.Boolean(), nullable=False),
        sa.Column("legal_note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "legal_entity_id", name="pk_tax_profiles"),
    )
    op.create_table(
        "tax_rates",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("body", json_document(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tax_rates"),
    )


def downgrade() -> None:
    for table in (
        "tax_rates",
        "tax_profiles",
        "sequences",
        "idempotency_keys",
        "audit_log",
        "outbox",
        "journal_lines",
        "journal_entries",
        "ledger_entries",
        "expenses",
        "time_entries",
        "integration_exceptions",
        "accounting_periods",
        "credit_memos",
        "invoices",
        "milestones",
        "engagements",
        "rate_cards",
        "contracts",
    ):
        op.drop_table(table)
