"""The per-source webhook mappings: each documented example becomes exactly the commands the
documentation says, and bad data is refused field by field with JSON pointers."""

from __future__ import annotations

import copy
import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from adapters.webhooks.mappings import MAPPINGS, JsonWebhookTranslator
from application import commands as c
from application.errors import PayloadError, UnknownEventTypeError
from application.inbox import parse_envelope
from domain import ids
from domain.milestone_billing import MilestoneSpec, MilestoneTerms
from domain.money import Currency, Money
from domain.tax import CategoryCode, TaxProfile
from domain.time_and_materials import NotToExceed, OveragePolicy, TimeAndMaterialsTerms
from tests.support.metered import UNITS, UnitRecord

#: The documented `delivery.reported` example names the test-only delivery kind (ADR 0050).
REGISTERS_TEST_KIND = UNITS
DOC = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
EXAMPLE = re.compile(r"<!-- example: (\w+) ([\w.]+) -->\s*```json\n(.*?)```", re.DOTALL)
EUR = Currency.of("EUR")
translator = JsonWebhookTranslator()


def documented_examples() -> dict[tuple[str, str], dict[str, Any]]:
    text = DOC.read_text(encoding="utf-8")
    return {(m[1], m[2]): json.loads(m[3]) for m in EXAMPLE.finditer(text)}


EXAMPLES = documented_examples()


def example(source: str, event_type: str) -> dict[str, Any]:
    return copy.deepcopy(EXAMPLES[(source, event_type)])


def translate(source: str, body: dict[str, Any]) -> list[object]:
    envelope = parse_envelope(json.dumps(body))
    return list(translator.translate(source, envelope.event_type, envelope.data))


