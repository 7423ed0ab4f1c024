"""Consultant transfers over HTTP, on each store (memory, SQLite, PostgreSQL): finance sets a
resource's employment history and the transfer pricing, the PSA sends approved time, and the
month's recharges come back per pair of entities with both sides' journal entries, amounts
with exactly the currency's minor digits. Bad input is a 4xx at the field and changes nothing.

The contract C1 belongs to `tl-uk` (the T&M contract of `books_setup`)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.http.answers import ok
from tests.e2e.http.books_setup import MARCH, bearer, entry, post_as, set_up_tm_contract
from tests.e2e.http.harness import Api

TRANSFER = {
    "employments": [
        {"legal_entity_id": "tl-de", "start": "2026-01-01", "end": "2026-03-15"},
        {"legal_entity_id": "tl-fr", "start": "2026-03-16"},
    ]
}
PRICING = {
    "policies": [{"provider": "tl-de", "recipient": "tl-uk", "markup_percent": "10"}],
    "default_markup_percent": "5",
}


def transferred_and_worked(api: Api, *, uncosted: bool = True) -> None:
    set_up_tm_contract(api.app)
    assert api.post("/resources/r1/legal-entities", TRANSFER).status_code == 200
    assert api.post("/transfer-pricing", PRICING).status_code == 200
    time = {
        "entries": [
            entry("t1", "2026-03-02", "7.5", cost_rate="80.00"),
            entry("t2", "2026-03-20", "4", cost_rate="80.00"),
            entry("t3", "2026-03-23", "2", **({} if uncosted else {"cost_rate": "80.00"})),
        ]
    }
    # the PSA's machine client also holds finance's roles: only they may send cost rates
    sent = post_as(api, "/time-entries", time, bearer("integration", "finance"), "ic-time")
    assert sent.status_code == 200, sent.text
    assert sent.json()["counts"]["accepted"] == 3


def test_a_transfer_mid_month_gives_two_recharges_with_balanced_entries(api_on: Api) -> None:
    transferred_and_worked(api_on)
    body = ok(api_on.get("/intercompany-recharges", who="finance", period=MARCH))
    assert (body["period"], body["posted_on"]) == ("2026-03", "2026-03-31")
    # tl-de: 7.5 h x 80.00 = 600.00, +10 % = 660.00; tl-fr (default 5 %): 4 h x 80.00 = 320.00,
    # +5 % = 336.00
    first, second = body["recharges"]
    assert {k: first[k] for k in ("provider", "recipient", "currency", "markup_percent")} == {
        "provider": "tl-de",
        "recipient": "tl-uk",
        "currency": "EUR",
        "markup_percent": "10",
    }
    assert (first["hours"], first["amount"], first["cost"]) == (
        "7.5",
        {"amount": "660.00", "currency": "EUR"},
        {"amount": "600.00", "currency": "EUR"},
    )
    assert [
        (e["entry_id"], e["hours"], e["cost_rate"]["amount"], e["cost"]["amount"])
        for e in first["entries"]
    ] == [("t1", "7.5", "80.00", "600.00")]
    provider, recipient = first["journal"]
    assert (provider["legal_entity_id"], provider["side"]) == ("tl-de", "provider")
    assert (recipient["legal_entity_id"], recipient["side"]) == ("tl-uk", "recipient")
    assert lines(provider) == [
        ("intercompany_receivable", "660.00", "0.00"),
        ("intercompany_revenue", "0.00", "660.00"),
    ]
    assert lines(recipient) == [
        ("cost_of_services", "660.00", "0.00"),
        ("intercompany_payable", "0.00", "660.00"),
    ]
    assert (second["provider"], second["markup_percent"], second["amount"]["amount"]) == (
        "tl-fr",
        "5",
        "336.00",
    )
    assert [(e["entry_id"], e["reason"]) for e in body["exceptions"]] == [("t3", "no_cost_rate")]


def lines(posting: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(x["account"], x["debit"]["amount"], x["credit"]["amount"]) for x in posting["lines"]]


def test_the_history_and_pricing_read_back_as_set(api_on: Api) -> None:
    transferred_and_worked(api_on)
    histories = api_on.get("/employment-histories", who="auditor").json()
    assert histories == {
        "items": [
            {
                "resource_id": "r1",
                "employments": [
                    {"legal_entity_id": "tl-de", "start": "2026-01-01", "end": "2026-03-15"},
                    {"legal_entity_id": "tl-fr", "start": "2026-03-16", "end": None},
                ],
            }
        ],
        "next_cursor": None,
    }
    assert api_on.get("/transfer-pricing", who="finance_approver").json() == {
        "policies": [{"provider": "tl-de", "recipient": "tl-uk", "markup_percent": "10"}],
        "default_markup_percent": "5",
    }


def test_setting_a_history_is_idempotent_under_its_key(api: Api) -> None:
    first = api.post("/resources/r1/legal-entities", TRANSFER, key="ic-1")
    again = api.post("/resources/r1/legal-entities", TRANSFER, key="ic-1")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    other = api.post(
        "/resources/r1/legal-entities", {"employments": TRANSFER["employments"][:1]}, key="ic-1"
    )
    assert other.status_code == 422


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (
            {"employments": [{"legal_entity_id": "tl-de", "start": "2026-13-01"}]},
            "/employments/0/start",
        ),
        (
            {
                "employments": [
                    {"legal_entity_id": "tl-de", "start": "2026-01-01", "cost_rate": "1"}
                ]
            },
            "/employments/0/cost_rate",
        ),
        ({"employments": []}, "/employments"),
    ],
)
def test_a_malformed_history_is_400_at_the_field_and_changes_nothing(
    api: Api, body: dict[str, Any], pointer: str
) -> None:
    refused = api.post("/resources/r1/legal-entities", body)
    assert refused.status_code == 400, refused.text
    assert pointer in [e["pointer"] for e in refused.json()["errors"]]
    assert api.get("/employment-histories").json()["items"] == []


def test_an_overlapping_history_is_422_and_changes_nothing(api: Api) -> None:
    overlapping = {
        "employments": [
            {"legal_entity_id": "tl-de", "start": "2026-01-01"},
            {"legal_entity_id": "tl-fr", "start": "2026-03-16"},
        ]
    }
    refused = api.post("/resources/r1/legal-entities", overlapping)
    assert refused.status_code == 422, refused.text
    assert "open-ended" in refused.json()["detail"]
    assert api.get("/employment-histories").json()["items"] == []


def test_a_markup_sent_as_a_number_or_out_of_range_is_refused(api: Api) -> None:
    as_number = {"policies": [{"provider": "tl-de", "recipient": "tl-uk", "markup_percent": 10}]}
    refused = api.post("/transfer-pricing", as_number)
    assert refused.status_code == 400
    assert "/policies/0/markup_percent" in [e["pointer"] for e in refused.json()["errors"]]
    too_much = {"policies": [{"provider": "tl-de", "recipient": "tl-uk", "markup_percent": "1001"}]}
    assert api.post("/transfer-pricing", too_much).status_code == 422
    assert api.get("/transfer-pricing").json() == {"policies": [], "default_markup_percent": None}


def test_only_finance_sets_and_delivery_cannot_read_recharges(api: Api) -> None:
    assert api.post("/transfer-pricing", PRICING, who="finance_approver").status_code == 403
    assert api.post("/resources/r1/legal-entities", TRANSFER, who="integration").status_code == 403
    assert (
        api.get("/intercompany-recharges", who="delivery_manager", period=MARCH).status_code == 403
    )


def test_the_recharges_of_a_closed_month_are_shown_as_not_postable(api: Api) -> None:
    set_up_tm_contract(api.app)
    open_month = api.get("/intercompany-recharges", who="finance", period="2026-02")
    assert open_month.status_code == 200
    assert open_month.json()["postable"] is True
    assert api.post("/periods/2026-02/close").status_code == 200
    closed = api.get("/intercompany-recharges", who="auditor", period="2026-02")
    assert closed.status_code == 200
    assert closed.json()["postable"] is False
    assert closed.json()["recharges"] == open_month.json()["recharges"]


# -- posting a month's recharges ----------------------------------------------------------------


def journal_of(api: Api) -> dict[str, list[tuple[str, str, str]]]:
    with api.app.bus.deps.uow(api.app.as_("reader")) as uow:
        return {
            e.entry_id: [
                (line.account.value, f"{line.debit.amount:.2f}", f"{line.credit.amount:.2f}")
                for line in e.lines
            ]
            for e in uow.journal.all()
            if e.entry_id.startswith("intercompany:")
        }


def test_a_month_with_exceptions_is_not_posted_at_all(api_on: Api) -> None:
    transferred_and_worked(api_on)  # t3 has no cost rate
    refused = api_on.post("/intercompany-recharge-runs", {"period": MARCH}, who="finance")
    assert refused.status_code == 422, refused.text
    assert "1 time entries of 2026-03 cannot be recharged" in refused.json()["detail"]
    assert journal_of(api_on) == {}


def test_a_clean_month_posts_both_sides_of_each_recharge_once(api_on: Api) -> None:
    transferred_and_worked(api_on, uncosted=False)

    run = api_on.post("/intercompany-recharge-runs", {"period": MARCH}, who="finance")

    assert run.status_code == 200, run.text
    body = run.json()
    key_de, key_fr = "intercompany:2026-03:tl-de:tl-uk:EUR", "intercompany:2026-03:tl-fr:tl-uk:EUR"
    assert sorted(body["posted"]) == sorted(
        f"{key}:{side}" for key in (key_de, key_fr) for side in ("provider", "recipient")
    )
    assert (body["period"], body["posted_on"], body["already_posted"]) == (
        "2026-03",
        "2026-03-31",
        [],
    )
    journal = journal_of(api_on)
    # tl-fr: (4 h + 2 h) x 80.00 = 480.00, +5 % = 504.00
    assert journal[f"{key_fr}:provider"] == [
        ("intercompany_receivable", "504.00", "0.00"),
        ("intercompany_revenue", "0.00", "504.00"),
    ]
    assert journal[f"{key_de}:recipient"] == [
        ("cost_of_services", "660.00", "0.00"),
        ("intercompany_payable", "0.00", "660.00"),
    ]
    again = api_on.post("/intercompany-recharge-runs", {"period": MARCH}, who="finance")
    assert again.status_code == 200, again.text
    assert again.json()["posted"] == []
    assert sorted(again.json()["already_posted"]) == sorted(body["posted"])
    assert len(journal_of(api_on)) == 4


def test_a_recharge_that_changed_after_posting_is_a_conflict_and_the_journal_keeps_it(
    api: Api,
) -> None:
    transferred_and_worked(api, uncosted=False)
    assert api.post("/intercompany-recharge-runs", {"period": MARCH}).status_code == 200
    before = journal_of(api)
    late = {"entries": [entry("t4", "2026-03-24", "1", cost_rate="80.00")]}
    assert post_as(api, "/time-entries", late, bearer("integration", "finance"), "l").is_success

    changed = api.post("/intercompany-recharge-runs", {"period": MARCH})

    assert changed.status_code == 409, changed.text
    assert "was posted for another amount" in changed.json()["detail"]
    assert journal_of(api) == before


def test_a_closed_month_or_a_bad_period_posts_nothing(api: Api) -> None:
    set_up_tm_contract(api.app)
    assert api.post("/periods/2026-02/close").status_code == 200
    closed = api.post("/intercompany-recharge-runs", {"period": "2026-02"})
    assert closed.status_code == 422
    assert closed.json()["type"].endswith("/period-closed")
    bad = api.post("/intercompany-recharge-runs", {"period": "2026-13"})
    assert bad.status_code == 400
    assert (
        api.post(
            "/intercompany-recharge-runs", {"period": MARCH}, who="delivery_manager"
        ).status_code
        == 403
    )
    assert journal_of(api) == {}
