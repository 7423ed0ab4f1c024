"""Amounts over HTTP carry exactly their currency's minor digits, both ways.

Issue 9: a payment of 0.001 EUR got a 422 naming an internal journal entry line, and responses
wrote `"135"` in one place and `"135.00"` in another. Now:

- an amount a request sends (a payment, an expense) with more decimals than its currency has
  (EUR 2, JPY 0, BHD 3: `domain.money.ISO_4217_MINOR_UNITS`) is a 400 `validation-error` whose
  `errors` point at the field, and changes nothing;
- every amount in every response is a string with exactly its currency's minor digits
  (`"135.00"`, `"1500"` yen, `"0.000"` dinars); rates (`unit_price`, rate-card rates) and the
  exact values of allocations have at least those digits, and more only where the value does.

The response check walks every JSON answer of the four reference scenarios (played again here
through a client that keeps what it is answered), then every list the API has, and a yen and a
dinar contract billed, paid and credited.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest

from domain.money import ISO_4217_MINOR_UNITS, Money
from entrypoints.demo.firm import CONSULTANT
from entrypoints.demo.steps import Work
from entrypoints.http.problems import Problem
from entrypoints.http.routes.common import check_minor_digits, exact_out, money_out
from tests.e2e.http import test_reference_scenarios as scenarios
from tests.e2e.http.books_setup import credit_of_line_one, expense, payment
from tests.e2e.http.harness import Api, running_api
from tests.e2e.http.routing import GUARDED, may, required_query
from tests.e2e.http.stage import UNLIMITED
from tests.e2e.http.test_reference_scenarios import (
    US,
    US_NO_TAX,
    Firm,
    erp_record,
    work,
)
from tests.unit.application.test_billing_and_closure import billed_month

# Known answers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "code", "written"),
    [
        ("135", "EUR", "135.00"),
        ("135.5", "EUR", "135.50"),
        ("-0.00", "EUR", "0.00"),
        ("0", "BHD", "0.000"),
        ("1.5", "BHD", "1.500"),
        ("1500", "JPY", "1500"),
        ("1.5E+3", "JPY", "1500"),
        ("0.0001", "CLF", "0.0001"),
        ("-2592.00", "EUR", "-2592.00"),
    ],
)
def test_an_amount_is_written_with_exactly_its_currencys_minor_digits(
    amount: str, code: str, written: str
) -> None:
    assert money_out(Money.of(amount, code)).amount == written


@pytest.mark.parametrize(
    ("rate", "code", "written"),
    [
        ("135", "EUR", "135.00"),
        ("135.000", "EUR", "135.00"),
        ("150.125", "EUR", "150.125"),
        ("165.5000", "EUR", "165.50"),
        ("15000", "JPY", "15000"),
        ("1.5E+4", "JPY", "15000"),
        ("12.5", "JPY", "12.5"),
        ("37.5", "BHD", "37.500"),
        ("0", "EUR", "0.00"),
    ],
)
def test_a_rate_has_at_least_its_currencys_minor_digits_and_more_only_when_it_has_them(
    rate: str, code: str, written: str
) -> None:
    assert exact_out(Money.of(rate, code)).amount == written


@pytest.mark.parametrize(
    ("amount", "code", "refused"),
    [
        ("0.001", "EUR", True),
        ("0.01", "EUR", False),
        ("0.100", "EUR", True),
        ("1.5", "JPY", True),
        ("15000", "JPY", False),
        ("0.0005", "BHD", True),
        ("1.005", "BHD", False),
        ("0.0001", "CLF", False),
    ],
)
def test_an_amount_sent_with_more_decimals_than_its_currency_is_refused_at_its_field(
    amount: str, code: str, refused: bool
) -> None:
    money = Money.of(amount, code)
    if not refused:
        check_minor_digits(money.amount, money.currency, "/amount")
        return
    with pytest.raises(Problem) as problem:
        check_minor_digits(money.amount, money.currency, "/amount")
    assert (problem.value.type.status, [e.pointer for e in problem.value.errors]) == (
        400,
        ["/amount"],
    )
    assert f"{code} has" in problem.value.detail or code in problem.value.detail


# Requests: a payment or an expense with too many decimals ------------------------------------


def problem_of(response: Any) -> tuple[int, str, list[str]]:
    body = response.json()
    return (
        response.status_code,
        body["type"].rsplit("/", 1)[-1],
        [e["pointer"] for e in body.get("errors", [])],
    )


def test_a_payment_of_a_tenth_of_a_cent_is_a_400_at_amount_and_changes_nothing(
    api_on: Api,
) -> None:
    api = api_on
    invoice_id = billed_month(api.app)  # 12 h at 100.00, VAT 20 %: 1,440.00
    assert api.post(f"/invoices/{invoice_id}/approve", who="finance_approver").is_success
    assert api.post(f"/invoices/{invoice_id}/issue", {"issue_date": "2026-03-31"}).is_success
    before = api.get(f"/invoices/{invoice_id}", who="finance").json()
    body = payment("PAY-TENTH", "0.001", "2026-03-31")
    refused = api.post(f"/invoices/{invoice_id}/payments", body, key="pay-tenth")
    assert problem_of(refused) == (400, "validation-error", ["/amount"])
    assert "more decimals than EUR has (2)" in refused.json()["errors"][0]["detail"]
    assert "journal" not in refused.text.lower()
    assert api.get(f"/invoices/{invoice_id}", who="finance").json() == before
    # refused before anything changed: the corrected payment goes through under the same key
    fixed = api.post(
        f"/invoices/{invoice_id}/payments", {**body, "amount": "0.01"}, key="pay-tenth"
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["paid"] == {"amount": "0.01", "currency": "EUR"}
    assert fixed.json()["outstanding"] == {"amount": "1439.99", "currency": "EUR"}
    # fewer decimals than the currency has is fine, and is written with all of them
    whole = api.post(
        f"/invoices/{invoice_id}/payments", {**body, "payment_id": "PAY-100", "amount": "100"}
    )
    assert whole.status_code == 200, whole.text
    assert whole.json()["paid"] == {"amount": "100.01", "currency": "EUR"}


def test_an_expense_with_more_decimals_than_its_currency_is_a_400_at_its_amount(
    api_on: Api,
) -> None:
    api = api_on
    billed_month(api.app)
    precise = expense("X-1", "travel", "212.405")
    batch = {"items": [{**precise, "expense_id": "X-0", "amount": "10.00"}, precise]}
    refused = api.post("/expenses", batch, who="integration")
    assert problem_of(refused) == (400, "validation-error", ["/items/1/amount"])
    # nothing of the refused batch was recorded: March has nothing left to bill
    preview = api.post("/billing-runs/preview", {"period": "2026-03"}, who="finance")
    assert (preview.status_code, preview.json()["invoices"]) == (200, [])


# Responses: every amount of a whole lifecycle ----------------------------------------------


class Recorder:
    """Stands where the test client stands and keeps every JSON answer it is given."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.answers: list[tuple[str, Any]] = []

    def _kept(self, method: str, path: str, response: Any) -> Any:
        if response.headers.get("content-type", "").startswith("application/json"):
            self.answers.append((f"{method} {path}", response.json()))
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        return self._kept("GET", path, self._client.get(path, **kwargs))

    def post(self, path: str, **kwargs: Any) -> Any:
        return self._kept("POST", path, self._client.post(path, **kwargs))

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._kept(method, path, self._client.request(method, path, **kwargs))