def problems(source: str, body: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(PayloadError) as refused:
        translate(source, body)
    return list(refused.value.problems)


def pointers(source: str, body: dict[str, Any]) -> list[str]:
    return [pointer for pointer, _ in problems(source, body)]


# The documentation ------------------------------------------------------------------------


def test_every_event_of_every_source_has_a_documented_example() -> None:
    documented = set(EXAMPLES)
    mapped = {(source, event) for source, events in MAPPINGS.items() for event in events}
    assert documented == mapped


@pytest.mark.parametrize(("source", "event_type"), sorted(EXAMPLES))
def test_each_documented_example_translates(source: str, event_type: str) -> None:
    body = example(source, event_type)
    assert body["type"] == event_type
    assert translate(source, body)


@pytest.mark.parametrize(("source", "event_type"), sorted(EXAMPLES))
def test_each_documented_example_field_is_in_its_events_table(source: str, event_type: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text.split(f"### {source}: `{event_type}`")[1].split("\n### ")[0]
    for field in example(source, event_type)["data"]:
        assert f"| `{field}" in section, f"{field} of {event_type} is not in its table"


# Known answers, one per event -------------------------------------------------------------


def test_crm_closed_won_proposes_an_engagement_keyed_by_the_opportunity() -> None:
    assert translate("crm", example("crm", "opportunity.closed_won")) == [
        c.ProposeEngagement(
            ids.EngagementId("OPP-4711"), ids.CustomerId("acme"), ids.ContractId("C-ACME-01")
        )
    ]


def test_clm_contract_approved_registers_drafts_and_approves_the_first_version() -> None:
    register, draft, approve = translate("clm", example("clm", "contract.approved"))
    contract = ids.ContractId("C-ACME-01")
    assert register == c.RegisterContract(
        contract, ids.CustomerId("acme"), ids.LegalEntityId("tl-uk"), "EUR", "Acme data platform"
    )
    tm = TimeAndMaterialsTerms(
        ids.ObligationId("ACME-TM"),
        "Advisory",
        EUR,
        ids.RateCardId("RC-UK"),
        billing_increment=Decimal("0.25"),
        cap=NotToExceed(amount=Decimal("50000.00"), policy=OveragePolicy.HOLD),
    )
    program = MilestoneTerms(
        ids.ObligationId("ACME-PROG"),
        "Platform build",
        EUR,
        Decimal("120000.00"),
        (
            MilestoneSpec(ids.MilestoneId("ACME-M1"), "Design signed off", percentage=Decimal(40)),
            MilestoneSpec(
                ids.MilestoneId("ACME-M2"), "Go-live", percentage=Decimal(60), final=True
            ),
        ),
        retention_percent=Decimal(10),
        passive_acceptance_days=10,
    )
    assert draft == c.DraftContractVersion(contract, date(2026, 3, 1), (tm, program), "SOW 1")
    assert approve == c.ApproveContractVersion(contract, 1)


def test_clm_contract_amended_drafts_and_approves_the_given_version() -> None:
    draft, approve = translate("clm", example("clm", "contract.amended"))
    assert isinstance(draft, c.DraftContractVersion)
    assert (draft.contract_id, draft.effective_from, draft.label) == (
        "C-ACME-01",
        date(2026, 4, 1),
        "Amendment 1 (CR-07)",
    )
    assert [t.obligation_id for t in draft.obligations] == ["ACME-TM"]
    assert draft.obligations[0].cap.amount == Decimal("80000.00")
    assert approve == c.ApproveContractVersion(ids.ContractId("C-ACME-01"), 2)


def test_psa_time_approved_records_the_batch_with_defaults_for_what_is_left_out() -> None:
    (record,) = translate("psa", example("psa", "time.approved"))
    common = {
        "engagement_id": ids.EngagementId("OPP-4711"),
        "obligation_id": ids.ObligationId("ACME-TM"),
        "resource_id": ids.ResourceId("r-ana"),
        "role": ids.Role("consultant"),
    }
    assert record == c.RecordTimeEntries(
        (
            c.TimeEntryInput(
                ids.TimeEntryId("PSA-TE-1001"),
                work_date=date(2026, 3, 9),
                hours=Decimal("7.5"),
                task_id=ids.TaskId("DELIVERY"),
                **common,
            ),
            c.TimeEntryInput(
                ids.TimeEntryId("PSA-TE-1002"),
                work_date=date(2026, 3, 10),
                hours=Decimal("2"),
                task_id=ids.TaskId("INTERNAL"),
                billable=False,
                cost_rate=Decimal("55.00"),
                **common,
            ),
        ),
        approved_by="j.doe",
    )


def test_psa_milestone_completed_completes_it_with_its_evidence() -> None:
    assert translate("psa", example("psa", "milestone.completed")) == [
        c.CompleteMilestone(
            ids.MilestoneId("ACME-M1"),
            "Design pack v1.2 signed by the steering committee",
            date(2026, 3, 20),
        )
    ]


def test_erp_customer_updated_stores_the_tax_profile() -> None:
    assert translate("erp", example("erp", "customer.updated")) == [
        c.UpdateCustomerMaster(
            TaxProfile(ids.CustomerId("acme"), ids.LegalEntityId("tl-uk"), "VAT20")
        )
    ]
    body = example("erp", "customer.updated")
    body["data"].update(reverse_charge=True, legal_note="Autoliquidation")
    (update,) = translate("erp", body)
    assert isinstance(update, c.UpdateCustomerMaster)
    assert (update.profile.reverse_charge, update.profile.legal_note) == (True, "Autoliquidation")


def test_erp_invoice_posted_confirms_the_hand_over() -> None:
    assert translate("erp", example("erp", "invoice.posted")) == [
        c.ConfirmInvoicePosted(
            ids.InvoiceId("INV-000001"),
            "INV-2026-000001",
            Money(Decimal("900.00"), EUR),
            date(2026, 4, 1),
            "AR-2026-0042",
        )
    ]


def test_erp_payment_received_records_the_payment() -> None:
    assert translate("erp", example("erp", "payment.received")) == [
        c.RecordPayment(
            ids.InvoiceId("INV-000001"),
            ids.PaymentId("PAY-88"),
            Money(Decimal("400.00"), EUR),
            date(2026, 4, 20),
        )
    ]


def test_billing_dispute_opened_opens_a_dispute() -> None:
    assert translate("billing", example("billing", "dispute.opened")) == [
        c.OpenDispute(ids.InvoiceId("INV-000001"), "Hours on 9 March were not agreed")
    ]


# Refusals, field by field -----------------------------------------------------------------


def test_unknown_fields_are_refused_wherever_they_are() -> None:
    body = example("psa", "time.approved")
    body["data"]["status"] = "approved"
    body["data"]["entries"][1]["rate"] = "120.00"
    assert problems("psa", body) == [
        ("/data/entries/1/rate", "unknown field"),
        ("/data/status", "unknown field"),
    ]


def test_unknown_fields_inside_obligation_terms_are_refused_with_their_pointer() -> None:
    body = example("clm", "contract.approved")
    body["data"]["obligations"][1]["milestones"][0]["invoiced"] = True
    body["data"]["obligations"][0]["discount"] = "5"
    assert sorted(pointers("clm", body)) == [
        "/data/obligations/0/discount",
        "/data/obligations/1/milestones/0/invoiced",
    ]


def test_amounts_sent_as_json_numbers_are_refused_everywhere() -> None:
    payment = example("erp", "payment.received")
    payment["data"]["amount"] = 400
    ((pointer, detail),) = problems("erp", payment)
    assert pointer == "/data/amount"
    assert "decimal string" in detail
    assert "never a JSON number" in detail

    time = example("psa", "time.approved")
    time["data"]["entries"][0]["hours"] = 7.5
    time["data"]["entries"][1]["cost_rate"] = 55
    assert pointers("psa", time) == ["/data/entries/0/hours", "/data/entries/1/cost_rate"]

    # in terms the converter would take an integer for a decimal; a webhook may not
    contract = example("clm", "contract.approved")
    contract["data"]["obligations"][1]["fee"] = 120000
    contract["data"]["obligations"][1]["milestones"][1]["percentage"] = 60.0
    contract["data"]["obligations"][0]["cap"]["amount"] = 50000
    found = problems("clm", contract)
    assert sorted(p for p, _ in found) == [
        "/data/obligations/0/cap/amount",
        "/data/obligations/1/fee",
        "/data/obligations/1/milestones/1/percentage",
    ]
    assert all("never a JSON number" in detail for _, detail in found)


def test_every_bad_field_is_reported_at_once() -> None:
    body = example("erp", "payment.received")
    body["data"] = {
        "payment_id": "",
        "invoice_id": 17,
        "amount": "1.005",
        "currency": "EUR",
        "received_on": "2026-02-30",
    }
    assert problems("erp", body) == [
        ("/data/payment_id", "an id is non-empty printable text without surrounding spaces"),
        ("/data/invoice_id", "expected a string, got a number"),
        ("/data/amount", "EUR has 2 decimals, not more"),
        ("/data/received_on", "'2026-02-30' is not a calendar date"),
    ]


def test_required_fields_are_named() -> None:
    body = example("psa", "milestone.completed")
    del body["data"]["evidence"]
    body["data"]["completed_on"] = None
    assert problems("psa", body) == [
        ("/data/evidence", "required"),
        ("/data/completed_on", 'expected a date like "2026-03-31", got null'),
    ]


@pytest.mark.parametrize(
    ("field", "value", "detail"),
    [
        ("amount", "-5.00", "must be greater than zero"),
        ("amount", "1e3", "expected a decimal string like \"7.50\", got '1e3'"),
        ("currency", "EURO", "at most 3 characters"),
        ("currency", "XXY", "'XXY' is not an active ISO 4217 currency"),
    ],
)
def test_money_is_a_positive_plain_decimal_in_a_known_currency(
    field: str, value: str, detail: str
) -> None:
    body = example("erp", "payment.received")
    body["data"][field] = value
    assert (f"/data/{field}", detail) in problems("erp", body)


def test_an_entry_id_repeated_in_one_message_is_refused() -> None:
    body = example("psa", "time.approved")
    body["data"]["entries"][1]["entry_id"] = "PSA-TE-1001"
    assert problems("psa", body) == [
        ("/data/entries/1/entry_id", "repeats entry 0 of this message")
    ]


def test_a_batch_is_one_to_a_thousand_entries() -> None:
    body = example("psa", "time.approved")
    body["data"]["entries"] = []
    assert problems("psa", body) == [("/data/entries", "at least one item")]
    body["data"]["entries"] = [example("psa", "time.approved")["data"]["entries"][0]] * 1001
    assert problems("psa", body) == [
        ("/data/entries", "at most 1000 items in one message, got 1001")
    ]


def test_obligation_terms_are_checked_by_the_stored_format_with_pointers() -> None:
    body = example("clm", "contract.approved")
    obligations = body["data"]["obligations"]
    obligations[0]["cap"]["policy"] = "ignore"
    obligations[1]["milestones"][0]["percentage"] = "forty"
    obligations.append({"model": "barter", "obligation_id": "X"})
    found = dict(problems("clm", body))
    assert set(found) == {
        "/data/obligations/0/cap/policy",
        "/data/obligations/1/milestones/0/percentage",
        "/data/obligations/2/model",
    }
    assert "one of 'bill', 'hold', 'write_off', 'block'" in found["/data/obligations/0/cap/policy"]
    assert "unknown obligation model 'barter'" in found["/data/obligations/2/model"]


def test_every_obligation_is_in_the_contract_currency_and_ids_do_not_repeat() -> None:
    body = example("clm", "contract.approved")
    body["data"]["obligations"][1]["currency"] = "USD"
    body["data"]["obligations"][1]["obligation_id"] = "ACME-TM"
    assert problems("clm", body) == [
        ("/data/obligations/1/obligation_id", "repeats obligation 0 of this version"),
        ("/data/obligations/1/currency", "USD differs from the contract's currency EUR"),
    ]


def test_an_amendment_is_version_two_or_later() -> None:
    body = example("clm", "contract.amended")
    body["data"]["version"] = 1
    assert problems("clm", body) == [("/data/version", "at least 2")]
    body["data"]["version"] = "2"
    assert problems("clm", body) == [("/data/version", "expected a whole number, got a string")]


def test_data_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(PayloadError) as refused:
        translator.translate("crm", "opportunity.closed_won", [])  # type: ignore[arg-type]
    assert refused.value.problems == (("/data", "expected an object, got an array"),)


def test_an_event_another_system_owns_is_refused_naming_its_owner() -> None:
    with pytest.raises(UnknownEventTypeError) as refused:
        translator.translate("crm", "contract.approved", {})
    ((pointer, detail),) = refused.value.problems
    assert pointer == "/type"
    assert "comes from the clm" in detail
    with pytest.raises(UnknownEventTypeError, match=r"it sends opportunity\.closed_won"):
        translator.translate("crm", "opportunity.lost", {})


def test_json_pointer_tokens_are_escaped() -> None:
    body = example("billing", "dispute.opened")
    body["data"]["a/b~c"] = 1
    assert pointers("billing", body) == ["/data/a~1b~0c"]


def test_erp_customer_updated_carries_codes_per_tax_category() -> None:
    body = example("erp", "customer.updated")
    body["data"]["categories"] = [
        {"category": "expenses", "tax_code": "ZERO"},
        {"category": "expenses:training", "tax_code": "EXEMPT", "exemption_reason": "Training"},
    ]
    (update,) = translate("erp", body)
    assert isinstance(update, c.UpdateCustomerMaster)
    assert update.profile.categories == (
        CategoryCode("expenses", "ZERO"),
        CategoryCode("expenses:training", "EXEMPT", "Training"),
    )


def test_erp_customer_updated_refuses_a_tax_category_at_its_field() -> None:
    body = example("erp", "customer.updated")
    body["data"]["categories"] = [
        {"category": "expenses", "tax_code": "ZERO"},
        {"category": "expenses", "tax_code": "VAT20"},
        {"category": "time", "tax_code": "VAT20"},
    ]
    with pytest.raises(PayloadError) as refused:
        translate("erp", body)
    pointers = [pointer for pointer, _detail in refused.value.problems]
    assert pointers == ["/data/categories/1/category", "/data/categories/2/category"]


def test_psa_delivery_reported_records_a_batch_of_the_named_kind() -> None:
    (command,) = translate("psa", example("psa", "delivery.reported"))
    assert command == c.RecordDeliveryRecords(
        "test_units",
        (
            UnitRecord(
                "MTR-2026-03-05-001", ids.ObligationId("ACME-METERED"), date(2026, 3, 5), 120
            ),
        ),
        (),
        "metering",
    )


def test_psa_delivery_reported_points_at_a_malformed_record_and_refuses_an_unknown_kind() -> None:
    body = example("psa", "delivery.reported")
    body["data"]["records"][0]["units"] = "many"
    assert pointers("psa", body) == ["/data/records/0/units"]
    body = example("psa", "delivery.reported")
    body["data"]["kind"] = "nope"
    assert pointers("psa", body) == ["/data/kind"]
