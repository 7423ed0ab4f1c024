"""The per-source JSON mappings of inbound webhooks to application commands.

Each source sends only the events about what it owns (domain guide, section 2): the CRM a
won deal, the CLM contracts, the PSA approved time and milestone completions, the ERP the
customer master, postings and payments, the billing platform disputes. Every mapping is
strict: the fields documented in docs/webhooks.md and nothing else, amounts as decimal
strings, dates as ISO dates, and every problem reported with its JSON pointer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from adapters.webhooks.contracts import contract_amended, contract_approved
from adapters.webhooks.delivery_records import delivery_reported
from adapters.webhooks.fields import JsonObject, Problems
from application import commands as c
from application.customer_master import PostalAddress, record_problems
from application.errors import UnknownEventTypeError
from application.ports import CustomerRecord
from domain.errors import DomainError
from domain.ids import (
    ContractId,
    CustomerId,
    DisputeId,
    EngagementId,
    InvoiceId,
    LegalEntityId,
    MilestoneId,
    ObligationId,
    PaymentId,
    ResourceId,
    Role,
    TaskId,
    TimeEntryId,
)
from domain.tax import CategoryCode, TaxProfile
from domain.time_entry import NO_TASK

#: Time entries in one message (a bigger batch is split by the sender).
MAX_TIME_ENTRIES: Final = 1000

Mapping_ = Callable[[JsonObject], list[object]]


# CRM ------------------------------------------------------------------------------------------


def opportunity_closed_won(data: JsonObject) -> list[object]:
    """A won deal becomes a proposed engagement, keyed by the CRM opportunity id. The
    contract itself comes from the CLM, which owns it."""
    opportunity_id = data.identifier("opportunity_id")
    customer_id = data.identifier("customer_id")
    contract_id = data.identifier("contract_id")
    data.finish()
    data.problems.raise_if_any()
    return [
        c.ProposeEngagement(
            EngagementId(opportunity_id), CustomerId(customer_id), ContractId(contract_id)
        )
    ]


# PSA ------------------------------------------------------------------------------------------


def time_approved(data: JsonObject) -> list[object]:
    """A batch of time approved in the PSA; each entry is accepted or refused with a reason."""
    approved_by = data.identifier("approved_by")
    entries: list[c.TimeEntryInput] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(data.objects("entries", max_items=MAX_TIME_ENTRIES)):
        entry = _time_entry(item)
        if entry.entry_id and entry.entry_id in seen:
            data.problems.add(
                item.at("entry_id"), f"repeats entry {seen[entry.entry_id]} of this message"
            )
        seen.setdefault(entry.entry_id, index)
        entries.append(entry)
    data.finish()
    data.problems.raise_if_any()
    return [c.RecordTimeEntries(tuple(entries), approved_by)]


def _time_entry(item: JsonObject) -> c.TimeEntryInput:
    entry = c.TimeEntryInput(
        entry_id=TimeEntryId(item.identifier("entry_id")),
        engagement_id=EngagementId(item.identifier("engagement_id")),
        obligation_id=ObligationId(item.identifier("obligation_id")),
        resource_id=ResourceId(item.identifier("resource_id")),
        role=Role(item.identifier("role")),
        work_date=item.day("work_date"),
        hours=item.decimal("hours", positive=True) or Decimal(0),
        task_id=TaskId(item.identifier("task_id", required=False, default=NO_TASK)),
        billable=item.boolean("billable", True),
        cost_rate=item.decimal("cost_rate", required=False),
    )
    item.finish()
    return entry


def milestone_completed(data: JsonObject) -> list[object]:
    """Delivery says a milestone is done, with evidence; the client accepts it separately."""
    milestone_id = data.identifier("milestone_id")
    evidence = data.required_text("evidence")
    completed_on = data.day("completed_on")
    completion_id = data.identifier("completion_id", required=False)
    data.finish()
    data.problems.raise_if_any()
    return [
        c.CompleteMilestone(
            MilestoneId(milestone_id), evidence, completed_on, completion_id or None
        )
    ]


# ERP ------------------------------------------------------------------------------------------


def customer_updated(data: JsonObject) -> list[object]:
    """The ERP's tax profile of a customer for one of our legal entities."""
    customer_id = data.identifier("customer_id")
    legal_entity_id = data.identifier("legal_entity_id")
    tax_code = data.identifier("tax_code")
    reverse_charge = data.boolean("reverse_charge", False)
    legal_note = data.text("legal_note", required=False, max_length=500)
    categories = _tax_categories(data)
    data.finish()
    data.problems.raise_if_any()
    profile = TaxProfile(
        CustomerId(customer_id),
        LegalEntityId(legal_entity_id),
        tax_code,
        reverse_charge,
        legal_note,
        tuple(categories),
    )
    return [c.UpdateCustomerMaster(profile)]


