"""The journal gaps an ERP would notice, through HTTP (ADR 0040), on the in-memory store, SQLite
and PostgreSQL: a finance approver writes off what an invoice still owes and the write-off
shows in the journal with its accounts and dimensions; an invoice with several tax codes
posts one tax payable line per code; an engagement shows the PSA's project code, and its
journal lines carry it. Every event emitted on the way matches its published schema.
"""

from __future__ import annotations

from typing import Any

import pytest

from adapters.chart_of_accounts import chart_to_json
from tests.e2e.http.books_setup import issued_invoice, payment, problem
from tests.e2e.http.harness import Api
from tests.e2e.http.test_tax_per_line import PROFILE, billed_invoice, tm_contract_billing_expenses
from tests.unit.application.conftest import CUSTOMER
from tests.unit.application.test_journal_posting import CHARTS

INSOLVENT = {"reason": "customer in liquidation"}


def emitted(api: Api) -> list[tuple[str, str, dict[str, Any]]]:
    """(type, id, payload) of every event the app emitted."""
    # Imported here: test_event_schemas plays this module's write-off among its flows.
    from tests.e2e.http.test_event_schemas import emitted_by

    return emitted_by(api)


def schema_violations(api: Api) -> list[str]:
    """Every emitted event that breaks its published schema (ADR 0036)."""
    from tests.e2e.http.test_event_schemas import published_schemas, violations

    return violations(published_schemas(), emitted(api))


def with_chart(api: Api, **refined: str) -> None:
    """Finance sets the legal entity's chart, tax payable refined per tax code as given."""
    (chart,) = [chart_to_json(chart) for chart in CHARTS.charts]
    chart["tax_payable_by_tax_code"] = refined
    answer = api.post("/charts-of-accounts", chart, who="finance")
    assert answer.status_code == 200, answer.text


def issued_in_april(api: Api) -> str:
    """The March invoice (1,440.00 EUR) issued on 31 March; the clock on 15 April."""
    with_chart(api)
    invoice_id = issued_invoice(api)
    api.app.clock.advance(days=45)
    return invoice_id


def write_off(api: Api, invoice_id: str, body: dict[str, Any], **kw: Any) -> Any:
    return api.post(f"/invoices/{invoice_id}/write-off", body, **{"who": "finance_approver", **kw})


def journal_of(api: Api, document: str) -> list[dict[str, Any]]:
    answer = api.get("/journal-entries", who="finance", source_document=document)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


def test_a_finance_approver_writes_off_a_short_payment_and_then_the_rest(api_on: Api) -> None:
    api = api_on
    invoice_id = issued_in_april(api)
    partial = write_off(api, invoice_id, {"reason": "bank charges", "amount": "40.00"})
    assert partial.status_code == 200, partial.text
    body = partial.json()
    assert body["state"] == "issued"
    assert body["outstanding"] == {"amount": "1400.00", "currency": "EUR"}
    assert body["written_off"] == {"amount": "40.00", "currency": "EUR"}
    rest = write_off(api, invoice_id, INSOLVENT)
    assert rest.status_code == 200, rest.text
    assert rest.json()["state"] == "written_off"
    assert rest.json()["outstanding"]["amount"] == "0.00"
    assert rest.json()["written_off"]["amount"] == "1440.00"
    issue, first, second = journal_of(api, "INV-2026-000001")
    assert issue["description"] == "Issue of invoice INV-2026-000001"
    for entry, amount in ((first, "40.00"), (second, "1400.00")):
        assert entry["posted_on"] == "2026-04-15"
        lines = [(ln["gl_account"], ln["debit"], ln["credit"]) for ln in entry["lines"]]
        assert lines == [("6900", amount, "0.00"), ("1100", "0.00", amount)]
        for line in entry["lines"]:
            assert line["dimensions"]["project_code"] == "PRJ-E1"
            assert line["dimensions"]["engagement_id"] == "E1"
    assert schema_violations(api) == []
    written = [p for t, _, p in emitted(api) if t == "invoice.written_off"]
    assert [
        (p["written_off_amount"], p["total_written_off"], p["outstanding"]) for p in written
    ] == [
        ("40.00", "40.00", "1400.00"),
        ("1400.00", "1440.00", "0.00"),
    ]


def test_a_second_write_off_of_a_written_off_invoice_is_a_conflict(api_on: Api) -> None:
    api = api_on
    invoice_id = issued_in_april(api)
    assert write_off(api, invoice_id, INSOLVENT).status_code == 200
    again = write_off(api, invoice_id, INSOLVENT)
    assert again.status_code == 409, again.text
    assert problem(again) == "invalid-state"
    assert "'written_off' cannot 'write_off'" in again.json()["detail"]
    assert len(journal_of(api, "INV-2026-000001")) == 2


def test_the_same_idempotency_key_again_writes_off_nothing_more(api_on: Api) -> None:
    api = api_on
    invoice_id = issued_in_april(api)
    body = {"reason": "bank charges", "amount": "40.00"}
    first = write_off(api, invoice_id, body, key="wo-1")
    replay = write_off(api, invoice_id, body, key="wo-1")
    assert (first.status_code, replay.status_code) == (200, 200)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert len(journal_of(api, "INV-2026-000001")) == 2
    reused = write_off(api, invoice_id, {**body, "amount": "41.00"}, key="wo-1")
    assert problem(reused) == "idempotency-key-reused"


