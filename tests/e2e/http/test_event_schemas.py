"""Every event the outbox emits in the end-to-end flows (the four reference scenarios of the
domain guide, contract to cash, split billing) matches the JSON Schema published for its type
in docs/events/, and no emitted type goes without one (ADR 0036).

Schemas are picked up by file name, `<type>.schema.json`, `<type>` being the CloudEvents type
after `com.throughline.`: a schema added for a new event type is checked without touching this
module.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import tests.e2e.http.test_contract_to_cash as contract_to_cash
import tests.e2e.http.test_ledger_gaps as ledger_gaps
import tests.e2e.http.test_reference_scenarios as scenarios
import tests.e2e.http.test_split_billing as split_billing
from adapters.outbound.cloudevents_envelope import TYPE_PREFIX, cloudevent_type
from tests.e2e.http.harness import Api, running_api
from tests.e2e.http.stage import UNLIMITED

EVENTS = Path(__file__).resolve().parents[3] / "docs" / "events"
SUFFIX = ".schema.json"

FLOWS: dict[str, Callable[[Api], None]] = {
    "scenario 1": scenarios.test_scenario_1_global_transformation_program,
    "scenario 2": scenarios.test_scenario_2_multi_country_engagement,
    "scenario 3": scenarios.test_scenario_3_blocked_setup_is_fixed_replayed_and_billed,
    "scenario 4": scenarios.test_scenario_4_retainer_rollover_overage_and_expiry,
    "contract to cash": contract_to_cash.test_contract_to_cash,
    "split billing": split_billing.test_two_payers_two_invoices_a_partial_credit_on_one_and_a_rerun_for_it_only,  # noqa: E501
    "write-off": ledger_gaps.test_a_finance_approver_writes_off_a_short_payment_and_then_the_rest,
}

Emitted = list[tuple[str, str, dict[str, Any]]]


def published_schemas() -> dict[str, dict[str, Any]]:
    """Every schema in docs/events/, by event type."""
    return {
        path.name.removesuffix(SUFFIX): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(EVENTS.glob(f"*{SUFFIX}"))
    }


def emitted_by(api: Api) -> Emitted:
    """(event type, event id, payload) of every event in the app's outbox, in order."""
    return [
        (
            cloudevent_type(e.aggregate_type, e.event_type).removeprefix(f"{TYPE_PREFIX}."),
            e.event_id,
            dict(e.payload),
        )
        for e in api.app.data.outbox
    ]


def violations(schemas: dict[str, dict[str, Any]], emitted: Emitted) -> list[str]:
    """Each emitted event that breaks its type's schema, or whose type has none."""
    found = []
    for event_type, event_id, payload in emitted:
        schema = schemas.get(event_type)
        if schema is None:
            found.append(f"{event_type} ({event_id}): no docs/events/{event_type}{SUFFIX}")
            continue
        checker = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        found += [
            f"{event_type} ({event_id}) at {list(e.absolute_path)}: {e.message}"
            for e in checker.iter_errors(payload)
        ]
    return found


@pytest.fixture(scope="module")
def emitted_in_the_flows() -> dict[str, Emitted]:
    """The outbox of each end-to-end flow, each played on a fresh app."""
    emitted = {}
    for name, flow in FLOWS.items():
        with running_api(limits=UNLIMITED) as api:
            flow(api)
            emitted[name] = emitted_by(api)
    return emitted


def test_every_event_emitted_in_the_end_to_end_flows_matches_its_published_schema(
    emitted_in_the_flows: dict[str, Emitted],
) -> None:
    schemas = published_schemas()
    found = {name: violations(schemas, events) for name, events in emitted_in_the_flows.items()}

    assert {name: problems for name, problems in found.items() if problems} == {}
    assert all(emitted_in_the_flows.values())  # every flow emitted something to check


def test_every_event_type_the_flows_emit_has_a_schema(
    emitted_in_the_flows: dict[str, Emitted],
) -> None:
    emitted_types = {t for events in emitted_in_the_flows.values() for t, _, _ in events}

    assert emitted_types - set(published_schemas()) == set()
    # The events an ERP acts on are among those checked.
    assert {"invoice.issued", "credit_memo.issued", "invoice.payment_recorded"} <= emitted_types
    assert "invoice.written_off" in emitted_types  # ADR 0040


def test_an_event_type_without_a_schema_is_reported() -> None:
    emitted: Emitted = [("invoice.teleported", "EVT-1", {"invoice_id": "INV-1"})]

    assert violations(published_schemas(), emitted) == [
        "invoice.teleported (EVT-1): no docs/events/invoice.teleported.schema.json"
    ]


def test_a_payload_that_breaks_its_schema_is_reported_at_the_field() -> None:
    schemas = published_schemas()
    ((_, _, issued),) = published_example(schemas, "invoice.issued")
    issued["totals"]["net"] = 90000.0  # a number, never a decimal string
    issued["surprise"] = True

    problems = violations(schemas, [("invoice.issued", "EVT-1", issued)])

    assert any("['totals', 'net']" in p for p in problems)
    assert any("surprise" in p for p in problems)


def published_example(schemas: dict[str, dict[str, Any]], event_type: str) -> Emitted:
    """The published example of a type, as an emitted event."""
    return [(event_type, "EXAMPLE", json.loads(json.dumps(schemas[event_type]["examples"][0])))]


def test_every_published_schema_is_valid_and_its_example_matches_it() -> None:
    schemas = published_schemas()

    for event_type, schema in schemas.items():
        Draft202012Validator.check_schema(schema)
        assert schema["title"] == f"{TYPE_PREFIX}.{event_type}"
        assert schema["examples"], event_type
    examples = [e for t in schemas for e in published_example(schemas, t)]
    assert violations(schemas, examples) == []


def test_our_own_objects_refuse_fields_the_schema_does_not_name() -> None:
    def open_objects(node: Any, where: str) -> Iterator[str]:
        if isinstance(node, dict):
            # Closed (False) or a typed map (a schema for every other key, as the extra
            # dimensions a chart of accounts adds): never open to anything.
            extra = node.get("additionalProperties", True)
            if node.get("type") == "object" and extra is True:
                yield where
            for key, value in node.items():
                if key != "examples":
                    yield from open_objects(value, f"{where}/{key}")
        elif isinstance(node, list):
            for n, value in enumerate(node):
                yield from open_objects(value, f"{where}/{n}")

    open_ones = [p for t, s in published_schemas().items() for p in open_objects(s, t)]

    assert open_ones == []


def test_split_billing_events_match_their_schemas_on_every_store(api_on: Api) -> None:
    split_billing.test_two_payers_two_invoices_a_partial_credit_on_one_and_a_rerun_for_it_only(
        api_on
    )
    emitted = emitted_by(api_on)

    assert violations(published_schemas(), emitted) == []
    issued = [p for t, _, p in emitted if t == "invoice.issued"]
    assert sorted((p["customer_id"], p["payer_id"], p["split_billing"]) for p in issued) == [
        ("acme", "acme", False),
        ("acme", "globex", True),
    ]
