"""The schema, as SQLAlchemy Core tables. Alembic migrations create it; this module describes
it for the data mapper (and for the test that checks the two agree).

Aggregates are one row each: the key columns the repositories query by, the domain-owned
`revision` (optimistic concurrency) and the converter's JSON snapshot in `body`. What arrives
or is read in bulk (time entries, expenses, the billed ledger, the journal, the outbox, the
audit trail) is fully relational, so it is written with one executemany and read without
parsing a document per row.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from adapters.sqlalchemy.types import ExactDecimal, UtcDateTime, big_id, json_document

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def _id() -> sa.Column[str]:
    return sa.Column("id", sa.String(), primary_key=True)


def _revision() -> sa.Column[int]:
    return sa.Column("revision", sa.Integer(), nullable=False)


def _body() -> sa.Column[object]:
    return sa.Column("body", json_document(), nullable=False)


def _decisions() -> list[sa.Column[Any]]:
    """Where a delivered item (a time entry, an expense) stands after the decisions people took
    on it: the same columns, in the same order, in both tables."""
    return [
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("held", ExactDecimal(), nullable=False),
        sa.Column("released", ExactDecimal(), nullable=False),
        sa.Column("written_off", ExactDecimal(), nullable=False),
        sa.Column("rejection_reason", sa.Text(), nullable=True),
        _revision(),
        # The part of written_off given up over a cap (migration 0010).
        sa.Column("written_off_over_cap", ExactDecimal(), nullable=False),
    ]


def _documents(name: str, *key: sa.Column[Any]) -> sa.Table:
    """Master data kept whole as one JSON document per key (versions are never updated)."""
    return sa.Table(name, metadata, *key, _body())


def _key(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.String(), primary_key=True)


def _number(name: str) -> sa.Column[int]:
    """A numeric key part the application sets (a version, the one row's id), never generated."""
    return sa.Column(name, sa.Integer(), primary_key=True, autoincrement=False)


# Aggregates: key columns + revision + JSON snapshot ------------------------------------------

contracts = sa.Table(
    "contracts",
    metadata,
    _id(),
    sa.Column("customer_id", sa.String(), nullable=False, index=True),
    _revision(),
    _body(),
)

rate_cards = sa.Table("rate_cards", metadata, _id(), _revision(), _body())

engagements = sa.Table(
    "engagements",
    metadata,
    _id(),
    sa.Column("contract_id", sa.String(), nullable=False, index=True),
    sa.Column("customer_id", sa.String(), nullable=False, index=True),
    sa.Column("state", sa.String(), nullable=False),
    # The PSA's reference of the project provisioned for it (migration 0017); null before.
    sa.Column("project_code", sa.String(), nullable=True, index=True),
    _revision(),
    _body(),
)

milestones = sa.Table(
    "milestones",
    metadata,
    _id(),
    sa.Column("obligation_id", sa.String(), nullable=False, index=True),
    sa.Column("state", sa.String(), nullable=False),
    sa.Column("passive_acceptance_due_on", sa.Date(), nullable=True),
    _revision(),
    _body(),
    sa.Index(None, "state", "passive_acceptance_due_on"),
)

invoices = sa.Table(
    "invoices",
    metadata,
    _id(),
    sa.Column("customer_id", sa.String(), nullable=False, index=True),
    sa.Column("contract_id", sa.String(), nullable=False, index=True),
    sa.Column("state", sa.String(), nullable=False, index=True),
    sa.Column("number", sa.String(), nullable=True, unique=True),
    sa.Column("issue_date", sa.Date(), nullable=True),
    # Who the invoice bills: its payer under split billing, else the customer (migration 0011).
    sa.Column("payer_id", sa.String(), nullable=True, index=True),
    # When payment is due: the issue date plus the payer's terms (ADR 0037, migration 0016).
    sa.Column("due_date", sa.Date(), nullable=True),
    # What was written off as uncollectable (migration 0017, ADR 0040); null: nothing.
    sa.Column("written_off", ExactDecimal(), nullable=True),
    # Its figures beside the snapshot, for aggregates and lists (migration 0018, ADR 0042).
    sa.Column("currency", sa.String(3), nullable=True),
    sa.Column("gross", ExactDecimal(), nullable=True),
    sa.Column("paid", ExactDecimal(), nullable=True),
    sa.Column("credited", ExactDecimal(), nullable=True),
    _revision(),
    _body(),
)

credit_memos = sa.Table(
    "credit_memos",
    metadata,
    _id(),
    sa.Column("invoice_id", sa.String(), nullable=False, index=True),
    sa.Column("state", sa.String(), nullable=False),
    sa.Column("number", sa.String(), nullable=True, unique=True),
    _revision(),
    _body(),
)

accounting_periods = sa.Table(
    "accounting_periods",
    metadata,
    _id(),
    sa.Column("period_start", sa.Date(), nullable=False),
    sa.Column("period_end", sa.Date(), nullable=False),
    sa.Column("state", sa.String(), nullable=False),
    _revision(),
    _body(),
)

integration_exceptions = sa.Table(
    "integration_exceptions",
    metadata,
    _id(),
    sa.Column("subject", sa.String(), nullable=False, index=True),
    sa.Column("state", sa.String(), nullable=False),
    sa.Column("next_attempt_at", UtcDateTime(), nullable=True),
    _revision(),
    _body(),
    sa.Index(None, "state", "next_attempt_at"),
)

# Bulk: relational rows ------------------------------------------------------------------------

time_entries = sa.Table(
    "time_entries",
    metadata,
    sa.Column("entry_id", sa.String(), primary_key=True),
    sa.Column("obligation_id", sa.String(), nullable=False),
    sa.Column("resource_id", sa.String(), nullable=False),
    sa.Column("role", sa.String(), nullable=False),
    sa.Column("task_id", sa.String(), nullable=False),
    sa.Column("work_date", sa.Date(), nullable=False, index=True),
    sa.Column("hours", ExactDecimal(), nullable=False),
    sa.Column("billable", sa.Boolean(), nullable=False),
    sa.Column("cost_rate", ExactDecimal(), nullable=True),
    *_decisions(),
    # A person's day, read by admission for the days a batch touches (migration 0007).
    sa.Index(None, "resource_id", "work_date"),
    sa.Index(None, "obligation_id", "revision"),  # billing stamps count from it (migration 0022)
)

expenses = sa.Table(
    "expenses",
    metadata,
    sa.Column("expense_id", sa.String(), primary_key=True),
    sa.Column("obligation_id", sa.String(), nullable=False, index=True),
    sa.Column("resource_id", sa.String(), nullable=False),
    sa.Column("category", sa.String(), nullable=False),
    sa.Column("incurred_on", sa.Date(), nullable=False, index=True),
    sa.Column("cost", ExactDecimal(), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    *_decisions(),
)

ledger_entries = sa.Table(
    "ledger_entries",
    metadata,
    sa.Column("id", big_id(), primary_key=True, autoincrement=True),
    sa.Column("contract_id", sa.String(), nullable=False, index=True),
    sa.Column("document_id", sa.String(), nullable=False, index=True),
    sa.Column("obligation_id", sa.String(), nullable=False),
    sa.Column("source_kind", sa.String(), nullable=False),
    sa.Column("source_id", sa.String(), nullable=False),
    sa.Column("quantity", ExactDecimal(), nullable=False),
    sa.Column("amount", ExactDecimal(), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("terms", sa.Text(), nullable=False),
    sa.Column("write_off", sa.Boolean(), nullable=False),
    # The payer a split obligation billed (null: the customer), migration 0011.
    sa.Column("payer", sa.String(), nullable=True),
    # Made by a credit memo (ADR 0026); migration 0009 back-fills it.
    sa.Column("credit", sa.Boolean(), nullable=False, server_default=sa.false()),
    sqlite_autoincrement=True,
)

journal_entries = sa.Table(
    "journal_entries",
    metadata,
    sa.Column("sequence", big_id(), primary_key=True, autoincrement=True),
    sa.Column("entry_id", sa.String(), nullable=False, unique=True),
    sa.Column("posted_on", sa.Date(), nullable=False, index=True),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("source_document", sa.String(), nullable=False),
    sqlite_autoincrement=True,
)

journal_lines = sa.Table(
    "journal_lines",
    metadata,
    sa.Column(
        "entry_id",
        sa.String(),
        sa.ForeignKey("journal_entries.entry_id"),
        primary_key=True,
    ),
    sa.Column("line_no", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("account", sa.String(), nullable=False),
    sa.Column("obligation_id", sa.String(), nullable=True, index=True),
    sa.Column("debit", ExactDecimal(), nullable=False),
    sa.Column("credit", ExactDecimal(), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
    sa.Column("memo", sa.Text(), nullable=False),
    # The tax code of a tax payable line, one line per code (migration 0017, ADR 0040).
    sa.Column("tax_code", sa.String(), nullable=True),
)

#: Journal entries as handed to the ERP, and its document number once it answered (ADR 0034).
journal_postings = sa.Table(
    "journal_postings",
    metadata,
    sa.Column("sequence", big_id(), primary_key=True, autoincrement=True),
    sa.Column(
        "entry_id",
        sa.String(),
        sa.ForeignKey("journal_entries.entry_id"),
        nullable=False,
        unique=True,
    ),
    sa.Column("legal_entity_id", sa.String(), nullable=False),
    sa.Column("posted_on", sa.Date(), nullable=False),
    sa.Column("source_document", sa.String(), nullable=False),
    sa.Column("payload", json_document(), nullable=False),
    sa.Column("erp_document", sa.String(), nullable=True),
    sa.Column("acknowledged_at", UtcDateTime(), nullable=True),
    sa.Index("ix_journal_postings_entity_date", "legal_entity_id", "posted_on"),
    sqlite_autoincrement=True,
)

#: Charts of accounts finance set over the API, one JSON document per legal entity (ADR 0033).
charts_of_accounts = sa.Table(
    "charts_of_accounts",
    metadata,
    sa.Column("legal_entity_id", sa.String(), primary_key=True),
    sa.Column("document", json_document(), nullable=False),
)

# Integration machinery ------------------------------------------------------------------------

outbox = sa.Table(
    "outbox",
    metadata,
    # SQLite autoincrements only its INTEGER PRIMARY KEY, so the commit-ordered sequence is
    # the primary key and the event id (the CloudEvents id) a unique key.
    sa.Column("sequence", big_id(), primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(), nullable=False, unique=True),
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
    # The W3C trace context of the writing request (migration 0004; ADR 0020).
    sa.Column("traceparent", sa.String(), nullable=True),
    sa.Column("tracestate", sa.String(), nullable=True),
    sa.Index(None, "state", "next_attempt_at"),
    sa.Index(None, "aggregate_type", "aggregate_id"),
    sqlite_autoincrement=True,
)

#: The delivery states a relay may claim from (ADR 0016).
CLAIMABLE_STATES = ("pending", "failed")

# Only the rows still to be sent, in commit order: a claim walks these instead of the whole
# delivered history (migration 0003).
sa.Index(
    "ix_outbox_due",
    outbox.c.sequence,
    postgresql_where=outbox.c.state.in_(CLAIMABLE_STATES),
    sqlite_where=outbox.c.state.in_(CLAIMABLE_STATES),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("sequence", sa.BigInteger(), primary_key=True, autoincrement=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("actor", sa.String(), nullable=False),
    sa.Column("correlation_id", sa.String(), nullable=False),
    sa.Column("subject", sa.String(), nullable=False, index=True),
    sa.Column("action", sa.String(), nullable=False),
    sa.Column("before", sa.String(), nullable=True),
    sa.Column("after", sa.String(), nullable=True),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("previous_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("principal", sa.String(), primary_key=True),
    sa.Column("key", sa.String(), primary_key=True),
    sa.Column("fingerprint", sa.String(), nullable=False),
    sa.Column("status", sa.String(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False, index=True),
    sa.Column("response_status", sa.Integer(), nullable=True),
    sa.Column("response_body", sa.Text(), nullable=True),
)

# The claims still running, for the in-progress gauge: a count that does not read a day of
# completed keys (migration 0005; ADR 0022).
_IN_PROGRESS = idempotency_keys.c.status == "in_progress"
sa.Index(
    "ix_idempotency_keys_in_progress",
    idempotency_keys.c.created_at,
    postgresql_where=_IN_PROGRESS,
    sqlite_where=_IN_PROGRESS,
)

billing_runs = sa.Table(
    "billing_runs",
    metadata,
    # One row per committed billing run, written in its transaction (migration 0005; ADR 0022).
    sa.Column("sequence", big_id(), primary_key=True, autoincrement=True),
    sa.Column("period", sa.String(), nullable=False),
    sa.Column("invoices", sa.Integer(), nullable=False),
    sa.Column("adjustments", sa.Integer(), nullable=False),
    sa.Column("duration_microseconds", sa.BigInteger(), nullable=False),
    sa.Column("finished_at", UtcDateTime(), nullable=False),
    sa.Column("actor", sa.String(), nullable=False),
    sa.Column("correlation_id", sa.String(), nullable=False),
    sqlite_autoincrement=True,
)

inbox = sa.Table(
    "inbox",
    metadata,
    # Inbound webhooks as received, one row per (source, message id): the key is the dedupe.
    sa.Column("source", sa.String(), primary_key=True),
    sa.Column("message_id", sa.String(), primary_key=True),
    sa.Column("event_type", sa.String(), nullable=False),
    sa.Column("body", sa.Text(), nullable=False),
    sa.Column("received_at", UtcDateTime(), nullable=False),
    sa.Column("correlation_id", sa.String(), nullable=False),
    sa.Column("state", sa.String(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("processed_at", UtcDateTime(), nullable=True),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("exception_id", sa.String(), nullable=True),
    sa.Column("steps_done", sa.Integer(), nullable=False),
    sa.Index(None, "state", "received_at"),
)

natural_keys = sa.Table(
    "natural_keys",
    metadata,
    # A fact numbered by its source system (a payment, a dispute), recorded once: the primary
    # key is the constraint; `content` is the canonical JSON a repeat is compared with
    # (migration 0006; ADR 0024).
    sa.Column("kind", sa.String(), primary_key=True),
    sa.Column("source", sa.String(), primary_key=True),
    sa.Column("key", sa.String(), primary_key=True),
    sa.Column("content", sa.Text(), nullable=False),
    sa.Column("recorded_at", UtcDateTime(), nullable=False),
    sa.Column("actor", sa.String(), nullable=False),
    sa.Column("correlation_id", sa.String(), nullable=False),
)

sequences = sa.Table(
    "sequences",
    metadata,
    sa.Column("series", sa.String(), primary_key=True),
    sa.Column("value", sa.BigInteger(), nullable=False),
)

tax_profiles = sa.Table(
    "tax_profiles",
    metadata,
    sa.Column("customer_id", sa.String(), primary_key=True),
    sa.Column("legal_entity_id", sa.String(), primary_key=True),
    sa.Column("tax_code", sa.String(), nullable=False),
    sa.Column("reverse_charge", sa.Boolean(), nullable=False),
    sa.Column("legal_note", sa.Text(), nullable=False),
    # Tax codes per tax category (ADR 0030); NULL for a profile stored before them.
    sa.Column("categories", json_document(), nullable=True),
)

# Every version of each customer record the ERP pushed (ADR 0035); a version is never updated.
customer_records = _documents(
    "customer_records", _key("customer_id"), _key("legal_entity_id"), _number("version")
)

# Every version of each of our legal entities' master data (ADR 0037); never updated.
legal_entities = _documents("legal_entities", _key("legal_entity_id"), _number("version"))

tax_rates = _documents("tax_rates", _number("id"))

# Consultant transfers (ADR 0031): employment histories and transfer pricing -----------------

resource_employments = _documents("resource_employments", _key("resource_id"))

transfer_pricing = _documents("transfer_pricing", _number("id"))

billing_marks = sa.Table(
    "billing_marks",
    metadata,
    # What a committed billing run left settled, per obligation (migration 0022; ADR 0048).
    sa.Column("obligation_id", sa.String(), primary_key=True),
    sa.Column("period", sa.String(), nullable=False),
    sa.Column("stamp", sa.Text(), nullable=False),
)

# Records of the delivery kinds billing models declare (migration 0020; ADR 0050): one table for
# every kind, the record's own fields in `payload` through the one converter. The current
# revision of each record, and every revision it had.
delivery_records = sa.Table(
    "delivery_records",
    metadata,
    sa.Column("kind", sa.String(), primary_key=True),
    sa.Column("record_id", sa.String(), primary_key=True),
    sa.Column("obligation_id", sa.String(), nullable=False, index=True),
    sa.Column("occurred_on", sa.Date(), nullable=False),
    sa.Column("revision", sa.Integer(), nullable=False),
    sa.Column("payload", json_document(), nullable=False),
    sa.Column("reported_at", UtcDateTime(), nullable=False),
)

delivery_record_revisions = sa.Table(
    "delivery_record_revisions",
    metadata,
    sa.Column("kind", sa.String(), primary_key=True),
    sa.Column("record_id", sa.String(), primary_key=True),
    sa.Column("revision", sa.Integer(), primary_key=True),
    sa.Column("obligation_id", sa.String(), nullable=False),
    sa.Column("occurred_on", sa.Date(), nullable=False),
    sa.Column("payload", json_document(), nullable=False),
    sa.Column("reported_at", UtcDateTime(), nullable=False),
)

# Running totals of an obligation's recorded time by role, work date and billable, kept for the
# obligations admission asks them of (a blocking cap), from the first time it asks (migration
# 0021; ADR 0059): the obligations that keep them, and one row per group.
cap_total_obligations = sa.Table(
    "cap_total_obligations",
    metadata,
    sa.Column("obligation_id", sa.String(), primary_key=True),
)

cap_totals = sa.Table(
    "cap_totals",
    metadata,
    sa.Column("obligation_id", sa.String(), primary_key=True),
    sa.Column("role", sa.String(), primary_key=True),
    sa.Column("work_date", sa.Date(), primary_key=True),
    sa.Column("billable", sa.Boolean(), primary_key=True),
    sa.Column("entries", sa.Integer(), nullable=False),
    sa.Column("hours", ExactDecimal(), nullable=False),
)
