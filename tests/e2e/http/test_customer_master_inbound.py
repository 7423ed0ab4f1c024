"""The customer master, inbound (ADR 0035), through the real HTTP app: the ERP puts a brand-new
customer's full record, and that customer's contract and engagement are set up and take time
through HTTP alone; only the ERP's integration role may put a record; a bad record is refused
at its field and changes nothing; each different record is a new version, the same one again
is not, by PUT as by webhook."""

from __future__ import annotations

from typing import Any

from domain.ids import CustomerId, LegalEntityId
from tests.e2e.http.books_setup import send_event
from tests.e2e.http.harness import Api
from tests.e2e.http.test_commercial_setup_workflow import ok, publish_rate_card, sign

INITECH = (CustomerId("initech"), LegalEntityId("tl-uk"))

RECORD: dict[str, Any] = {
    "legal_entity_id": "tl-uk",
    "legal_name": "Initech Ltd",
    "currency": "EUR",
    "tax_profile": {"tax_code": "VAT20"},
    "billing_address": {
        "lines": ["4 Market Street", "Floor 2"],
        "city": "Leeds",
        "postal_code": "LS1 6DT",
        "country": "GB",
    },
    "vat_id": "GB123456789",
    "payment_terms_days": 30,
}


def put_record(
    api: Api, body: dict[str, Any], who: str = "integration", key: str | None = None
) -> Any:
    return api.post("/customers/initech", body, who=who, key=key, method="PUT")


def stored_versions(api: Api) -> list[int]:
    return [r.version for r in api.app.data.customer_records.get(INITECH, [])]


def test_a_brand_new_customer_is_set_up_and_takes_time_through_http_alone(api: Api) -> None:
    publish_rate_card(api)
    # a tax profile alone is not a customer record: the setup blocks, and the customer view
    # says so too (it asks what setup asks)
    profile = {"legal_entity_id": "tl-uk", "tax_code": "VAT20"}
    pushed = ok(api.post("/customers/initech/master-data", profile, who="integration"))
    assert pushed["master_data_complete"] is True  # no contract yet: nothing to set up
    contract = sign(api, "E9", "C9", "initech")
    assert contract["engagement"] == {"engagement_id": "E9", "state": "setup_blocked"}
    blocked = ok(api.get("/engagements/E9", who="finance"))
    assert blocked["blocked_reason"] == "missing master data: customer"
    (exception,) = blocked["open_exceptions"]
    before = ok(api.get("/customers/initech", who="finance"))
    assert before["master_data_complete"] is False
    assert before["legal_entities"][0]["master_data_gaps"] == ["customer"]

    # the ERP puts the full record: version 1, and the customer is complete
    answered = ok(put_record(api, RECORD))
    assert (answered["version"], answered["legal_name"], answered["payment_terms_days"]) == (
        1,
        "Initech Ltd",
        30,
    )
    assert answered["billing_address_text"] == "4 Market Street, Floor 2, LS1 6DT Leeds, GB"
    after = ok(api.get("/customers/initech", who="finance"))
    assert after["master_data_complete"] is True
    (entity,) = after["legal_entities"]
    assert (entity["customer_record"]["version"], entity["master_data_gaps"]) == (1, [])

    # the blocked setup resumes by the exception queue's replay, once
    replayed = ok(api.post(f"/exceptions/{exception['exception_id']}/replay", who="finance"))
    assert (replayed["healed"], replayed["exception"]["state"]) == (True, "resolved")
    active = ok(api.get("/engagements/E9", who="finance"))
    assert (active["state"], active["open_exceptions"]) == ("active", [])
    assert list(api.app.projects.projects.values()) == ["E9"]
    again = ok(api.post("/engagements/E9/setup", who="sales_ops"))
    assert again["state"] == "active"
    assert list(api.app.projects.projects.values()) == ["E9"]  # no second project

    # and its time is accepted
    entry = {
        "entry_id": "IT-1",
        "engagement_id": "E9",
        "obligation_id": "tm",
        "resource_id": "r1",
        "role": "consultant",
        "work_date": "2026-03-02",
        "hours": "6",
    }
    ok(api.post("/time-entries", {"entries": [entry]}, who="integration"))
    recorded = api.app.data.time_entries["IT-1"]
    assert (recorded.obligation_id, str(recorded.hours)) == ("tm", "6")


