"""A payment is identified by the ERP's payment id, over HTTP and by webhook: posted again
under another Idempotency-Key or message id it is a replay (the same answer, no second
payment); with other content it is a 409 `natural-key-conflict` naming the field (ADR 0024)."""

from __future__ import annotations

from typing import Any

from application.records import ExceptionKind
from domain.ids import InvoiceId
from tests.e2e.http.books_setup import send_event
from tests.e2e.http.harness import IDENTITIES, Api
from tests.e2e.http.test_api_conventions import assert_problem
from tests.unit.application.test_natural_keys import issued

PRINCIPAL = {name: principal for name, (_key, principal, *_rest) in IDENTITIES.items()}


def payment(invoice_id: str | None = None, amount: str = "2.00") -> dict[str, str]:
    body = {"payment_id": "PAY-1", "amount": amount, "currency": "EUR", "received_on": "2026-04-20"}
    if invoice_id is not None:
        body["invoice_id"] = invoice_id
    return body


def post_payment(api: Api, invoice_id: InvoiceId, key: str, amount: str = "2.00") -> Any:
    return api.post(f"/invoices/{invoice_id}/payments", payment(amount=amount), key=key)


def paid(api: Api, invoice_id: InvoiceId) -> str:
    return str(api.get(f"/invoices/{invoice_id}").json()["paid"]["amount"])


def send_erp(api: Api, message_id: str, data: dict[str, str]) -> Any:
    return send_event(api, "erp", message_id, "payment.received", data)


def payments_recorded(api: Api) -> int:
    return sum(1 for r in api.app.data.audit if r.action == "record_payment")


def test_the_same_payment_under_another_idempotency_key_is_a_replay_with_the_same_body(
    api: Api,
) -> None:
    invoice_id = issued(api.app)
    first = post_payment(api, invoice_id, "erp-try-1")
    assert first.status_code == 200, first.text
    audit, outbox = len(api.app.data.audit), len(api.app.data.outbox)

    again = post_payment(api, invoice_id, "erp-try-2")

    assert again.status_code == first.status_code
    assert again.json() == first.json()
    assert "idempotent-replayed" not in again.headers  # another key: the payment id replays
    assert paid(api, invoice_id) == "2.00"
    assert (len(api.app.data.audit), len(api.app.data.outbox)) == (audit, outbox)
    assert payments_recorded(api) == 1


def test_the_same_payment_id_with_another_amount_is_a_409_naming_the_amount(api: Api) -> None:
    invoice_id = issued(api.app)
    assert post_payment(api, invoice_id, "erp-try-1").status_code == 200

    refused = post_payment(api, invoice_id, "erp-try-2", amount="20.00")

    problem = assert_problem(refused, "natural-key-conflict")
    assert [e["pointer"] for e in problem["errors"]] == ["/amount"]
    assert "amount '2.00', not '20.00'" in problem["detail"]
    assert paid(api, invoice_id) == "2.00"
    # refused before any change: the key is free for a corrected retry
    assert (PRINCIPAL["finance"], "erp-try-2") not in api.app.data.idempotency
    again = post_payment(api, invoice_id, "erp-try-2")
    assert again.status_code == 200, again.text
    assert paid(api, invoice_id) == "2.00"


def test_one_plus_one_plus_three_posted_twice_under_new_keys_is_five(api: Api) -> None:
    invoice_id = issued(api.app)
    for attempt in ("a", "b"):
        for payment_id, amount in (("PAY-1", "1.00"), ("PAY-2", "1.00"), ("PAY-3", "3.00")):
            body = {**payment(amount=amount), "payment_id": payment_id}
            answer = api.post(
                f"/invoices/{invoice_id}/payments", body, key=f"{payment_id}-{attempt}"
            )
            assert answer.status_code == 200, answer.text
    assert paid(api, invoice_id) == "5.00"


def test_two_erp_webhooks_with_different_message_ids_pay_once(api: Api) -> None:
    invoice_id = issued(api.app)

    first = send_erp(api, "msg_pay_1", payment(invoice_id))
    second = send_erp(api, "msg_pay_2", payment(invoice_id))

    assert (first.status_code, first.json()["status"]) == (200, "processed")
    assert (second.status_code, second.json()["status"]) == (200, "processed")
    assert paid(api, invoice_id) == "2.00"
    assert payments_recorded(api) == 1


def test_a_payment_posted_over_http_then_sent_by_webhook_is_one_payment(api: Api) -> None:
    invoice_id = issued(api.app)
    assert post_payment(api, invoice_id, "erp-try-1").status_code == 200

    answer = send_erp(api, "msg_pay_1", payment(invoice_id))

    assert answer.json()["status"] == "processed"
    assert paid(api, invoice_id) == "2.00"


def test_a_webhook_with_the_same_payment_id_and_another_amount_waits_as_a_conflict(
    api: Api,
) -> None:
    invoice_id = issued(api.app)
    assert send_erp(api, "msg_pay_1", payment(invoice_id)).status_code == 200

    answer = send_erp(api, "msg_pay_2", payment(invoice_id, amount="20.00"))

    assert answer.status_code == 202, answer.text
    exception = api.app.data.exceptions[answer.json()["exception_id"]]
    assert (exception.kind, exception.reason_code) == (
        ExceptionKind.CONFLICT,
        "natural_key_conflict",
    )
    assert "amount '2.00', not '20.00'" in exception.detail
    assert paid(api, invoice_id) == "2.00"


def test_a_numbered_dispute_posted_twice_is_opened_once(api: Api) -> None:
    invoice_id = issued(api.app)
    body = {"reason": "March hours", "dispute_id": "DSP-7"}
    first = api.post(f"/invoices/{invoice_id}/dispute", body, key="dispute-1")
    again = api.post(f"/invoices/{invoice_id}/dispute", body, key="dispute-2")
    assert first.status_code == 200, first.text
    assert (again.status_code, again.json()) == (200, first.json())
    assert sum(1 for r in api.app.data.audit if r.action == "dispute") == 1
    other = api.post(
        f"/invoices/{invoice_id}/dispute", {**body, "reason": "April"}, key="dispute-3"
    )
    problem = assert_problem(other, "natural-key-conflict")
    assert [e["pointer"] for e in problem["errors"]] == ["/reason"]
