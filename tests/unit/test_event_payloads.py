"""What the outbox tells an ERP when an invoice or credit memo is issued or a payment arrives:
the parties, the totals and lines with their provenance, at exactly the currency's minor digits,
checked against the schemas published in docs/events/ (ADR 0036)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from adapters.outbound.event_payloads import amount_text, outbox_payload
from domain.accounting_period import PeriodLock
from domain.billing import Allocation, LineKind, SourceKind, SourceRef
from domain.credit_memo import CreditMemo, CreditRequest
from domain.document import DocumentLine, DocumentTotals
from domain.ids import (
    CreditMemoId,
    CustomerId,
    ObligationId,
    PaymentId,
)
from domain.invoice import DocumentKind, Invoice
from domain.money import Currency, Money
from domain.period import Period
from tests.support.invoices import Parties, drafted_invoice

EVENTS = Path(__file__).resolve().parents[2] / "docs" / "events"
AT = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
ISSUED_ON = date(2026, 4, 2)
OPEN = PeriodLock()
ACME, GLOBEX = CustomerId("acme"), CustomerId("globex")


def invoice_in(
    code: str, hours: str, rate: str, payer: CustomerId | None = None, vat: str = "0.10"
) -> Invoice:
    """An issued invoice of one time line (one time entry) in `code`, taxed at `vat`."""
    currency = Currency.of(code)
    exact = Money.of(rate, code).times(Decimal(hours))
    source = Allocation(SourceRef(SourceKind.TIME_ENTRY, "t1"), Decimal(hours), exact, payer=payer)
    line = DocumentLine(
        1,
        ObligationId("TM"),
        LineKind.TIME,
        "Advisory, March",
        Decimal(hours),
        Money.of(rate, code),
        exact.quantized(),
        "VAT",
        (source,),
        service_period=Period.month(2026, 3),
    )
    totals = DocumentTotals.of([line], currency, {"VAT": Decimal(vat)})
    invoice = drafted_invoice(
        f"INV-{code}", (line,), totals, "maker", AT, parties=Parties(contract="C1"), payer=payer
    )
    invoice.approve("checker", AT)
    invoice.issue(f"INV-2026-{code}", ISSUED_ON, AT, OPEN)
    return invoice


def last_payload(aggregate: Any, *seen: object) -> dict[str, Any]:
    """The outbox payload of the aggregate's last event."""
    return outbox_payload(aggregate, aggregate.events[-1], (aggregate, *seen))


def schema_errors(event_type: str, payload: dict[str, Any]) -> list[str]:
    schema = json.loads((EVENTS / f"{event_type}.schema.json").read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(payload)]


def test_an_issued_invoice_names_its_customer_legal_entity_contract_and_currency() -> None:
    payload = last_payload(invoice_in("EUR", "7.5", "100.00"))

    assert (payload["customer_id"], payload["payer_id"], payload["split_billing"]) == (
        "acme",
        "acme",
        False,
    )
    assert (payload["legal_entity_id"], payload["contract_id"], payload["currency"]) == (
        "tl-uk",
        "C1",
        "EUR",
    )
    # Issued without the payer's terms: due the default 30 days later (2 April + 30 days).
    assert (payload["number"], payload["issue_date"], payload["due_date"]) == (
        "INV-2026-EUR",
        "2026-04-02",
        "2026-05-02",
    )
    assert schema_errors("invoice.issued", payload) == []


def test_a_split_payer_invoice_names_its_payer_beside_the_customer() -> None:
    payload = last_payload(invoice_in("EUR", "3", "100.00", payer=GLOBEX))

    assert (payload["customer_id"], payload["payer_id"], payload["split_billing"]) == (
        "acme",
        "globex",
        True,
    )
    assert payload["lines"][0]["sources"] == [
        {"kind": "time_entry", "source_id": "t1", "quantity": "3", "payer_id": "globex"}
    ]
    assert schema_errors("invoice.issued", payload) == []


def test_each_line_carries_its_obligation_kind_quantity_price_tax_code_and_sources() -> None:
    (line,) = last_payload(invoice_in("EUR", "7.5", "100.00"))["lines"]

    assert line == {
        "line_no": 1,
        "obligation_id": "TM",
        "kind": "time",
        "description": "Advisory, March",
        "quantity": "7.5",
        "unit_price": "100.00",
        "amount": "750.00",
        "tax_code": "VAT",
        "service_period": {"start": "2026-03-01", "end": "2026-03-31"},
        "credits_line": None,
        "sources": [{"kind": "time_entry", "source_id": "t1", "quantity": "7.5", "payer_id": None}],
    }


