"""The one converter: every snapshot round-trips exactly, and bad input is refused by name."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import cattrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters import serialization
from adapters.serialization import (
    CONVERTER,
    SerializationError,
    from_json,
    structure,
    to_json,
    unstructure,
)
from domain import ids
from domain import obligation as obligation_registry
from domain.accounting_period import AccountingPeriod
from domain.billing import (
    BilledLedger,
    LedgerEntry,
    SourceKind,
    SourceRef,
)
from domain.billing_run import BillingProposal, BillingRunInput, run_billing
from domain.contract import Contract
from domain.credit_memo import CreditMemo, CreditRequest
from domain.engagement import Engagement
from domain.fixed_fee import FixedFeeTerms, Installment
from domain.invoice import Invoice
from domain.milestone import Milestone
from domain.milestone_billing import MilestoneSpec, MilestoneTerms
from domain.money import EXACT, ISO_4217_MINOR_UNITS, Currency, Money
from domain.obligation import (
    register_billing_model,
)
from domain.period import Period
from domain.ratecard import RateCard, RateCardVersion
from domain.recurring import RecurringTerms
from domain.retainer import RetainerTerms
from domain.tax import TaxProfile
from domain.time_and_materials import (
    ExpensePolicy,
    IncrementRounding,
    NotToExceed,
    OveragePolicy,
    TimeAndMaterialsTerms,
)
from domain.time_entry import ExpenseItem, TimeEntry
from tests.support.builders import (
    APRIL,
    AT,
    CUSTOMER,
    ENTITY,
    EUR,
    MARCH,
    OPEN,
    TAX_RATES,
    TM,
    committed,
    contract,
    d,
    entry,
    issued_invoice,
    rate_card,
    run,
)
from tests.support.model_inputs import stub_model

CET = timezone(timedelta(hours=1))


def money(text: str, code: str = "EUR") -> Money:
    return Money(Decimal(text), Currency.of(code))


# Realistic objects, built the way the domain builds them ------------------------------------


def every_model_terms() -> list[Any]:
    return [
        TimeAndMaterialsTerms(
            TM,
            "Advisory",
            EUR,
            ids.RateCardId("RC"),
            billing_increment=d("0.25"),
            increment_rounding=IncrementRounding.NEAREST,
            daily_cap_hours=d("8"),
            cap=NotToExceed(amount=d("5000.00"), hours=d("10"), policy=OveragePolicy.HOLD),
            expenses=ExpensePolicy(d("0.10"), {"travel": d("500.00"), "hotel": d("900")}),
        ),
        FixedFeeTerms(
            ids.ObligationId("ff"),
            "Design phase",
            EUR,
            d("30000.00"),
            (
                Installment(ids.InstallmentId("i1"), date(2026, 3, 31), percentage=d("40")),
                Installment(ids.InstallmentId("i2"), date(2026, 6, 30), percentage=d("60")),
            ),
            estimate_hours=d("200"),
        ),
        RetainerTerms(
            ids.ObligationId("ret"),
            "Support retainer",
            EUR,
            fee_per_period=d("4000.00"),
            hours_per_period=d("40"),
            start=date(2026, 1, 1),
            end=date(2026, 12, 31),
            rollover_cap_hours=d("20"),
            rollover_periods=2,
            overage_rate=d("150.00"),
        ),
        MilestoneTerms(
            ids.ObligationId("program"),
            "Transformation program",
            EUR,
            d("100000.00"),
            tuple(
                MilestoneSpec(
                    ids.MilestoneId(f"m{n}"), f"Phase {n}", percentage=d("25"), final=n == 4
                )
                for n in range(1, 5)
            ),
            retention_percent=d("10"),
            passive_acceptance_days=10,
        ),
        RecurringTerms(
            ids.ObligationId("ms"),
            "Managed service",
            EUR,
            d("3000.00"),
            date(2026, 3, 10),
            date(2026, 12, 31),
        ),
    ]


def hybrid_contract() -> Contract:
    """Every billing model in the SOW; an approved amendment; a draft change order."""
    c = contract(every_model_terms())
    c.draft_version(date(2026, 6, 1), every_model_terms()[:2], label="CR-1")
    c.approve_version(2, "legal", AT + timedelta(days=30))
    c.draft_version(date(2026, 9, 1), every_model_terms()[2:])
    return c


def accepted_milestone() -> Milestone:
    m = Milestone.plan(
        ids.MilestoneId("m1"),
        ids.ObligationId("program"),
        "Phase 1",
        AT,
        passive_acceptance_days=10,
    )
    m.complete("draft report", date(2026, 3, 5), AT)
    m.reject("client-sponsor", "incomplete", AT)
    m.complete("final report", date(2026, 3, 12), AT)
    m.accept("client-sponsor", date(2026, 3, 13), AT)
    return m


def held_time_entry() -> TimeEntry:
    e = TimeEntry.submit(
        ids.TimeEntryId("e9"),
        TM,
        ids.ResourceId("r2"),
        ids.Role("architect"),
        date(2026, 3, 9),
        d("6.75"),
        task_id=ids.TaskId("T7"),
        cost_rate=d("61.50"),
    )
    e.approve("psa", AT)
    e.hold(d("2.25"), "over the cap", AT)
    return e


def rejected_non_billable_entry() -> TimeEntry:
    e = TimeEntry.submit(
        ids.TimeEntryId("e10"),
        TM,
        ids.ResourceId("r1"),
        ids.Role("consultant"),
        date(2026, 3, 10),
        d("1"),
        billable=False,
    )
    e.reject("wrong_project", AT)
    return e


def travel_expense() -> ExpenseItem:
    x = ExpenseItem.submit(
        ids.ExpenseId("x1"),
        TM,
        ids.ResourceId("r1"),
        "travel",
        date(2026, 3, 4),
        money("212.40"),
        "Train to the client site",
    )
    x.approve("psa", AT)
    return x


def issued_invoice_and_memo() -> tuple[Invoice, CreditMemo]:
    """An invoice issued from a billing run, part paid, then part credited by a credit memo."""
    c = contract([TimeAndMaterialsTerms(TM, "Advisory", EUR, ids.RateCardId("RC"))])
    entries = [entry("e1", date(2026, 3, 2), "8"), entry("e2", date(2026, 3, 3), "4")]
    draft = run(MARCH, [c], [rate_card()], entries).invoices[0]
    invoice = issued_invoice(draft, "INV-1", "2026-0001")
    invoice.record_payment(ids.PaymentId("PAY-1"), money("500.00"), date(2026, 4, 10), AT, OPEN)
    e1 = SourceRef(SourceKind.TIME_ENTRY, "e1")
    memo = CreditMemo.against(
        ids.CreditMemoId("CM-1"),
        invoice,
        [CreditRequest(1, e1, d("3")), CreditRequest(1, quantity=d("1.5"))],
        "hours disputed",
        "ar-clerk",
    )
    memo.approve("finance-lead", AT)
    memo.issue(invoice, "CN-0001", date(2026, 4, 12), AT, OPEN)
    return invoice, memo


def billing_proposal() -> BillingProposal:
    """A real run over every billing model: invoices, held hours over a cap, a blocked contract."""
    c = contract(every_model_terms())
    orphan = contract(every_model_terms()[:1], contract_id="C2", customer=ids.CustomerId("globex"))
    entries = [entry("e1", date(2026, 3, 2), "8"), entry("e2", date(2026, 3, 3), "4")]
    card = rate_card(overrides={"r1": "110"})
    return run_billing(
        BillingRunInput(
            period=MARCH,
            contracts=(c, orphan),
            rate_cards={card.rate_card_id: card},
            time_entries=tuple(entries),
            expenses=(travel_expense(),),
            milestones=(accepted_milestone(),),
            ledger=BilledLedger(),
            tax_profiles={(CUSTOMER, ENTITY): TaxProfile(CUSTOMER, ENTITY, "VAT20")},
            tax_rates=TAX_RATES,
        )
    )


def retroactive_proposal() -> BillingProposal:
    """A rate change dated back into a billed month: a debit memo proposal."""
    card = rate_card()
    c = contract([TimeAndMaterialsTerms(TM, "Advisory", EUR, ids.RateCardId("RC"))])
    march = [entry("e1", date(2026, 3, 2), "8"), entry("e2", date(2026, 3, 20), "2")]
    ledger = committed(None, run(MARCH, [c], [card], march))
    card.publish(RateCardVersion(2, date(2026, 3, 15), EUR, {ids.Role("consultant"): d("120")}))
    return run(APRIL, [c], [card], [*march, entry("e3", date(2026, 4, 1), "1")], ledger=ledger)


def closing_engagement() -> Engagement:
    e = Engagement.propose(ids.EngagementId("EG-1"), CUSTOMER, ids.ContractId("C1"), AT)
    for step in (e.contract, e.start_provisioning, e.activate):
        step(AT)
    e.start_closing(date(2026, 6, 30), AT)
    return e


def blocked_engagement() -> Engagement:
    e = Engagement.propose(ids.EngagementId("EG-2"), CUSTOMER, ids.ContractId("C2"), AT)
    e.contract(AT)
    e.start_provisioning(AT)
    e.block_setup("ERP rejected the project code", AT)
    return e


def closed_period() -> AccountingPeriod:
    p = AccountingPeriod.open(MARCH)
    p.close(ids.UserId("controller"), date(2026, 4, 3), datetime(2026, 4, 3, 17, 30, tzinfo=CET))
    return p


def reopened_period() -> AccountingPeriod:
    p = closed_period()
    p.reopen(ids.UserId("cfo"), "late supplier invoice", AT + timedelta(days=95))
    return p


def entities() -> dict[str, Callable[[], object]]:
    return {
        "contract": hybrid_contract,
        "rate card": lambda: rate_card(
            versions=[
                (date(2026, 1, 1), {"consultant": "100", "architect": "145.50"}),
                (date(2026, 4, 1), {"consultant": "105", "architect": "150"}),
            ],
            overrides={"r1": "120"},
        ),
        "closing engagement": closing_engagement,
        "blocked engagement": blocked_engagement,
        "milestone": accepted_milestone,
        "held time entry": held_time_entry,
        "rejected time entry": rejected_non_billable_entry,
        "expense": travel_expense,
        "invoice": lambda: issued_invoice_and_memo()[0],
        "credit memo": lambda: issued_invoice_and_memo()[1],
        "closed period": closed_period,
        "reopened period": reopened_period,
    }


def values() -> dict[str, Callable[[], object]]:
    return {
        **{f"terms {type(t).__name__}": (lambda t=t: t) for t in every_model_terms()},
        "billing proposal": billing_proposal,
        "retroactive proposal": retroactive_proposal,
        "ledger entries": lambda: tuple(
            entry for doc in issued_invoice_and_memo() for entry in doc.ledger_entries()
        ),
        "billed ledger": lambda: BilledLedger(
            tuple(entry for doc in issued_invoice_and_memo() for entry in doc.ledger_entries())
        ),
        "money in fils": lambda: money("12.345", "BHD"),
        "period": lambda: MARCH,
    }


# Comparing: entities have identity equality, so field by field (except events) -----------


def _is_entity(value: object) -> bool:
    """Entities are attrs classes declared with eq=False: equal only to themselves."""
    return attrs.has(type(value)) and type(value).__eq__ is object.__eq__


def assert_same(original: object, restored: object, path: str = "$") -> None:
    assert type(restored) is type(original), path
    if attrs.has(type(original)):
        if not _is_entity(original):
            assert restored == original, path
        for field in attrs.fields(type(original)):
            if field.name == "events":  # transient: never in a snapshot, empty once restored
                assert restored.events == [], path  # type: ignore[attr-defined]
                continue
            name = f"{path}.{field.name}"
            assert_same(getattr(original, field.name), getattr(restored, field.name), name)
    elif isinstance(original, list | tuple):
        assert isinstance(restored, list | tuple)
        assert len(restored) == len(original), path
        for index, (a, b) in enumerate(zip(original, restored, strict=True)):
            assert_same(a, b, f"{path}[{index}]")
    elif isinstance(original, Mapping):
        assert isinstance(restored, Mapping)
        assert restored.keys() == original.keys(), path
        for key in original:
            assert_same(original[key], restored[key], f"{path}[{key!r}]")
    elif isinstance(original, Decimal):
        assert restored.as_tuple() == original.as_tuple(), path  # type: ignore[attr-defined]
    else:
        assert restored == original, path


def round_trip(obj: object) -> object:
    return from_json(to_json(obj), type(obj))


def _no_float(text: str) -> Any:
    raise AssertionError(f"a float in the JSON output: {text}")


# Round trips -----------------------------------------------------------------------------


@pytest.mark.parametrize("build", entities().values(), ids=entities().keys())
def test_every_entity_snapshot_restores_every_field_but_the_transient_events(
    build: Callable[[], object],
) -> None:
    original = build()
    restored = round_trip(original)
    assert_same(original, restored)
    assert "events" not in unstructure(original)
    assert to_json(restored) == to_json(original)


@pytest.mark.parametrize("build", values().values(), ids=values().keys())
def test_every_value_round_trips_to_an_equal_value(build: Callable[[], object]) -> None:
    original = build()
    if isinstance(original, tuple):
        as_type: Any = tuple[type(original[0]), ...]  # type: ignore[misc]
        restored = structure(unstructure(original, as_type), as_type)
    else:
        restored = structure(unstructure(original), type(original))
    assert restored == original
    assert_same(original, restored)


def test_a_billing_run_proposal_round_trips_with_invoices_exclusions_and_blocks() -> None:
    proposal = billing_proposal()
    assert proposal.invoices
    assert proposal.exclusions
    assert proposal.blocked
    assert from_json(to_json(proposal), BillingProposal) == proposal
    adjustments = retroactive_proposal()
    assert adjustments.adjustments
    assert from_json(to_json(adjustments), BillingProposal) == adjustments


def test_obligations_are_tagged_with_their_registered_billing_model() -> None:
    version = unstructure(hybrid_contract())["versions"][0]
    assert [o["model"] for o in version["obligations"]] == [
        "time_and_materials",
        "fixed_fee",
        "retainer",
        "milestones",
        "recurring",
    ]
    assert version["obligations"][0]["expenses"] == {
        "category_caps": {"hotel": "900", "travel": "500.00"},
        "markup": "0.10",
        "billing_window_days": None,  # no window: the expense never expires (ADR 0028)
    }


def test_money_is_an_amount_string_and_a_currency_code() -> None:
    assert unstructure(money("12.30")) == {"amount": "12.30", "currency": "EUR"}
    assert unstructure(EUR) == "EUR"
    assert unstructure(MARCH) == {"start": "2026-03-01", "end": "2026-03-31"}
    assert to_json(money("12.30")) == '{"amount":"12.30","currency":"EUR"}'


def test_credit_reservations_are_listed_per_line_and_source() -> None:
    invoice, _ = issued_invoice_and_memo()
    reservations = unstructure(invoice)["credit_reservations"]
    assert reservations == [
        {
            "line_no": 1,
            "source": {"kind": "time_entry", "source_id": "e1"},
            "quantity": "3",
            "amount": "300",
        },
        {
            "line_no": 1,
            "source": {"kind": "time_entry", "source_id": "e2"},
            "quantity": "1.5",
            "amount": "150.0",
        },
    ]


def test_frozen_mappings_come_back_frozen() -> None:
    card = round_trip(rate_card(overrides={"r1": "120"}))
    assert isinstance(card, RateCard)
    with pytest.raises(TypeError):
        card.versions[0].role_rates[ids.Role("consultant")] = d("1")  # type: ignore[index]


def test_datetimes_keep_their_offset() -> None:
    period = closed_period()
    assert unstructure(period)["closed_at"] == "2026-04-03T17:30:00+01:00"
    restored = round_trip(period)
    assert isinstance(restored, AccountingPeriod)
    assert restored.closed_at is not None
    assert restored.closed_at.utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize("build", [*entities().values(), *values().values()])
def test_the_json_never_contains_a_float(build: Callable[[], object]) -> None:
    json.loads(to_json(build()), parse_float=_no_float)


def test_the_same_object_always_gives_the_same_text() -> None:
    assert to_json(hybrid_contract()) == to_json(hybrid_contract())
    text = to_json(billing_proposal())
    assert text == json.dumps(
        json.loads(text), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


@given(
    st.sampled_from(sorted(ISO_4217_MINOR_UNITS)),
    st.integers(-(10**15), 10**15),
    st.integers(0, 8),
)
def test_any_money_in_any_currency_round_trips_exactly(code: str, units: int, places: int) -> None:
    original = Money(Decimal(units).scaleb(-places, context=EXACT), Currency.of(code))
    restored = from_json(to_json(original), Money)
    assert restored == original
    assert restored.amount.as_tuple() == original.amount.as_tuple()


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_any_finite_decimal_is_written_plain_and_read_back_equal(value: Decimal) -> None:
    text = unstructure(value)
    assert "E" not in text.upper()
    assert structure(text, Decimal) == value


# Strictness --------------------------------------------------------------------------------


def problems(call: Callable[[], object]) -> str:
    with pytest.raises(SerializationError) as refused:
        call()
    assert isinstance(refused.value, ValueError)
    return str(refused.value)


def contract_data() -> dict[str, Any]:
    data: dict[str, Any] = unstructure(hybrid_contract())
    return data


def test_a_float_amount_is_refused_money_is_never_a_float() -> None:
    message = problems(lambda: from_json('{"amount": 12.3, "currency": "EUR"}', Money))
    assert message == "$.amount: a decimal is never a float (12.3): send it as a string"


@pytest.mark.parametrize(
    "text", ["1e3", "1E-2", "NaN", "Infinity", "-inf", "+1", "01", ".5", "1.", " 1", "1_000", "١٢"]
)
def test_a_decimal_must_be_a_plain_finite_decimal_string(text: str) -> None:
    message = problems(lambda: structure({"amount": text, "currency": "EUR"}, Money))
    assert message.startswith("$.amount: ")
    assert "plain decimal" in message


@pytest.mark.parametrize(("text", "expected"), [("12.30", "12.30"), ("-0.5", "-0.5"), (7, "7")])
def test_plain_decimal_strings_and_integers_are_accepted(text: object, expected: str) -> None:
    assert structure({"amount": text, "currency": "EUR"}, Money).amount.as_tuple() == (
        Decimal(expected).as_tuple()
    )


def test_json_nan_and_infinity_literals_are_refused() -> None:
    assert "NaN is not a number" in problems(
        lambda: from_json('{"amount": NaN, "currency": "EUR"}', Money)
    )


def test_an_extra_key_is_refused_with_its_path() -> None:
    data = contract_data()
    data["versions"][0]["obligations"][1]["discount"] = "5"
    message = problems(lambda: structure(data, Contract))
    assert message == "$.versions[0].obligations[1].discount: unknown field"


def test_events_are_not_accepted_in_a_snapshot() -> None:
    data = unstructure(closing_engagement())
    data["events"] = []
    assert problems(lambda: structure(data, Engagement)) == "$.events: unknown field"


def test_a_naive_datetime_is_refused_both_ways() -> None:
    data = contract_data()
    data["versions"][0]["approved_at"] = "2026-01-01T09:00:00"
    message = problems(lambda: structure(data, Contract))
    assert message.startswith("$.versions[0].approved_at: ")
    assert "naive" in message
    period = closed_period()
    period.closed_at = datetime(2026, 4, 3, 17, 30)
    assert "naive" in problems(lambda: to_json(period))


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("revision", True, "expected an integer, got bool"),
        ("revision", "3", "expected an integer, got str"),
        ("revision", 3.0, "expected an integer, got float"),
        ("billable", 1, "expected true or false, got int"),
        ("hours", True, "expected a decimal string, got bool"),
        ("role", 7, "expected a string, got int"),
        ("task_id", None, "expected a string, got null"),
        ("work_date", "2026-03-09T00:00:00", "expected an ISO-8601 date"),
        ("state", "approved_ish", "'approved_ish' is not a valid ItemState (one of 'submitted'"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused(field: str, value: object, expected: str) -> None:
    data = unstructure(held_time_entry())
    data[field] = value
    message = problems(lambda: structure(data, TimeEntry))
    assert message.startswith(f"$.{field}: {expected}")


def test_an_object_is_expected_where_a_class_is() -> None:
    data = unstructure(billing_proposal())
    data["invoices"][0]["totals"]["net"] = "1200.00"
    message = problems(lambda: structure(data, BillingProposal))
    assert message == "$.invoices[0].totals.net: expected an object (Money), got str"


def test_a_missing_field_is_named() -> None:
    data = unstructure(closing_engagement())
    del data["customer_id"]
    assert problems(lambda: structure(data, Engagement)) == "$.customer_id: required field missing"


def test_a_string_is_not_a_list() -> None:
    data = unstructure(billing_proposal())
    data["invoices"][0]["lines"][0]["flags"] = "over_cap"
    message = problems(lambda: structure(data, BillingProposal))
    assert message == "$.invoices[0].lines[0].flags: expected a list, got str"


def test_an_unknown_obligation_model_is_refused() -> None:
    data = contract_data()
    data["versions"][1]["obligations"][0]["model"] = "success_fee"
    message = problems(lambda: structure(data, Contract))
    assert message.startswith(
        "$.versions[1].obligations[0].model: unknown obligation model 'success_fee' (registered: "
    )
    del data["versions"][1]["obligations"][0]["model"]
    assert "unknown obligation model None" in problems(lambda: structure(data, Contract))


def test_terms_the_domain_refuses_are_refused_at_their_path() -> None:
    data = contract_data()
    data["versions"][0]["obligations"][1]["installments"][0]["percentage"] = "140"
    message = problems(lambda: structure(data, Contract))
    assert message == (
        "$.versions[0].obligations[1].installments[0]: installment i1: 140 % is not in (0, 100]"
    )


def test_every_bad_field_is_reported_at_once() -> None:
    data = contract_data()
    data["currency"] = "XEU"
    data["versions"][0]["effective_from"] = "2026-02-30"
    data["versions"][2]["obligations"][0]["fee_per_period"] = 4000.0
    message = problems(lambda: structure(data, Contract))
    assert message.split("; ") == [
        "$.currency: 'XEU' is not an active ISO 4217 currency",
        "$.versions[0].effective_from: '2026-02-30' is not a calendar date",
        "$.versions[2].obligations[0].fee_per_period: a decimal is never a float (4000.0): "
        "send it as a string",
    ]


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    message = problems(lambda: structure({"start": "2026-03-31", "end": "2026-03-01"}, Period))
    assert message == "$: period ends (2026-03-01) before it starts (2026-03-31)"


def test_credit_reservations_cannot_name_one_source_twice() -> None:
    data = unstructure(issued_invoice_and_memo()[0])
    data["credit_reservations"][1]["source"]["source_id"] = "e1"
    message = problems(lambda: structure(data, Invoice))
    assert message == "$.credit_reservations: line 1 reserves time_entry:e1 twice"


def test_duplicate_json_keys_and_broken_json_are_refused() -> None:
    assert "appears twice" in problems(
        lambda: from_json('{"amount": "1", "amount": "2", "currency": "EUR"}', Money)
    )
    assert "not valid JSON" in problems(lambda: from_json('{"amount": ', Money))


@attrs.frozen
class LineTally:
    by_line: dict[int, Decimal]


def test_integer_keys_are_written_as_strings_and_read_back_strictly() -> None:
    tally = LineTally({1: d("450.0"), 12: d("-3")})
    assert unstructure(tally) == {"by_line": {"1": "450.0", "12": "-3"}}
    assert structure(unstructure(tally), LineTally) == tally
    message = problems(lambda: structure({"by_line": {"01": "1", "x": "2"}}, LineTally))
    assert message == (
        "$.by_line['01']: '01' is not an integer key; $.by_line['x']: 'x' is not an integer key"
    )


def test_string_enums_are_written_as_plain_strings() -> None:
    data = unstructure(closing_engagement())
    assert type(data["state"]) is str
    assert data["state"] == "closing"


# The one converter, open to new billing models ---------------------------------------------


def test_there_is_one_converter_and_it_is_not_the_global_one() -> None:
    assert isinstance(CONVERTER, cattrs.Converter)
    assert CONVERTER is not cattrs.global_converter
    assert serialization.CONVERTER is CONVERTER


@attrs.frozen
class SuccessFeeTerms:
    """A model added after the converter was built."""

    obligation_id: ids.ObligationId
    name: str
    currency: Currency
    fee: Decimal
    due: date


def test_a_billing_model_registered_later_serializes_without_touching_the_converter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(obligation_registry, "_MODELS", dict(obligation_registry._MODELS))
    summary = "a bonus billed when its condition is met"
    register_billing_model(stub_model("success_fee", SuccessFeeTerms, summary=summary))
    terms = SuccessFeeTerms(
        ids.ObligationId("sf"), "Go-live bonus", EUR, d("2500.00"), date(2026, 9, 1)
    )
    c = contract([terms])
    assert unstructure(c)["versions"][0]["obligations"][0]["model"] == "success_fee"
    assert_same(c, round_trip(c))


def test_ledger_entries_keep_their_write_off_flag() -> None:
    entry = LedgerEntry(
        "CM-2", TM, SourceRef(SourceKind.TIME_ENTRY, "e2"), d("-2"), money("-200"), "v1", True
    )
    assert structure(unstructure(entry), LedgerEntry) == entry
    assert unstructure(entry)["write_off"] is True
