"""Operations through HTTP: the exception queue and its replay, the audit-trail verifier and
the reconciliation report."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs

from domain.money import Money
from tests.e2e.http.answers import ok
from tests.e2e.http.books_setup import committed_invoice, issued_invoice, problem
from tests.e2e.http.harness import Api
from tests.unit.application.conftest import EUR


def handover_failed(api: Api) -> tuple[str, str]:
    """An invoice issued while the ERP was down: its hand-over waits on the exception queue."""
    invoice_id = committed_invoice(api)
    api.post(f"/invoices/{invoice_id}/approve", who="finance_approver")
    api.app.handover.available = False
    issued = api.post(f"/invoices/{invoice_id}/issue", {"issue_date": "2026-03-31"})
    assert (issued.status_code, issued.json()["state"]) == (200, "issued")
    api.app.handover.available = True
    (exception_id,) = api.app.data.exceptions
    return invoice_id, exception_id


def test_a_downstream_failure_is_listed_and_a_replay_heals_it(api: Api) -> None:
    invoice_id, exception_id = handover_failed(api)
    listed = api.get("/exceptions", who="finance", state="retry_scheduled")
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()["items"]
    assert (item["exception_id"], item["kind"], item["workflow"], item["subject"]) == (
        exception_id,
        "downstream_unavailable",
        "invoice_handover",
        f"invoice:{invoice_id}",
    )
    assert (item["attempts"], item["replayable"]) == (1, True)
    assert {"args", "replay"}.isdisjoint(item)  # what it keeps to replay stays inside
    assert api.get("/exceptions", who="finance", state="resolved").json()["items"] == []
    one = api.get(f"/exceptions/{exception_id}", who="auditor").json()
    assert one == item
    replayed = api.post(f"/exceptions/{exception_id}/replay", who="finance_approver", key="rp-1")
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["healed"] is True
    assert (replayed.json()["exception"]["state"], replayed.json()["exception"]["resolved_by"]) == (
        "resolved",
        "alex.approver",
    )
    assert list(api.app.handover.received) == [f"{invoice_id}:handover"]
    again = api.post(f"/exceptions/{exception_id}/replay", who="finance_approver", key="rp-1")
    assert (again.status_code, again.json()) == (200, replayed.json())
    replays = [r for r in api.app.data.audit if r.subject == f"exception:{exception_id}"]
    assert [r.action for r in replays] == ["raised", "replay", "replayed"]


def test_a_replay_that_fails_again_is_reported_not_healed(api: Api) -> None:
    _invoice_id, exception_id = handover_failed(api)
    api.app.handover.available = False
    replayed = api.post(f"/exceptions/{exception_id}/replay", who="finance")
    assert replayed.status_code == 200, replayed.text
    assert replayed.json()["healed"] is False
    assert replayed.json()["exception"]["attempts"] == 2


def test_the_exception_routes_are_permissioned_and_scoped(api: Api) -> None:
    _invoice_id, exception_id = handover_failed(api)
    assert api.get("/exceptions", who="delivery_manager").status_code == 403
    assert api.post(f"/exceptions/{exception_id}/replay", who="auditor").status_code == 403
    missing = api.get("/exceptions/EXC-999999", who="finance")
    assert (missing.status_code, problem(missing)) == (404, "not-found")
    assert api.post("/exceptions/EXC-999999/replay", who="finance").status_code == 404
    assert api.get("/exceptions", who="finance", state="broken").status_code == 400
    paged = api.get("/exceptions", who="finance", limit=1).json()
    assert (len(paged["items"]), paged["next_cursor"]) == (1, None)


def test_the_audit_verifier_reports_an_intact_chain_and_names_a_tampered_record(
    api: Api,
) -> None:
    issued_invoice(api)
    found = ok(api.get("/audit/verify", who="auditor"))
    assert (found["intact"], found["first_broken"], found["problem"]) == (True, None, "")
    assert found["records"] == len(api.app.data.audit) > 5
    audit = api.app.data.audit
    audit[4] = attrs.evolve(audit[4], actor="someone-else")
    tampered = api.get("/audit/verify", who="auditor").json()
    assert (tampered["intact"], tampered["first_broken"]) == (False, audit[4].sequence)
    assert tampered["problem"] == "contents do not match its hash"
    assert api.get("/audit/verify", who="finance").status_code == 403


def test_reconciliation_lists_each_exception_and_a_clean_month_lists_none(api: Api) -> None:
    invoice_id = issued_invoice(api)
    number = api.get(f"/invoices/{invoice_id}", who="finance").json()["number"]
    api.app.psa.rows = [
        ("t1", date(2026, 3, 2), Decimal("8")),
        ("t2", date(2026, 3, 3), Decimal("5")),  # the PSA says 5 h, we hold 4 h
    ]
    api.app.erp.rows = [(number, date(2026, 3, 31), Money(Decimal("1400.00"), EUR))]
    audit_before = len(api.app.data.audit)
    found = ok(api.get("/reconciliation", who="auditor", period="2026-03"))
    assert found["clean"] is False
    assert found["exceptions"] == [
        {
            "area": "hours",
            "kind": "hours_mismatch",
            "subject": "t2",
            "expected": "5",
            "actual": "4",
        },
        {
            "area": "receivables",
            "kind": "amount_mismatch",
            "subject": number,
            "expected": "1,440.00 EUR",
            "actual": "1,400.00 EUR",
        },
    ]
    assert found["totals"] == {
        "psa_hours": "13",
        "approved_hours": "12",
        "billed_hours": "12",
        "issued_gross": [{"amount": "1440.00", "currency": "EUR"}],
        "erp_gross": [{"amount": "1400.00", "currency": "EUR"}],
    }
    assert len(api.app.data.audit) == audit_before  # a read: nothing was written
    api.app.psa.rows[1] = ("t2", date(2026, 3, 3), Decimal("4"))
    api.app.erp.rows = [(number, date(2026, 3, 31), Money(Decimal("1440.00"), EUR))]
    clean = api.get("/reconciliation", who="finance", period="2026-03").json()
    assert (clean["clean"], clean["exceptions"]) == (True, [])
    assert api.get("/reconciliation", who="finance").status_code == 400  # which month?
    assert api.get("/reconciliation", who="delivery_manager", period="2026-03").status_code == 403
