"""Disputes over HTTP end explicitly, and the invoice's state and dispute fields agree.

Issue 9: a partial credit memo on a disputed invoice ended the dispute silently and kept its
`dispute_reason`; `/resolve` then answered 409. Now a credit memo resolves the dispute only
when its draft says `resolves_dispute: true` (its reason becomes the resolution); any other
credit leaves the dispute open, and `/resolve` still works after it. A resolved dispute's
reason is history (`disputes`), never the current `dispute_reason`.

Each test runs on the in-memory adapters, on SQLite and on PostgreSQL (`api_on`), since the
dispute history and the credit's flag are stored and read back.
"""

from __future__ import annotations

from typing import Any

from tests.e2e.http.answers import ok
from tests.e2e.http.books_setup import issued_invoice, money, problem
from tests.e2e.http.harness import Api

REASON = "4 h of t2 were not delivered"
T2 = {"line_no": 1, "source": "time_entry:t2"}  # 4 h x 100.00 + 20 % VAT = 480.00


def disputed(api: Api) -> str:
    invoice_id = issued_invoice(api)  # 1,440.00 gross
    opened = ok(api.post(f"/invoices/{invoice_id}/dispute", {"reason": REASON}))
    assert (opened["state"], opened["dispute_reason"]) == ("disputed", REASON)
    assert [(d["reason"], d["state"]) for d in opened["disputes"]] == [(REASON, "open")]
    return invoice_id


def credit(api: Api, invoice_id: str, **body: Any) -> dict[str, Any]:
    """Drafted by finance, approved by the approver, issued: the memo as issued."""
    drafted = ok(
        api.post(
            f"/invoices/{invoice_id}/credit-memos",
            {"lines": [T2], "reason": "4 h credited", **body},
            who="finance",
        ),
        201,
    )
    memo = drafted["credit_memo_id"]
    ok(api.post(f"/credit-memos/{memo}/approve", who="finance_approver"))
    return dict(ok(api.post(f"/credit-memos/{memo}/issue", {"issue_date": "2026-04-03"})))


def invoice(api: Api, invoice_id: str) -> dict[str, Any]:
    return dict(ok(api.get(f"/invoices/{invoice_id}", who="finance")))


def resolved_dispute(document: dict[str, Any], resolution: str) -> dict[str, Any]:
    """The invoice is back to issued with no dispute open; its one dispute, resolved with
    `resolution`."""
    assert (document["state"], document["dispute_reason"]) == ("issued", None)
    (dispute,) = document["disputes"]
    assert (dispute["reason"], dispute["state"], dispute["resolution"]) == (
        REASON,
        "resolved",
        resolution,
    )
    return dispute


def test_a_partial_credit_leaves_the_dispute_open_and_resolve_still_works(api_on: Api) -> None:
    api = api_on
    invoice_id = disputed(api)
    memo = credit(api, invoice_id)
    assert memo["resolves_dispute"] is False
    after = invoice(api, invoice_id)
    assert (after["state"], after["dispute_reason"]) == ("disputed", REASON)
    assert (after["credited"], after["outstanding"]) == (money("480.00"), money("960.00"))
    resolved = ok(
        api.post(f"/invoices/{invoice_id}/resolve", {"resolution": "the other 8 h stand"})
    )
    dispute = resolved_dispute(resolved, "the other 8 h stand")
    assert dispute["credit_memo_id"] is None
    assert invoice(api, invoice_id) == resolved  # as stored


def test_a_credit_that_says_so_resolves_the_dispute_with_its_reason(api_on: Api) -> None:
    api = api_on
    invoice_id = disputed(api)
    memo = credit(api, invoice_id, resolves_dispute=True)
    assert (memo["state"], memo["resolves_dispute"]) == ("issued", True)
    after = invoice(api, invoice_id)
    dispute = resolved_dispute(after, "4 h credited")
    assert dispute["credit_memo_id"] == memo["credit_memo_id"]
    assert dispute["resolved_at"] is not None
    # nothing left to resolve: a second resolution is refused, as is resolving by a new credit
    again = api.post(f"/invoices/{invoice_id}/resolve", {"resolution": "twice"})
    assert (again.status_code, problem(again)) == (409, "invalid-state")
    assert api.get("/audit/verify", who="auditor").json()["intact"] is True


def test_a_credit_cannot_resolve_a_dispute_the_invoice_does_not_have(api_on: Api) -> None:
    api = api_on
    invoice_id = issued_invoice(api)
    refused = api.post(
        f"/invoices/{invoice_id}/credit-memos",
        {"lines": [T2], "reason": "4 h credited", "resolves_dispute": True},
        who="finance",
        key="resolve-nothing",
    )
    assert (refused.status_code, problem(refused)) == (409, "invalid-state")
    assert "does not have" in refused.json()["detail"]
    assert ok(api.get("/credit-memos", who="finance"))["items"] == []
    # refused before any change: the same key without the flag drafts the credit
    drafted = api.post(
        f"/invoices/{invoice_id}/credit-memos",
        {"lines": [T2], "reason": "4 h credited"},
        who="finance",
        key="resolve-nothing",
    )
    assert drafted.status_code == 201, drafted.text


def test_resolving_an_invoice_that_is_not_disputed_is_409(api_on: Api) -> None:
    api = api_on
    invoice_id = issued_invoice(api)
    refused = api.post(f"/invoices/{invoice_id}/resolve", {"resolution": "nothing to resolve"})
    assert (refused.status_code, problem(refused)) == (409, "invalid-state")
    assert invoice(api, invoice_id)["disputes"] == []


def test_a_dispute_is_opened_and_resolved_only_with_words(api: Api) -> None:
    """White space is no reason and no resolution: 400 at the field, and nothing changes."""
    invoice_id = issued_invoice(api)
    blank = api.post(f"/invoices/{invoice_id}/dispute", {"reason": "  \n "})
    assert (blank.status_code, problem(blank)) == (400, "validation-error")
    assert blank.json()["errors"][0]["pointer"] == "/reason"
    assert (invoice(api, invoice_id)["state"], invoice(api, invoice_id)["disputes"]) == (
        "issued",
        [],
    )
    ok(api.post(f"/invoices/{invoice_id}/dispute", {"reason": REASON}))
    unresolved = api.post(f"/invoices/{invoice_id}/resolve", {"resolution": "   "})
    assert (unresolved.status_code, problem(unresolved)) == (400, "validation-error")
    assert unresolved.json()["errors"][0]["pointer"] == "/resolution"
    assert invoice(api, invoice_id)["dispute_reason"] == REASON
