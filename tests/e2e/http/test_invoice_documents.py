"""An invoice read over HTTP carries its tax per category and writes zeros in minor units."""

from __future__ import annotations

from tests.e2e.http.harness import Api
from tests.unit.application.test_billing_and_closure import billed_month


def test_an_invoice_shows_its_tax_lines_and_zero_payments_in_minor_units(api: Api) -> None:
    invoice_id = billed_month(api.app)  # 12 h at 100.00, VAT 20 %

    body = api.get(f"/invoices/{invoice_id}", who="finance").json()

    assert body["net"] == {"amount": "1200.00", "currency": "EUR"}
    assert [
        (t["tax_code"], t["rate"], t["base"]["amount"], t["tax"]["amount"])
        for t in body["tax_lines"]
    ] == [("VAT20", "0.20", "1200.00", "240.00")]
    assert body["gross"]["amount"] == "1440.00"
    assert body["paid"]["amount"] == "0.00"
    assert body["outstanding"]["amount"] == "1440.00"