def customer_record_updated(data: JsonObject) -> list[object]:
    """The ERP's full customer record for one of our legal entities (ADR 0035); each push that
    says something new becomes the record's next version."""
    customer_id = data.identifier("customer_id")
    legal_entity_id = data.identifier("legal_entity_id")
    legal_name = data.required_text("legal_name")
    currency = data.text("currency", max_length=3)
    profile = JsonObject(data.raw("tax_profile"), data.at("tax_profile"), data.problems)
    tax_code = profile.identifier("tax_code")
    reverse_charge = profile.boolean("reverse_charge", False)
    legal_note = profile.text("legal_note", required=False, max_length=500)
    categories = _tax_categories(profile)
    profile.finish()
    address = _postal_address(
        JsonObject(data.raw("billing_address"), data.at("billing_address"), data.problems)
    )
    vat_id = data.text("vat_id", required=False, max_length=40) or None
    payment_terms = data.integer("payment_terms_days", 0)
    data.finish()
    data.problems.raise_if_any()
    record = CustomerRecord(
        CustomerId(customer_id),
        LegalEntityId(legal_entity_id),
        legal_name,
        currency,
        tax_code,
        reverse_charge,
        address.one_line(),
        tuple(categories),
        address=address,
        vat_id=vat_id,
        payment_terms_days=payment_terms,
        legal_note=legal_note,
    )
    for field, detail in record_problems(record):
        data.problems.add(f"{data.pointer}/{field}", detail)
    data.problems.raise_if_any()
    return [c.PushCustomerRecord(record)]


#: Street lines one billing address may have.
MAX_ADDRESS_LINES = 5


def _postal_address(data: JsonObject) -> PostalAddress:
    """A structured billing address; the country's code is checked with the whole record."""
    raw_lines = data.raw("lines")
    lines: list[str] = []
    if raw_lines is not None:
        if not isinstance(raw_lines, list) or not all(isinstance(x, str) for x in raw_lines):
            data.problems.add(data.at("lines"), "expected an array of strings")
        elif not 1 <= len(raw_lines) <= MAX_ADDRESS_LINES:
            data.problems.add(data.at("lines"), f"1 to {MAX_ADDRESS_LINES} lines")
        else:
            lines = [x for x in raw_lines if isinstance(x, str)]
    city = data.required_text("city")
    postal_code = data.text("postal_code", required=False, max_length=20)
    country = data.text("country", max_length=2)
    data.finish()
    return PostalAddress(tuple(lines) or ("",), city, postal_code, country)


#: Tax categories one profile may map (services, expenses and expense categories).
MAX_TAX_CATEGORIES = 50


def _tax_categories(data: JsonObject) -> list[CategoryCode]:
    """The optional codes per tax category (ADR 0030), each refused at its own field."""
    categories: list[CategoryCode] = []
    seen: set[str] = set()
    for item in data.objects("categories", max_items=MAX_TAX_CATEGORIES, required=False):
        category = item.text("category", max_length=200)
        tax_code = item.identifier("tax_code")
        reason = item.text("exemption_reason", required=False, max_length=500)
        item.finish()
        if item.problems.at(item.at("category")) or item.problems.at(item.at("tax_code")):
            continue
        if category in seen:
            item.problems.add(item.at("category"), "mapped twice")
            continue
        seen.add(category)
        try:
            categories.append(CategoryCode(category, tax_code, reason))
        except DomainError as error:
            item.problems.add(item.at("category"), str(error))
    return categories


