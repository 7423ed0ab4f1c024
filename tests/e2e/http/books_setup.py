"""Seed-then-act helpers for the delivery, billing and finance HTTP suites: the setup is seeded
through the application's commands (`api.app.do`), everything after it goes through HTTP.

The T&M contract of `set_up_tm_contract`: engagement E1, contract C1 of customer acme, one
obligation `tm` billed at 100.00 EUR an hour for a consultant, VAT 20 %.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

from adapters.webhooks.signatures import signature_headers
from domain.ids import MilestoneId, ObligationId
from domain.milestone_billing import MilestoneSpec, MilestoneTerms
from entrypoints.http.security import issue_token
from tests.e2e.http.harness import IDENTITIES, JWT, WEBHOOK_SECRETS, Api
from tests.unit.application.conftest import EUR, set_up_tm_contract, sign_contract

MARCH = "2026-03"
#: Where the PSA books r1's delivery: engagement E1's time-and-materials obligation.
ON_TM = {"engagement_id": "E1", "obligation_id": "tm", "resource_id": "r1"}


def entry(entry_id: str, day: str, hours: str, **fields: Any) -> dict[str, Any]:
    """One time entry as the PSA sends it to POST /time-entries."""
    return {
        "entry_id": entry_id,
        **ON_TM,
        "role": "consultant",
        "work_date": day,
        "hours": hours,
        **fields,
    }


def expense(expense_id: str, category: str, amount: str, **fields: Any) -> dict[str, Any]:
    """One expense as the PSA sends it to POST /expenses, incurred on 4 March 2026 in EUR."""
    return {
        "expense_id": expense_id,
        **ON_TM,
        "category": category,
        "incurred_on": "2026-03-04",
        "amount": amount,
        "currency": "EUR",
        **fields,
    }


def contract_body(
    contract_id: str = "C1", customer_id: str = "acme", name: str = "Advisory 2026"
) -> dict[str, str]:
    """A contract as the CLM registers it through POST /contracts: with tl-uk, in EUR."""
    return {
        "contract_id": contract_id,
        "customer_id": customer_id,
        "legal_entity_id": "tl-uk",
        "currency": "EUR",
        "name": name,
    }


def money(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


def credit_of_line_one(
    quantity: str, reason: str, source: str | None = None, **fields: Any
) -> dict[str, Any]:
    """A credit of `quantity` on line 1 (of its `source` alone, when one is named), as finance
    asks for it through POST /invoices/{id}/credit-memos."""
    line = {"line_no": 1, **({"source": source} if source else {}), "quantity": quantity}
    return {"lines": [line], "reason": reason, **fields}


def drafted_credit(api: Api, invoice_id: str, body: dict[str, Any]) -> Any:
    """The credit memo finance drafted against the invoice (201)."""
    drafted = api.post(f"/invoices/{invoice_id}/credit-memos", body, who="finance")
    assert drafted.status_code == 201, drafted.text
    return drafted.json()


def payment(payment_id: str, amount: str, received_on: str) -> dict[str, str]:
    """A payment in EUR as the ERP reports it to POST /invoices/{id}/payments."""
    return {"payment_id": payment_id, **money(amount), "received_on": received_on}


def bearer(who: str, *also: str) -> dict[str, str]:
    """The headers of a person who holds `who`'s roles and also the roles `also` (a JWT with
    the same subject as `who`'s API key, so both credentials are one principal)."""
    _key, principal, roles, customer = IDENTITIES[who]
    token = issue_token(JWT, principal, (*roles, *also), now=int(time.time()), customer_id=customer)
    return {"Authorization": f"Bearer {token}"}


def post_as(api: Api, path: str, body: Any, headers: dict[str, str], key: str) -> Any:
    return api.client.post(path, json=body, headers={**headers, "Idempotency-Key": key})


def approved_by_its_maker(api: Api, path: str, key: str) -> Any:
    """POST the approval at `path` as finance's own person holding the approver role too: the
    maker of what finance drafted, whom maker-checker refuses whatever roles they hold."""
    return post_as(api, path, None, bearer("finance", "finance_approver"), key)


def send_webhook(api: Api, source: str, message_id: str, body: bytes) -> Any:
    """POST `body` to /webhooks/{source}, signed now with the source's secret, as it sends."""
    headers = signature_headers(
        WEBHOOK_SECRETS.for_source(source), message_id, api.app.clock.now(), body
    )
    headers["content-type"] = "application/json"
    return api.client.post(f"/webhooks/{source}", content=body, headers=headers)


def send_event(
    api: Api, source: str, message_id: str, event_type: str, data: dict[str, Any]
) -> Any:
    """One event of `event_type` carrying `data`, as the source's signed webhook."""
    body = json.dumps({"type": event_type, "data": data}).encode()
    return send_webhook(api, source, message_id, body)


def tm_with_march_time(api: Api, cap: Any = None) -> None:
    """The T&M contract and 12 approved hours in March (t1 8 h, t2 4 h), posted by the PSA."""
    set_up_tm_contract(api.app, cap=cap)
    response = api.post(
        "/time-entries",
        {"entries": [entry("t1", "2026-03-02", "8"), entry("t2", "2026-03-03", "4")]},
        who="integration",
    )
    assert response.status_code == 200, response.text


def committed_invoice(api: Api) -> str:
    """March billed: previewed and committed by finance (fran.finance); the draft's id."""
    tm_with_march_time(api)
    preview = api.post("/billing-runs/preview", {"period": MARCH}, who="finance").json()
    body = {"period": MARCH, "expected_fingerprint": preview["fingerprint"]}
    committed = api.post("/billing-runs", body, who="finance")
    assert committed.status_code == 201, committed.text
    (invoice_id,) = committed.json()["invoice_ids"]
    return str(invoice_id)


def issued_invoice(api: Api) -> str:
    """The March invoice approved by the approver and issued on 31 March: 1,440.00 gross."""
    invoice_id = committed_invoice(api)
    approved = api.post(f"/invoices/{invoice_id}/approve", who="finance_approver")
    assert approved.status_code == 200, approved.text
    issued = api.post(f"/invoices/{invoice_id}/issue", {"issue_date": "2026-03-31"})
    assert issued.status_code == 200, issued.text
    return invoice_id


def milestone_contract(api: Api) -> None:
    """Besides the T&M contract: engagement E2 on contract C2 (acme), a 1,000.00 programme
    billed by milestones M1 (40 %) and M2 (60 %, final)."""
    set_up_tm_contract(api.app)
    terms = MilestoneTerms(
        ObligationId("ms"), "Programme", EUR, Decimal("1000.00"),
        (MilestoneSpec(MilestoneId("M1"), "Design", percentage=Decimal("40")),
         MilestoneSpec(MilestoneId("M2"), "Build", percentage=Decimal("60"), final=True)),
    )  # fmt: skip
    sign_contract(api.app, "E2", "C2", "Programme", [terms])


def problem(response: Any) -> str:
    """The problem type's slug of an error response."""
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return str(response.json()["type"]).rsplit("/", 1)[-1]
