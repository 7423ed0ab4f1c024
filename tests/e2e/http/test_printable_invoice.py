"""The printable invoice over HTTP (ADR 0038): `Accept: application/pdf` on an issued invoice
or credit memo answers the PDF, inline, named after the document number, on every store; the
same access rules as the JSON answer (a client viewer gets its own customer's only); JSON
stays the default."""

from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader

from tests.e2e.http.books_setup import (
    committed_invoice,
    credit_of_line_one,
    issued_invoice,
    problem,
)
from tests.e2e.http.harness import Api

PDF = {"Accept": "application/pdf"}


def fetch(api: Api, path: str, who: str = "finance", **headers: str) -> Any:
    return api.client.get(path, headers=api.headers(who, **{**PDF, **headers}))


def text_of(pdf: bytes) -> str:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in pages))


def test_an_issued_invoice_is_fetched_as_a_pdf_with_every_figure(api_on: Api) -> None:
    api = api_on  # stored and read back on every store
    invoice_id = issued_invoice(api)  # t1 8 h + t2 4 h at 100.00, VAT 20 %
    invoice = api.get(f"/invoices/{invoice_id}", who="finance").json()
    response = fetch(api, f"/invoices/{invoice_id}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    number = invoice["number"]
    assert response.headers["content-disposition"] == f'inline; filename="{number}.pdf"'
    assert response.content.startswith(b"%PDF-")
    text = text_of(response.content)
    for figure in (
        "Invoice",
        number,
        "Issue date 2026-03-31",
        "2026-03-02",  # t1
        "2026-03-03",  # t2
        "12 h 100.00 VAT20 1,200.00",
        "8 100.00 800.00",
        "4 100.00 400.00",
        "VAT20 Standard rate 20% 1,200.00 240.00",
        "Net 1,200.00 EUR",
        "Tax 240.00 EUR",
        "Total 1,440.00 EUR",
        "Page 1 of 1",
    ):
        assert figure in text, figure
    again = fetch(api, f"/invoices/{invoice_id}")
    assert again.content == response.content  # the same document, the same bytes


def test_json_stays_the_answer_unless_a_pdf_is_asked_for(api_on: Api) -> None:
    api = api_on
    invoice_id = issued_invoice(api)
    plain = api.get(f"/invoices/{invoice_id}", who="finance")
    assert plain.headers["content-type"].startswith("application/json")
    asked = fetch(api, f"/invoices/{invoice_id}", Accept="application/json")
    assert asked.headers["content-type"].startswith("application/json")
    assert asked.json()["invoice_id"] == invoice_id


def test_an_issued_credit_memo_prints_as_a_credit_note_of_its_invoice(api_on: Api) -> None:
    api = api_on
    invoice_id = issued_invoice(api)
    number = api.get(f"/invoices/{invoice_id}", who="finance").json()["number"]
    body = credit_of_line_one("2", "two hours not delivered")
    memo = api.post(f"/invoices/{invoice_id}/credit-memos", body, who="finance").json()
    memo_id = memo["credit_memo_id"]
    assert api.post(f"/credit-memos/{memo_id}/approve", who="finance_approver").is_success
    issued = api.post(f"/credit-memos/{memo_id}/issue", {"issue_date": "2026-04-03"})
    assert issued.status_code == 200, issued.text
    response = fetch(api, f"/credit-memos/{memo_id}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    memo_number = issued.json()["number"]
    assert response.headers["content-disposition"] == f'inline; filename="{memo_number}.pdf"'
    text = text_of(response.content)
    assert "Credit note" in text
    assert f"Credits invoice {number} of 2026-03-31" in text
    assert "Reason: two hours not delivered" in text
    assert "Total credited 240.00 EUR" in text  # 2 h at 100.00 plus 20 % VAT
    assert "Amount due" not in text


def test_a_client_viewer_prints_its_own_customers_invoice_and_no_one_elses(api_on: Api) -> None:
    api = api_on
    invoice_id = issued_invoice(api)  # acme's
    own = fetch(api, f"/invoices/{invoice_id}", who="client_viewer")
    assert own.status_code == 200, own.text
    assert own.headers["content-type"] == "application/pdf"
    other = fetch(api, f"/invoices/{invoice_id}", who="client_viewer_b")
    assert (other.status_code, problem(other)) == (404, "not-found")
    nobody = api.client.get(f"/invoices/{invoice_id}", headers=PDF)
    assert nobody.status_code == 401


def test_a_draft_has_no_printable_form(api_on: Api) -> None:
    api = api_on
    invoice_id = committed_invoice(api)
    draft = fetch(api, f"/invoices/{invoice_id}")
    assert (draft.status_code, problem(draft)) == (409, "invalid-state")
    hidden = fetch(api, f"/invoices/{invoice_id}", who="client_viewer")
    assert (hidden.status_code, problem(hidden)) == (404, "not-found")
