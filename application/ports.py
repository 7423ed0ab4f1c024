"""Ports: what the application needs from the world, as `typing.Protocol`s.

Adapters implement them (in-memory fakes in `adapters/memory/`, real clients later). Every
call that changes something in another system takes an idempotency `key`, so a replay after a
crash never does the same thing twice downstream.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import attrs

from application.customer_master import PostalAddress
from application.records import OutboxEvent
from domain.contract import Contract
from domain.ids import ContractId, CustomerId, EngagementId, LegalEntityId
from domain.invoice import Invoice
from domain.money import Money
from domain.period import Period
from domain.tax import (
    CategoryCode,
    TaxProfile,
    TaxQuestion,
    TaxRateTable,
    TaxTreatment,
    TaxUnresolved,
)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""


class IdGenerator(Protocol):
    def next_id(self, prefix: str) -> str:
        """A new unique id such as `INV-000123`."""


class Stopwatch(Protocol):
    """How long something took: a monotonic clock, unlike `Clock`, which is the business's
    time and may be set back or forward."""

    def seconds(self) -> float:
        """A reading in seconds; only the difference of two readings means anything."""


@attrs.frozen
class CustomerRecord:
    """The ERP's customer master for one customer and one of our legal entities."""

    customer_id: CustomerId
    legal_entity_id: LegalEntityId
    name: str
    currency: str | None
    tax_code: str | None
    reverse_charge: bool = False
    billing_address: str | None = None
    #: Tax codes per tax category where they differ from `tax_code` (ADR 0030).
    tax_categories: tuple[CategoryCode, ...] = ()
    #: The structured billing address of a pushed record (ADR 0035); `billing_address` is
    #: then its one-line form.
    address: PostalAddress | None = None
    vat_id: str | None = None
    payment_terms_days: int | None = None
    #: The version of a pushed record (1, 2, ...); 0 for one read from the ERP or a seed file.
    version: int = 0
    legal_note: str = ""

    def missing_fields(self) -> list[str]:
        """Master data a setup cannot proceed without."""
        missing = []
        if not self.currency:
            missing.append("currency")
        if not self.tax_code:
            missing.append("tax_profile")
        if not self.billing_address and self.address is None:
            missing.append("billing_address")
        return missing

    def tax_profile(self) -> TaxProfile | None:
        """The tax profile the record carries, None when it has no tax code."""
        if not self.tax_code:
            return None
        return TaxProfile(
            self.customer_id,
            self.legal_entity_id,
            self.tax_code,
            self.reverse_charge,
            self.legal_note,
            self.tax_categories,
        )


class CustomerMaster(Protocol):
    """The ERP's customer master (legal entity, tax profile, currency, billing address), asked
    when no record was pushed to us (ADR 0035: a pushed record, kept in the store, wins)."""

    def lookup(
        self, customer_id: CustomerId, legal_entity_id: LegalEntityId
    ) -> CustomerRecord | None: ...


class ProjectProvisioning(Protocol):
    """The PSA: creates the project and tasks for an engagement."""

    def provision(self, key: str, engagement_id: EngagementId, contract: Contract) -> str:
        """Create (or find, for a repeated key) the project; returns its PSA reference."""

    def report(self, key: str, contract_id: ContractId, kind: str, data: Mapping[str, str]) -> None:
        """Tell the project team about billing status: payments, disputes, credits."""


class InvoiceHandover(Protocol):
    """The ERP or billing platform that receives issued invoices (and sends status back)."""

    def hand_over(self, key: str, invoice: Invoice) -> str: ...


class LedgerPosting(Protocol):
    """The ERP general ledger (ADR 0034)."""

    def post(self, key: str, entry: Mapping[str, Any]) -> str:
        """Book a journal entry mapped to the ERP's accounts (the `journal_entry.posted`
        payload); returns the ERP's document number. The same key again books nothing new
        and answers the same number."""


class CrmFeedback(Protocol):
    """Status sent back to the CRM account: invoices, payments, disputes."""

    def notify(
        self, key: str, customer_id: CustomerId, kind: str, data: Mapping[str, str]
    ) -> None: ...


class PsaTimeExport(Protocol):
    """The PSA's own record of approved time, for reconciliation."""

    def approved_hours(self, period: Period) -> Sequence[tuple[str, Decimal]]:
        """(time entry id, approved hours) for work dated in the period; repeats kept."""


class EventPublisher(Protocol):
    """Where outbox events go: the subscribers of outbound webhooks, a broker, a test sink."""

    def publish(self, event: OutboxEvent) -> None:
        """Deliver one event to everyone who wants it, or raise `DownstreamUnavailableError`.

        Delivery is at least once: the same event (same id) may come again after a crash or
        a partial failure, so receivers deduplicate by the event id."""


class ErpReceivables(Protocol):
    """The ERP's receivables, for reconciliation against the invoices we issued."""

    def posted_invoices(self, period: Period) -> Sequence[tuple[str, Money]]:
        """(invoice number, gross) for invoices posted with an issue date in the period."""


class WebhookTranslator(Protocol):
    """The per-source mappings of inbound webhooks to commands (the systems' JSON formats)."""

    @property
    def sources(self) -> frozenset[str]:
        """The systems whose messages it can translate."""

    def translate(
        self, source: str, event_type: str, payload: Mapping[str, Any]
    ) -> Sequence[object]:
        """The commands one message asks for, in the order they must run.

        `payload` is the envelope's `data` object. Raises `PayloadError` naming every bad
        field by a JSON pointer into the whole message body (so they start with `/data`),
        or `UnknownEventTypeError` when the source sends no such event."""


class TaxEngine(Protocol):
    """How each tax category is taxed for a payer on a tax date (ADR 0030): the tax tables we
    hold by default, or an external tax service a deployment plugs in."""

    def treatments(
        self,
        questions: Sequence[TaxQuestion],
        profiles: Mapping[tuple[CustomerId, LegalEntityId], TaxProfile],
        known_rates: TaxRateTable,
    ) -> Mapping[TaxQuestion, TaxTreatment | TaxUnresolved]:
        """An answer to every question (the payers' profiles and the rate table the ERP sent
        are there for an engine that uses them), or raise `DownstreamUnavailableError`."""
