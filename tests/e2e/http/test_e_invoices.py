"""The seller's master data and the e-invoice over HTTP, on every store: finance sets a legal
entity (versioned; a bad VAT id, country or IBAN refused at its field), the ERP pushes the
buyer's record, and an issued invoice or credit memo is then served as its UBL 2.1 e-invoice
on `Accept: application/xml`, with the due date its payer's terms give. JSON stays the default,
a draft has no rendition (409), a media type not served is 406, and a client viewer reads only
its own documents."""

from __future__ import annotations

from datetime import date
from typing import Any
from xml.etree import ElementTree as ET

from application import commands as c
from domain.billing import SourceKind, SourceRef
from domain.ids import CreditMemoId
from tests.e2e.http.books_setup import problem
from tests.e2e.http.harness import Api
from tests.e2e.http.routing import body_example, operation
from tests.support.ubl_validation import schematron, xsd_errors
from tests.unit.application.conftest import ENTITY
from tests.unit.application.test_billing_and_closure import billed_month

CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"
XML = {"Accept": "application/xml"}

SELLER = {
    "legal_name": "Throughline Consulting UK Ltd",
    "address": {
        "lines": ["1 Finsbury Avenue"],
        "city": "London",
        "postal_code": "EC2M 2PF",
        "country": "GB",
    },
    "vat_id": "GB123456782",
    "registration_id": "09876543",
    "electronic_address": "billing@throughline.example",
    "payment_account": {"iban": "GB33BUKB20201555555555", "bic": "BUKBGB22"},
}
#: The UK customer the API documents (the first example of its push).
DOCUMENTED_CUSTOMER = body_example(operation("PUT /customers/{customer_id}"))
assert DOCUMENTED_CUSTOMER is not None
#: The buyer is that customer, billed in euros on 14 days' terms as acme: the published
#: example is shown to make a valid e-invoice.
BUYER = {
    **DOCUMENTED_CUSTOMER,
    "legal_entity_id": ENTITY,
    "legal_name": "Acme Ltd",
    "currency": "EUR",
    "payment_terms_days": 14,
}


def set_up_parties(api: Api) -> None:
    assert api.post(f"/legal-entities/{ENTITY}", SELLER, method="PUT").status_code == 200
    pushed = api.post("/customers/acme", BUYER, who="integration", method="PUT")
    assert pushed.status_code == 200, pushed.text


def issued_invoice(api: Api) -> str:
    """12 h at 100.00 with 20 % VAT for acme, issued on 31 March 2026."""
    set_up_parties(api)
    invoice_id = billed_month(api.app)
    api.app.do(c.ApproveInvoice(invoice_id), actor="finance-lead")
    api.app.do(c.IssueInvoice(invoice_id, date(2026, 3, 31)), actor="finance-lead")
    return str(invoice_id)


def xml_of(response: Any) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    assert xsd_errors(response.content) == []
    report = schematron(response.content)
    assert report.fatal == (), report.describe()
    return ET.fromstring(response.content)


def test_finance_keeps_versions_of_a_legal_entity_and_everyone_in_finance_reads_them(
    api_on: Api,
) -> None:
    api = api_on
    first = api.post(f"/legal-entities/{ENTITY}", SELLER, method="PUT")
    assert first.json()["version"] == 1
    again = api.post(f"/legal-entities/{ENTITY}", SELLER, method="PUT")
    assert again.json()["version"] == 1  # the same record again is no new version
    moved = {**SELLER, "address": {**SELLER["address"], "lines": ["2 Finsbury Avenue"]}}
    assert api.post(f"/legal-entities/{ENTITY}", moved, method="PUT").json()["version"] == 2
    body = api.get(f"/legal-entities/{ENTITY}", who="finance_approver").json()
    assert [v["version"] for v in body["versions"]] == [1, 2]
    assert body["current"]["address"]["lines"] == ["2 Finsbury Avenue"]
    listed = api.get("/legal-entities", who="auditor").json()["legal_entities"]
    assert [(e["legal_entity_id"], e["version"]) for e in listed] == [(ENTITY, 2)]
    assert api.get("/legal-entities/nowhere", who="finance").status_code == 404


def test_a_bad_vat_id_country_or_iban_is_refused_at_its_field_and_nothing_is_kept(
    api_on: Api,
) -> None:
    api = api_on
    cases = [
        ({**SELLER, "vat_id": "123"}, "/vat_id"),
        ({**SELLER, "address": {**SELLER["address"], "country": "XX"}}, "/address/country"),
        (
            {**SELLER, "payment_account": {"iban": "GB34BUKB20201555555555"}},
            "/payment_account/iban",
        ),
        ({**SELLER, "trading_name": "TL"}, ""),
    ]
    for body, pointer in cases:
        answer = api.post(f"/legal-entities/{ENTITY}", body, method="PUT")
        assert answer.status_code == 400, body
        assert problem(answer).endswith("validation-error")
        if pointer:
            assert pointer in [e["pointer"] for e in answer.json()["errors"]]
    assert api.get(f"/legal-entities/{ENTITY}", who="finance").status_code == 404


def test_only_finance_sets_a_legal_entity(api_on: Api) -> None:
    api = api_on
    for who in ("finance_approver", "integration", "auditor", "client_viewer"):
        answer = api.post(f"/legal-entities/{ENTITY}", SELLER, who=who, method="PUT")
        assert answer.status_code == 403, who
    assert api.get("/legal-entities", who="client_viewer").status_code == 403


