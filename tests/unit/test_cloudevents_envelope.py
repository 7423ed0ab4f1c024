"""Outbox events as CloudEvents 1.0: the required and optional attributes, the correlation-id
extension, the type naming rule, and a round trip through `cloudevents.core`'s JSON format."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cloudevents.core.exceptions import CloudEventValidationError
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from adapters.outbound.cloudevents_envelope import (
    CONTENT_TYPE,
    DEFAULT_SOURCE,
    cloudevent_type,
    parse_structured_json,
    structured_json,
    to_cloudevent,
    valid_source,
)
from application.records import OutboxEvent

PARIS = timezone(timedelta(hours=1))


def issued(**changes: object) -> OutboxEvent:
    fields: dict[str, object] = {
        "event_id": "5b0f7d4e-8a61-4c1e-9a35-0d4f2b1c9e77",
        "event_type": "InvoiceIssued",
        "aggregate_type": "Invoice",
        "aggregate_id": "INV-2026-000042",
        "payload": {"invoice_id": "INV-2026-000042", "gross": "1440.00", "lines": [1, 2]},
        "correlation_id": "corr-7f3a",
        "occurred_at": datetime(2026, 3, 31, 18, 30, 5, 250000, tzinfo=PARIS),
    }
    fields.update(changes)
    return OutboxEvent(**fields)  # type: ignore[arg-type]


def test_the_envelope_has_the_required_attributes() -> None:
    document = json.loads(structured_json(issued(), "urn:throughline:acme-prod"))
    assert document["specversion"] == "1.0"
    assert document["id"] == "5b0f7d4e-8a61-4c1e-9a35-0d4f2b1c9e77"  # the outbox event id
    assert document["source"] == "urn:throughline:acme-prod"
    assert document["type"] == "com.throughline.invoice.issued"


def test_the_optional_attributes_are_the_time_subject_and_json_data() -> None:
    document = json.loads(structured_json(issued()))
    assert document["time"] == "2026-03-31T17:30:05.250000Z"  # RFC 3339, in UTC
    assert document["subject"] == "INV-2026-000042"
    assert document["datacontenttype"] == "application/json"
    assert document["data"] == {
        "invoice_id": "INV-2026-000042",
        "gross": "1440.00",
        "lines": [1, 2],
    }
    assert "dataschema" not in document
    assert document["source"] == DEFAULT_SOURCE == "urn:throughline:local"


def test_the_correlation_id_travels_in_the_correlationid_extension() -> None:
    document = json.loads(structured_json(issued(correlation_id="req-123")))
    assert document["correlationid"] == "req-123"
    known = {"specversion", "id", "source", "type", "time", "subject", "datacontenttype", "data"}
    assert set(document) - known == {"correlationid"}


def test_the_envelope_parses_back_with_the_cloudevents_json_format() -> None:
    body = structured_json(issued(), "https://billing.example.com/throughline")
    for parsed in (parse_structured_json(body), JSONFormat().read(CloudEvent, body)):
        assert parsed.get_specversion() == "1.0"
        assert parsed.get_id() == "5b0f7d4e-8a61-4c1e-9a35-0d4f2b1c9e77"
        assert parsed.get_source() == "https://billing.example.com/throughline"
        assert parsed.get_type() == "com.throughline.invoice.issued"
        assert parsed.get_subject() == "INV-2026-000042"
        assert parsed.get_time() == datetime(2026, 3, 31, 17, 30, 5, 250000, tzinfo=UTC)
        assert parsed.get_datacontenttype() == "application/json"
        assert parsed.get_extension("correlationid") == "corr-7f3a"
        assert parsed.get_data() == dict(issued().payload)


def test_the_http_content_type_is_structured_mode_json() -> None:
    assert CONTENT_TYPE == "application/cloudevents+json; charset=utf-8"


def test_an_aggregate_without_an_id_gets_no_subject_rather_than_an_empty_one() -> None:
    event = to_cloudevent(issued(aggregate_id=""))
    assert event.get_subject() is None


def test_the_cloudevents_package_refuses_what_the_spec_refuses() -> None:
    """The envelope is validated by the package, so a broken one cannot go out."""
    with pytest.raises(CloudEventValidationError):
        to_cloudevent(issued(event_id=""))
    with pytest.raises(CloudEventValidationError):
        to_cloudevent(issued(), source="")


@pytest.mark.parametrize(
    ("aggregate_type", "event_type", "expected"),
    [
        ("Invoice", "InvoiceIssued", "com.throughline.invoice.issued"),
        ("Invoice", "InvoiceApproved", "com.throughline.invoice.approved"),
        ("Invoice", "PaymentRecorded", "com.throughline.invoice.payment_recorded"),
        ("Invoice", "DisputeResolved", "com.throughline.invoice.dispute_resolved"),
        ("CreditMemo", "CreditMemoIssued", "com.throughline.credit_memo.issued"),
        ("Engagement", "EngagementSetupBlocked", "com.throughline.engagement.setup_blocked"),
        ("Milestone", "MilestonePassivelyAccepted", "com.throughline.milestone.passively_accepted"),
        ("Contract", "ContractVersionApproved", "com.throughline.contract.version_approved"),
        ("TimeEntry", "ItemApproved", "com.throughline.time_entry.approved"),
        ("ExpenseItem", "ItemWrittenOff", "com.throughline.expense_item.written_off"),
        ("AccountingPeriod", "PeriodClosed", "com.throughline.accounting_period.closed"),
        ("Invoice", "Invoice", "com.throughline.invoice.invoice"),  # nothing left to drop
    ],
)
def test_the_type_is_the_aggregate_and_the_action_in_snake_case(
    aggregate_type: str, event_type: str, expected: str
) -> None:
    assert cloudevent_type(aggregate_type, event_type) == expected


def test_every_domain_event_gets_a_type_under_its_aggregate() -> None:
    """The event classes the aggregates record, named by the rule; none collide."""
    from domain import accounting_period, contract, credit_memo, engagement, invoice, milestone

    pairs: list[tuple[str, type]] = [
        ("Engagement", engagement.EngagementEvent),
        ("Milestone", milestone.MilestoneEvent),
        ("Invoice", invoice.InvoiceEvent),
    ]
    types: dict[str, str] = {}
    for aggregate, base in pairs:
        # attrs' slotted classes replace the declared ones, which stay listed too: dedupe
        subclasses: list[type] = base.__subclasses__()
        for event_name in sorted({cls.__name__ for cls in subclasses}):
            name = cloudevent_type(aggregate, event_name)
            assert name.startswith(f"com.throughline.{aggregate.lower()}.")
            assert name not in types, f"{event_name} and {types[name]} share {name}"
            types[name] = event_name
    assert len(types) > 20
    assert cloudevent_type("CreditMemo", credit_memo.CreditMemoIssued.__name__)
    assert cloudevent_type("Contract", contract.ContractTerminated.__name__) == (
        "com.throughline.contract.terminated"
    )
    assert cloudevent_type("AccountingPeriod", accounting_period.PeriodReopened.__name__) == (
        "com.throughline.accounting_period.reopened"
    )


@pytest.mark.parametrize(
    ("source", "usable"),
    [
        ("urn:throughline:acme-prod", True),
        ("https://billing.example.com/throughline", True),
        ("/throughline/eu-1", True),
        ("", False),
        ("urn:throughline:acme prod", False),
    ],
)
def test_a_source_is_a_uri_reference_without_spaces(source: str, usable: bool) -> None:
    assert valid_source(source) is usable