@pytest.mark.parametrize(
    ("code", "hours", "rate", "net", "tax", "gross"),
    [
        # 7.5 h x 100.00 = 750.00; 10 % = 75.00
        ("EUR", "7.5", "100.00", "750.00", "75.00", "825.00"),
        # 7.5 h x 12000 = 90000 yen, no minor unit; 10 % = 9000
        ("JPY", "7.5", "12000", "90000", "9000", "99000"),
        # 7.5 h x 12.345 = 92.5875 → 92.588 (half up, three digits); 10 % = 9.2588 → 9.259
        ("BHD", "7.5", "12.345", "92.588", "9.259", "101.847"),
        # 4 h x 25 = 100 dinars, written with its three digits
        ("BHD", "4", "25", "100.000", "10.000", "110.000"),
    ],
)
def test_totals_are_written_with_exactly_the_currency_minor_digits(
    code: str, hours: str, rate: str, net: str, tax: str, gross: str
) -> None:
    payload = last_payload(invoice_in(code, hours, rate))

    totals = payload["totals"]
    assert (totals["net"], totals["tax"], totals["gross"]) == (net, tax, gross)
    assert totals["tax_breakdown"] == [
        {"tax_code": "VAT", "rate": "0.10", "base": net, "amount": tax, "note": ""}
    ]
    assert payload["lines"][0]["amount"] == net
    assert schema_errors("invoice.issued", payload) == []


def test_the_invoice_links_its_url_once_per_media_type_it_serves() -> None:
    payload = last_payload(invoice_in("EUR", "1", "100.00"))

    assert [(link["href"], link["type"]) for link in payload["links"]] == [
        ("/invoices/INV-EUR", "application/json"),
        ("/invoices/INV-EUR", "application/xml"),
        ("/invoices/INV-EUR", "application/pdf"),
    ]


def test_the_fields_consumers_already_read_keep_their_names_and_shapes() -> None:
    payload = last_payload(invoice_in("EUR", "7.5", "100.00"))

    assert {k: payload[k] for k in ("invoice_id", "number", "issue_date", "gross", "at")} == {
        "invoice_id": "INV-EUR",
        "number": "INV-2026-EUR",
        "issue_date": "2026-04-02",
        "gross": {"amount": "825.00", "currency": "EUR"},
        "at": "2026-04-02T09:00:00+00:00",
    }


def test_a_credit_memo_names_the_invoice_it_credits_and_its_parties() -> None:
    invoice = invoice_in("BHD", "7.5", "12.345", payer=GLOBEX)
    memo = CreditMemo.against(
        CreditMemoId("CM-1"), invoice, [CreditRequest(1, quantity=Decimal("2"))], "hours", "maker"
    )
    memo.approve("checker", AT)
    memo.issue(invoice, "CN-2026-1", ISSUED_ON, AT, OPEN)

    payload = last_payload(memo, invoice)

    assert payload["credited_invoice"] == {
        "invoice_id": "INV-BHD",
        "number": "INV-2026-BHD",
        "issue_date": "2026-04-02",
        "href": "/invoices/INV-BHD",
    }
    assert (payload["customer_id"], payload["payer_id"], payload["currency"]) == (
        "acme",
        "globex",
        "BHD",
    )
    # 2 h x 12.345 = 24.690; 10 % = 2.469
    assert (payload["totals"]["net"], payload["totals"]["tax"], payload["totals"]["gross"]) == (
        "24.690",
        "2.469",
        "27.159",
    )
    assert payload["lines"][0]["credits_line"] == 1
    assert schema_errors("credit_memo.issued", payload) == []


def test_a_payment_names_the_invoice_parties_and_what_is_still_owed() -> None:
    invoice = invoice_in("BHD", "4", "25")  # 110.000 gross
    invoice.record_payment(PaymentId("PAY-1"), Money.of("50", "BHD"), ISSUED_ON, AT, OPEN)

    payload = last_payload(invoice)

    assert payload["amount"] == {"amount": "50", "currency": "BHD"}  # as the event has it
    assert (payload["paid_amount"], payload["invoice_gross"], payload["outstanding"]) == (
        "50.000",
        "110.000",
        "60.000",
    )
    assert (payload["invoice_number"], payload["invoice_state"], payload["payer_id"]) == (
        "INV-2026-BHD",
        "partially_paid",
        "acme",
    )
    assert schema_errors("invoice.payment_recorded", payload) == []


@pytest.mark.parametrize(
    ("amount", "code", "text"),
    [("1200", "EUR", "1200.00"), ("-0.5", "EUR", "-0.50"), ("1200", "JPY", "1200"),
     ("1.2", "BHD", "1.200"), ("0", "BHD", "0.000")],
)  # fmt: skip
def test_a_document_amount_is_written_at_the_currency_minor_unit(
    amount: str, code: str, text: str
) -> None:
    assert amount_text(Money.of(amount, code)) == text


def test_the_published_schemas_know_every_line_source_and_document_kind_the_domain_has() -> None:
    def enum_at(event_type: str, *path: str) -> set[str]:
        node: Any = json.loads((EVENTS / f"{event_type}.schema.json").read_text(encoding="utf-8"))
        for key in path:
            node = node[key]
        return set(node["enum"])

    for event_type in ("invoice.issued", "credit_memo.issued"):
        line = ("$defs", "line", "properties")
        assert enum_at(event_type, *line, "kind") == {k.value for k in LineKind.members()}
        source = (*line, "sources", "items", "properties", "kind")
        assert enum_at(event_type, *source) == {k.value for k in SourceKind.members()}
    assert enum_at("invoice.issued", "properties", "document_kind") == {
        k.value for k in DocumentKind
    }