def test_only_the_erps_integration_role_may_put_a_customer_record(api: Api) -> None:
    for who in ("finance", "sales_ops", "finance_approver", "auditor", "client_viewer"):
        refused = put_record(api, RECORD, who=who)
        assert refused.status_code == 403, (who, refused.text)
    assert stored_versions(api) == []
    assert ok(put_record(api, RECORD))["version"] == 1


def test_a_bad_record_is_refused_at_its_field_and_changes_nothing(api: Api) -> None:
    address = RECORD["billing_address"]
    cases = [
        ({**RECORD, "billing_address": {**address, "country": "XX"}}, "/billing_address/country"),
        ({**RECORD, "billing_address": {**address, "country": "gb"}}, "/billing_address/country"),
        ({**RECORD, "currency": "ABC"}, "/currency"),
        ({**RECORD, "payment_terms_days": 400}, "/payment_terms_days"),
        ({**RECORD, "payment_terms_days": -1}, "/payment_terms_days"),
        ({**RECORD, "billing_address": {**address, "lines": []}}, "/billing_address/lines"),
        ({**RECORD, "tax_profile": {"tax_code": "VAT20", "rate": "0.2"}}, "/tax_profile/rate"),
        ({**RECORD, "vat_id": "123"}, "/vat_id"),
        ({k: v for k, v in RECORD.items() if k != "legal_name"}, "/legal_name"),
        ({**RECORD, "version": 7}, "/version"),
    ]
    for body, pointer in cases:
        refused = put_record(api, body)
        assert refused.status_code == 400, (pointer, refused.text)
        assert pointer in [e["pointer"] for e in refused.json()["errors"]], refused.text
    assert stored_versions(api) == []
    assert [r for r in api.app.data.audit if r.subject.startswith("customer:initech")] == []


def test_each_different_record_is_a_new_version_and_the_same_one_again_is_not(api: Api) -> None:
    assert ok(put_record(api, RECORD))["version"] == 1
    assert ok(put_record(api, RECORD))["version"] == 1  # a new key, the same record
    moved = {**RECORD, "payment_terms_days": 45}
    assert ok(put_record(api, moved))["version"] == 2
    assert stored_versions(api) == [1, 2]
    history = ok(api.get("/customers/initech/records", who="auditor"))
    assert [(v["version"], v["payment_terms_days"]) for v in history["versions"]] == [
        (1, 30),
        (2, 45),
    ]
    audit = [(r.action, r.before, r.after, r.actor) for r in api.app.data.audit]
    assert [a for a in audit if a[0] == "push_record"] == [
        ("push_record", None, "v1", "psa-connector"),
        ("push_record", "v1", "v2", "psa-connector"),
    ]
    # the pushed tax profile is the one billing uses
    stored = api.app.data.tax_profiles[INITECH]
    assert stored.tax_code == "VAT20"


def _webhook(api: Api, message_id: str, record: dict[str, Any]) -> Any:
    data = {"customer_id": "initech", **record}
    return send_event(api, "erp", message_id, "customer.record_updated", data)


def test_a_webhook_push_equal_to_the_current_record_is_a_replay(api: Api) -> None:
    first = _webhook(api, "msg_c1", RECORD)
    assert (first.status_code, first.json()["status"]) == (200, "processed"), first.text
    same = _webhook(api, "msg_c2", RECORD)  # another message saying the same thing
    assert (same.status_code, same.json()["status"]) == (200, "processed"), same.text
    assert stored_versions(api) == [1]
    changed = _webhook(api, "msg_c3", {**RECORD, "legal_name": "Initech Holdings Ltd"})
    assert changed.status_code == 200, changed.text
    assert stored_versions(api) == [1, 2]
    current = ok(api.get("/customers/initech", who="finance"))["legal_entities"][0]
    assert current["customer_record"]["legal_name"] == "Initech Holdings Ltd"


def test_a_webhook_record_with_a_bad_country_is_kept_failed_naming_the_field(api: Api) -> None:
    bad = {**RECORD, "billing_address": {**RECORD["billing_address"], "country": "UK"}}
    failed = _webhook(api, "msg_c4", bad)
    assert (failed.status_code, failed.json()["status"]) == (202, "failed"), failed.text
    exception = api.app.data.exceptions[failed.json()["exception_id"]]
    assert "/data/billing_address/country" in exception.detail
    assert stored_versions(api) == []