def invoice_posted(data: JsonObject) -> list[object]:
    """The ERP posted an invoice Throughline issued and handed over."""
    invoice_id = data.identifier("invoice_id")
    invoice_number = data.identifier("invoice_number")
    gross = data.money("gross", "currency", positive=False)
    posted_on = data.day("posted_on")
    erp_reference = data.identifier("erp_reference")
    data.finish()
    data.problems.raise_if_any()
    assert gross is not None
    return [
        c.ConfirmInvoicePosted(
            InvoiceId(invoice_id), invoice_number, gross, posted_on, erp_reference
        )
    ]


def payment_received(data: JsonObject) -> list[object]:
    """A customer payment the ERP matched to one of our invoices."""
    payment_id = data.identifier("payment_id")
    invoice_id = data.identifier("invoice_id")
    amount = data.money("amount", "currency")
    received_on = data.day("received_on")
    data.finish()
    data.problems.raise_if_any()
    assert amount is not None
    return [c.RecordPayment(InvoiceId(invoice_id), PaymentId(payment_id), amount, received_on)]


# Billing platform -----------------------------------------------------------------------------


def dispute_opened(data: JsonObject) -> list[object]:
    """The client disputes an issued invoice on the billing platform; with the platform's
    `dispute_id`, the same dispute sent again is a replay (ADR 0024)."""
    invoice_id = data.identifier("invoice_id")
    reason = data.required_text("reason")
    dispute_id = data.identifier("dispute_id", required=False)
    data.finish()
    data.problems.raise_if_any()
    return [c.OpenDispute(InvoiceId(invoice_id), reason, DisputeId(dispute_id) or None)]


#: Every source, the events it sends, and their mappings.
MAPPINGS: Final[Mapping[str, Mapping[str, Mapping_]]] = {
    "crm": {"opportunity.closed_won": opportunity_closed_won},
    "clm": {"contract.approved": contract_approved, "contract.amended": contract_amended},
    "psa": {
        "time.approved": time_approved,
        "milestone.completed": milestone_completed,
        # Records of any declared delivery kind (ADR 0050).
        "delivery.reported": delivery_reported,
    },
    "erp": {
        "customer.updated": customer_updated,
        "customer.record_updated": customer_record_updated,
        "invoice.posted": invoice_posted,
        "payment.received": payment_received,
    },
    "billing": {"dispute.opened": dispute_opened},
}


class JsonWebhookTranslator:
    """The `WebhookTranslator` port over `MAPPINGS`."""

    def __init__(self, mappings: Mapping[str, Mapping[str, Mapping_]] = MAPPINGS) -> None:
        self._mappings = mappings

    @property
    def sources(self) -> frozenset[str]:
        return frozenset(self._mappings)

    def event_types(self, source: str) -> tuple[str, ...]:
        return tuple(self._mappings.get(source, {}))

    def translate(
        self, source: str, event_type: str, payload: Mapping[str, Any]
    ) -> Sequence[object]:
        mapping = self._mappings.get(source, {}).get(event_type)
        if mapping is None:
            raise UnknownEventTypeError([("/type", self._unknown(source, event_type))])
        return mapping(JsonObject(payload, "/data", Problems()))

    def _unknown(self, source: str, event_type: str) -> str:
        owners = [s for s, events in self._mappings.items() if event_type in events]
        if owners:
            return (
                f"{event_type!r} comes from the {owners[0]}, which owns what it describes; "
                f"the {source} cannot send it"
            )
        known = ", ".join(sorted(self._mappings.get(source, {}))) or "nothing"
        return f"the {source} sends no {event_type!r} (it sends {known})"