def test_an_issued_invoice_is_served_as_its_e_invoice_due_on_its_payers_terms(
    api_on: Api,
) -> None:
    api = api_on
    invoice_id = issued_invoice(api)
    body = api.get(f"/invoices/{invoice_id}", who="finance").json()
    # 31 March + the 14 days of acme's terms
    assert (body["due_date"], body["payment_terms_days"]) == ("2026-04-14", 14)
    root = xml_of(api.client.get(f"/invoices/{invoice_id}", headers=api.headers("finance", **XML)))
    assert root.tag == "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"
    assert root.findtext(f"{CBC}ID") == body["number"]
    assert root.findtext(f"{CBC}DueDate") == "2026-04-14"
    # 12 h x 100.00 = 1,200.00 net, 240.00 VAT, 1,440.00 to pay
    assert root.findtext(f"{CAC}LegalMonetaryTotal/{CBC}PayableAmount") == "1440.00"
    seller = f"{CAC}AccountingSupplierParty/{CAC}Party/{CAC}PartyLegalEntity/{CBC}RegistrationName"
    assert root.findtext(seller) == "Throughline Consulting UK Ltd"
    buyer = f"{CAC}AccountingCustomerParty/{CAC}Party/{CAC}PartyTaxScheme/{CBC}CompanyID"
    assert root.findtext(buyer) == "GB123456789"
    hours = root.find(f"{CAC}InvoiceLine/{CBC}InvoicedQuantity")
    assert hours is not None
    assert (hours.text, hours.get("unitCode")) == ("12", "HUR")


def test_an_issued_credit_memo_is_served_as_a_credit_note_citing_its_invoice(
    api_on: Api,
) -> None:
    api = api_on
    invoice_id = issued_invoice(api)
    t2 = SourceRef(SourceKind.TIME_ENTRY, "t2")
    memo = CreditMemoId("CM-1")
    api.app.do(
        c.DraftCreditMemo(memo, invoice_id, (c.CreditRequestInput(1, t2),), "4 h not delivered"),
        actor="ar-clerk",
    )
    api.app.do(c.ApproveCreditMemo(memo), actor="finance-lead")
    api.app.do(c.IssueCreditMemo(memo, date(2026, 4, 3)), actor="finance-lead")
    number = api.get(f"/invoices/{invoice_id}", who="finance").json()["number"]
    answer = api.client.get(
        "/credit-memos/CM-1", headers=api.headers("finance", Accept="application/vnd.oasis.ubl+xml")
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/vnd.oasis.ubl+xml")
    root = ET.fromstring(answer.content)
    assert xsd_errors(answer.content) == []
    assert schematron(answer.content).fatal == ()
    assert root.tag.endswith("}CreditNote")
    reference = f"{CAC}BillingReference/{CAC}InvoiceDocumentReference/{CBC}ID"
    assert root.findtext(reference) == number
    # 4 h x 100.00 = 400.00 credited, 80.00 VAT
    assert root.findtext(f"{CAC}LegalMonetaryTotal/{CBC}PayableAmount") == "480.00"


def test_json_stays_the_default_and_a_type_not_served_is_406(api: Api) -> None:
    invoice_id = issued_invoice(api)
    plain = api.client.get(f"/invoices/{invoice_id}", headers=api.headers("finance"))
    assert plain.headers["content-type"].startswith("application/json")
    weighed = api.client.get(
        f"/invoices/{invoice_id}",
        headers=api.headers("finance", Accept="application/json;q=0.5, application/xml"),
    )
    assert weighed.headers["content-type"].startswith("application/xml")
    refused = api.client.get(
        f"/invoices/{invoice_id}", headers=api.headers("finance", Accept="text/csv")
    )
    assert refused.status_code == 406
    assert problem(refused).endswith("not-acceptable")
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_a_draft_has_no_e_invoice(api: Api) -> None:
    set_up_parties(api)
    invoice_id = billed_month(api.app)
    answer = api.client.get(f"/invoices/{invoice_id}", headers=api.headers("finance", **XML))
    assert answer.status_code == 409
    assert problem(answer).endswith("invalid-state")


def test_an_e_invoice_needs_the_sellers_address(api: Api) -> None:
    invoice_id = billed_month(api.app)  # no legal entity master data was ever set
    api.app.do(c.ApproveInvoice(invoice_id), actor="finance-lead")
    api.app.do(c.IssueInvoice(invoice_id, date(2026, 3, 31)), actor="finance-lead")
    answer = api.client.get(f"/invoices/{invoice_id}", headers=api.headers("finance", **XML))
    assert answer.status_code == 422
    assert problem(answer).endswith("master-data-missing")


def test_a_client_viewer_reads_its_own_e_invoice_and_no_one_elses(api: Api) -> None:
    invoice_id = issued_invoice(api)
    own = api.client.get(f"/invoices/{invoice_id}", headers=api.headers("client_viewer", **XML))
    assert xml_of(own).findtext(f"{CBC}ID") is not None
    other = api.client.get(f"/invoices/{invoice_id}", headers=api.headers("client_viewer_b", **XML))
    assert other.status_code == 404