@pytest.fixture
def recording() -> Iterator[tuple[Api, Recorder]]:
    with running_api(limits=UNLIMITED) as api:
        recorder = Recorder(api.client)
        yield Api(api.app, api.asgi, recorder), recorder  # type: ignore[arg-type]


#: Money objects whose value is a rate or an exact provenance value, not a document amount.
RATE_PARENTS = frozenset({"role_rates", "resource_overrides"})
RATE_KEYS = frozenset({"unit_price"})


def is_money(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == {"amount", "currency"}
        and isinstance(value["amount"], str)
        and value["currency"] in ISO_4217_MINOR_UNITS
    )


def money_fields(document: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, str, str, bool]]:
    """(JSON pointer, amount, currency, is a rate) of every money object in a document."""
    if is_money(document):
        parent = path[-2] if len(path) > 1 else ""
        rate = (
            path[-1:] == ("unit_price",)
            or parent in RATE_PARENTS
            or (len(path) > 2 and path[-3] == "allocations" and path[-1] == "amount")
        )
        yield "/" + "/".join(path), document["amount"], document["currency"], rate
        return
    if isinstance(document, dict):
        for key, value in document.items():
            yield from money_fields(value, (*path, key))
    elif isinstance(document, list):
        for n, value in enumerate(document):
            yield from money_fields(value, (*path, str(n)))


def amount_pattern(code: str, rate: bool) -> re.Pattern[str]:
    n = ISO_4217_MINOR_UNITS[code]
    if rate:
        return re.compile(rf"^-?\d+\.\d{{{n},}}$" if n else r"^-?\d+(\.\d+)?$")
    return re.compile(rf"^-?\d+\.\d{{{n}}}$" if n else r"^-?\d+$")


def badly_written(answers: list[tuple[str, Any]]) -> tuple[list[str], dict[str, int]]:
    """Every money field not written to its currency's minor digits; the fields seen per
    currency (rates counted apart)."""
    bad, seen = [], {}
    for where, body in answers:
        for pointer, amount, code, rate in money_fields(body):
            kind = f"{code} rate" if rate else code
            seen[kind] = seen.get(kind, 0) + 1
            if not amount_pattern(code, rate).match(amount):
                bad.append(f"{where} {pointer}: {amount!r} {code}")
    return bad, seen


def every_list(api: Api) -> None:
    """GET every collection the API has, as the roles that may read them."""
    for op in GUARDED:
        if not op.is_list or op.is_public:
            continue
        who = next(
            (w for w in ("finance", "auditor", "integration") if may(w, op.permission)), None
        )
        if who is None:
            continue
        api.client.get(op.path({}), headers=api.headers(who), params=required_query(op, {}))