@pytest.mark.parametrize(
    ("body", "status", "slug", "says"),
    [
        ({"reason": "x", "amount": "1440.01"}, 422, "business-rule", "exceeds the 1,440.00"),
        ({"reason": "x", "amount": "0"}, 422, "business-rule", "positive amount"),
        ({"reason": "x", "amount": "10.001"}, 400, "validation-error", "/amount"),
        ({"reason": "x", "colour": "red"}, 400, "validation-error", "colour"),
        ({"amount": "10.00"}, 400, "validation-error", "reason"),
    ],
)
def test_a_bad_write_off_is_refused_at_its_field_and_changes_nothing(
    api_on: Api, body: dict[str, Any], status: int, slug: str, says: str
) -> None:
    api = api_on
    invoice_id = issued_in_april(api)
    refused = write_off(api, invoice_id, body)
    assert refused.status_code == status, refused.text
    assert problem(refused) == slug
    assert says in refused.text
    invoice = api.get(f"/invoices/{invoice_id}", who="finance").json()
    assert (invoice["state"], invoice["written_off"]["amount"]) == ("issued", "0.00")
    assert len(journal_of(api, "INV-2026-000001")) == 1


def test_a_written_off_invoice_refuses_a_later_payment(api_on: Api) -> None:
    api = api_on
    invoice_id = issued_in_april(api)
    assert write_off(api, invoice_id, INSOLVENT).status_code == 200
    late = payment("PAY-LATE", "100.00", "2026-04-15")
    refused = api.post(f"/invoices/{invoice_id}/payments", late, who="finance")
    assert refused.status_code == 422, refused.text
    assert problem(refused) == "business-rule"
    invoice = api.get(f"/invoices/{invoice_id}", who="finance").json()
    assert (invoice["state"], invoice["paid"]["amount"]) == ("written_off", "0.00")


def test_a_disputed_invoice_is_settled_before_it_is_written_off(api_on: Api) -> None:
    api = api_on
    invoice_id = issued_in_april(api)
    disputed = api.post(f"/invoices/{invoice_id}/dispute", {"reason": "hours"}, who="finance")
    assert disputed.status_code == 200, disputed.text
    refused = write_off(api, invoice_id, INSOLVENT)
    assert refused.status_code == 409, refused.text
    assert "'disputed' cannot 'write_off'" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("who", "status"),
    [("finance", 403), ("auditor", 403), ("integration", 403), ("client_viewer", 403)],
)
def test_only_finance_approvers_write_off(api_on: Api, who: str, status: int) -> None:
    api = api_on
    invoice_id = issued_in_april(api)
    assert write_off(api, invoice_id, INSOLVENT, who=who).status_code == status
    assert api.get(f"/invoices/{invoice_id}", who="finance").json()["state"] == "issued"


def test_a_client_viewer_sees_its_written_off_invoice(api_on: Api) -> None:
    api = api_on
    invoice_id = issued_in_april(api)
    write_off(api, invoice_id, INSOLVENT)
    seen = api.get(f"/invoices/{invoice_id}", who="client_viewer")
    assert seen.status_code == 200, seen.text
    assert seen.json()["state"] == "written_off"


# Tax payable per code and the project code ----------------------------------------------------


def test_an_invoice_with_two_taxed_codes_posts_a_tax_line_per_code(api_on: Api) -> None:
    api = api_on
    with_chart(api, VAT20="2201")
    tm_contract_billing_expenses(api)
    rates = {
        "rates": [
            {"tax_code": "VAT20", "effective_from": "2020-01-01", "rate": "0.20"},
            {"tax_code": "RED10", "effective_from": "2020-01-01", "rate": "0.10"},
        ]
    }
    assert api.post("/tax-rates", rates, who="finance").status_code == 200
    profile = {**PROFILE, "categories": [{"category": "expenses", "tax_code": "RED10"}]}
    pushed = api.post(f"/customers/{CUSTOMER}/master-data", profile, who="finance")
    assert pushed.status_code == 200, pushed.text
    invoice = billed_invoice(api)
    # 10 h x 100 at 20 %: 200.00; 712.43 of expenses at 10 %: 71.24
    assert [(t["tax_code"], t["tax"]["amount"]) for t in invoice["tax_lines"]] == [
        ("RED10", "71.24"),
        ("VAT20", "200.00"),
    ]
    invoice_id = invoice["invoice_id"]
    assert api.post(f"/invoices/{invoice_id}/approve", who="finance_approver").status_code == 200
    issued = api.post(f"/invoices/{invoice_id}/issue", {"issue_date": "2026-03-31"})
    assert issued.status_code == 200, issued.text
    (entry,) = journal_of(api, issued.json()["number"])
    taxes = [
        (ln["tax_code"], ln["gl_account"], ln["credit"])
        for ln in entry["lines"]
        if ln["posting_role"] == "tax_payable"
    ]
    assert taxes == [("RED10", "2200", "71.24"), ("VAT20", "2201", "200.00")]
    assert entry["total"] == "1983.67"  # 1,712.43 net + 271.24 tax
    assert {ln["tax_code"] for ln in entry["lines"] if ln["posting_role"] != "tax_payable"} == {
        None
    }


def test_an_engagement_shows_the_psas_project_code_its_journal_lines_carry(api_on: Api) -> None:
    api = api_on
    with_chart(api)
    issued_invoice(api)
    engagement = api.get("/engagements/E1", who="finance")
    assert engagement.status_code == 200, engagement.text
    assert engagement.json()["project_code"] == "PRJ-E1"
    (entry,) = journal_of(api, "INV-2026-000001")
    assert {ln["dimensions"]["project_code"] for ln in entry["lines"]} == {"PRJ-E1"}
    assert schema_violations(api) == []