SCENARIOS: dict[str, Callable[[Api], None]] = {
    "global transformation program": scenarios.test_scenario_1_global_transformation_program,
    "multi-country engagement": scenarios.test_scenario_2_multi_country_engagement,
    "blocked setup": scenarios.test_scenario_3_blocked_setup_is_fixed_replayed_and_billed,
    "retainer": scenarios.test_scenario_4_retainer_rollover_overage_and_expiry,
}


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=list(SCENARIOS))
def test_every_amount_of_a_reference_scenario_has_exactly_its_currencys_minor_digits(
    recording: tuple[Api, Recorder], scenario: Callable[[Api], None]
) -> None:
    api, recorder = recording
    scenario(api)
    every_list(api)
    bad, seen = badly_written(recorder.answers)
    assert bad == []
    assert seen.get("EUR", 0) + seen.get("USD", 0) > 100, seen  # the walk found the amounts
    assert seen.get("EUR rate", 0) + seen.get("USD rate", 0) > 0, seen


# A currency without decimals and one with three -------------------------------------------


def rate_card(api: Api, card: str, code: str, rate: str) -> None:
    body = {"rate_card_id": card, "name": f"{code} rates", "currency": code}
    assert api.post("/rate-cards", body, who="finance").status_code == 201
    version = {"effective_from": "2026-01-01", "role_rates": {"consultant": rate}}
    assert api.post(f"/rate-cards/{card}/versions", version, who="finance").status_code == 201
    approved = api.post(f"/rate-cards/{card}/versions/1/approve", who="finance_approver")
    assert approved.status_code == 200, approved.text


def bill_one_day(firm: Firm, customer: str, code: str, rate: str, hours: str) -> scenarios.Issued:
    """A T&M contract in `code` on a rate card at `rate`; one day worked, billed and issued."""
    tag = customer.upper()
    card, engagement, contract, obligation = f"RC-{tag}", f"E-{tag}", f"C-{tag}", f"TM-{tag}"
    rate_card(firm.api, card, code, rate)
    firm.erp(erp_record(customer, US, f"{customer} Inc.", code, US_NO_TAX))
    firm.propose(engagement, customer, contract)
    tm = {"model": "time_and_materials", "obligation_id": obligation, "name": "Advisory",
          "rate_card_id": card}  # fmt: skip
    firm.sign(contract, customer, US, code, "Advisory", date(2026, 3, 2), [tm])
    day = work(engagement, obligation, Work(f"{tag}-T1", CONSULTANT, date(2026, 3, 9), hours))
    scenarios.all_accepted(firm.time(day), [f"{tag}-T1"])
    firm.on(date(2026, 3, 31))
    _run, (invoice,) = firm.bill("2026-03", [contract], date(2026, 3, 31))
    return invoice


def test_yen_and_dinar_amounts_are_written_and_read_with_their_own_minor_digits(
    recording: tuple[Api, Recorder],
) -> None:
    api, recorder = recording
    firm = Firm(api)
    firm.start(date(2026, 3, 2))
    firm.tax_rates()
    yen = bill_one_day(firm, "sakura", "JPY", "15000", "7.5")  # 112,500 yen
    dinar = bill_one_day(firm, "manama", "BHD", "37.125", "7.25")  # 269.15625 -> 269.156 BHD
    assert scenarios.figures(yen.invoice) == ("112500", "0", "112500")
    assert scenarios.figures(dinar.invoice) == ("269.156", "0.000", "269.156")
    (line,) = dinar.invoice["lines"]
    assert line["unit_price"] == {"amount": "37.125", "currency": "BHD"}
    # a payment finer than the currency is refused at its field, whole units are taken
    for invoice, too_fine, whole in ((yen, "1.5", "500"), (dinar, "0.0005", "100.001")):
        body = {
            "payment_id": f"PAY-{invoice.id}",
            "amount": too_fine,
            "currency": invoice.invoice["currency"],
            "received_on": "2026-03-31",
        }
        refused = api.post(f"/invoices/{invoice.id}/payments", body, who="finance")
        assert problem_of(refused) == (400, "validation-error", ["/amount"])
        paid = api.post(f"/invoices/{invoice.id}/payments", {**body, "amount": whole})
        assert paid.status_code == 200, paid.text
    assert api.get(f"/invoices/{yen.id}", who="finance").json()["outstanding"]["amount"] == "112000"
    assert (
        api.get(f"/invoices/{dinar.id}", who="finance").json()["outstanding"]["amount"] == "169.155"
    )
    credit = credit_of_line_one("0.25", "a quarter hour too many")
    memo = api.post(f"/invoices/{dinar.id}/credit-memos", credit, who="finance")
    assert memo.status_code == 201, memo.text
    assert memo.json()["gross"] == {"amount": "9.281", "currency": "BHD"}  # 0.25 h x 37.125
    every_list(api)
    bad, seen = badly_written(recorder.answers)
    assert bad == []
    assert seen.get("JPY", 0) > 10, seen
    assert seen.get("BHD", 0) > 10, seen
