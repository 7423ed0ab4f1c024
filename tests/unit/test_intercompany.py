"""Consultant transfers and intercompany recharges, worked out by hand (guide section 5,
"Ledger", and section 8, "consultant transfers between legal entities").

The contract belongs to entity A ("tl-uk", the builders' entity); resources belong to B
("tl-de") or C ("tl-fr") by their employment histories.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain import ids
from domain.accounting_period import PeriodLock
from domain.contract import Contract
from domain.employment import Employment, EmploymentHistory, InvalidEmploymentHistoryError
from domain.errors import PeriodClosedError
from domain.intercompany import (
    IntercompanyStatement,
    InvalidTransferPolicyError,
    RechargeProblem,
    RechargeSide,
    TransferPolicy,
    TransferPricing,
    intercompany_recharges,
    post_intercompany_recharge,
    recharge_amount,
)
from domain.ledger import Account, JournalEntry
from domain.money import Currency, Money
from domain.time_and_materials import TimeAndMaterialsTerms
from domain.time_entry import TimeEntry
from tests.support.builders import AT, ENTITY, EUR, MARCH, contract, entry

A = ENTITY
B = ids.LegalEntityId("tl-de")
C = ids.LegalEntityId("tl-fr")
TEN_PERCENT = TransferPricing.of(
    [TransferPolicy(B, A, Decimal(10)), TransferPolicy(C, A, Decimal(5))]
)


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def tm_contract(currency: str = "EUR", entity: ids.LegalEntityId = A) -> Contract:
    terms = TimeAndMaterialsTerms(
        ids.ObligationId("tm"), "Advisory", Currency.of(currency), ids.RateCardId("RC")
    )
    c = contract([terms], currency=currency)
    c.legal_entity_id = entity
    return c


def costed(
    entry_id: str, day: date, hours: str, cost_rate: str | None, resource: str = "r1"
) -> TimeEntry:
    e = entry(entry_id, day, hours, resource=resource)
    e.cost_rate = None if cost_rate is None else Decimal(cost_rate)
    return e


def in_b_since_january(resource: str = "r1") -> EmploymentHistory:
    return EmploymentHistory.of(ids.ResourceId(resource), [Employment(B, date(2026, 1, 1))])


def statement(
    entries: list[TimeEntry],
    histories: list[EmploymentHistory],
    pricing: TransferPricing = TEN_PERCENT,
    contracts: list[Contract] | None = None,
    lock: PeriodLock | None = None,
) -> IntercompanyStatement:
    return intercompany_recharges(
        MARCH,
        entries,
        contracts if contracts is not None else [tm_contract()],
        {h.resource_id: h for h in histories},
        pricing,
        lock or PeriodLock(),
    )


def lines(journal: JournalEntry) -> list[tuple[Account, str, str]]:
    return [
        (
            line.account,
            "Dr" if line.is_debit else "Cr",
            str(line.debit if line.is_debit else line.credit),
        )
        for line in journal.lines
    ]


# -- employment histories ------------------------------------------------------------------


def test_a_transfer_mid_month_changes_the_resources_entity_from_that_day() -> None:
    history = EmploymentHistory.transferred(
        ids.ResourceId("r1"), B, date(2026, 1, 1), [(date(2026, 3, 16), C)]
    )
    assert history.employments == (
        Employment(B, date(2026, 1, 1), date(2026, 3, 15)),
        Employment(C, date(2026, 3, 16)),
    )
    assert history.entity_on(date(2025, 12, 31)) is None
    assert history.entity_on(date(2026, 3, 15)) == B
    assert history.entity_on(date(2026, 3, 16)) == C
    assert history.entity_on(date(2030, 1, 1)) == C


def test_a_resource_that_left_belongs_to_no_entity_after_its_last_day() -> None:
    history = EmploymentHistory.of(
        ids.ResourceId("r1"), [Employment(B, date(2026, 1, 1), date(2026, 3, 10))]
    )
    assert history.entity_on(date(2026, 3, 10)) == B
    assert history.entity_on(date(2026, 3, 11)) is None


@pytest.mark.parametrize(
    ("spells", "says"),
    [
        ([], "at least one spell"),
        ([Employment(B, date(2026, 3, 1), date(2026, 2, 1))], "before it starts"),
        ([Employment(ids.LegalEntityId(" "), date(2026, 3, 1))], "name the legal entity"),
        (
            [Employment(B, date(2026, 3, 1), date(2026, 3, 31)), Employment(C, date(2026, 3, 1))],
            "not after the spell before it",
        ),
        (
            [Employment(C, date(2026, 4, 1)), Employment(B, date(2026, 1, 1), date(2026, 3, 31))],
            "oldest first",
        ),
        ([Employment(B, date(2026, 1, 1)), Employment(C, date(2026, 4, 1))], "is open-ended"),
        (
            [Employment(B, date(2026, 1, 1), date(2026, 4, 1)), Employment(C, date(2026, 4, 1))],
            "ends on 2026-04-01",
        ),
    ],
    ids=[
        "empty",
        "ends-before-start",
        "no-entity",
        "duplicate-date",
        "unordered",
        "open-overlap",
        "overlap",
    ],
)
def test_an_employment_history_with_overlapping_duplicate_or_unordered_spells_is_refused(
    spells: list[Employment], says: str
) -> None:
    with pytest.raises(InvalidEmploymentHistoryError, match=says):
        EmploymentHistory.of(ids.ResourceId("r1"), spells)


# -- transfer pricing ----------------------------------------------------------------------


def test_a_pair_uses_its_own_policy_before_the_default() -> None:
    pricing = TransferPricing.of(
        [TransferPolicy(B, A, Decimal(10))], default_markup_percent=Decimal(3)
    )
    assert pricing.markup_for(B, A) == 10
    assert pricing.markup_for(A, B) == 3
    assert TransferPricing.of([TransferPolicy(B, A, Decimal(10))]).markup_for(A, B) is None


@pytest.mark.parametrize(
    ("policies", "default", "says"),
    [
        ([TransferPolicy(B, B, Decimal(10))], None, "does not recharge itself"),
        (
            [TransferPolicy(B, A, Decimal(10)), TransferPolicy(B, A, Decimal(5))],
            None,
            "given twice",
        ),
        ([TransferPolicy(B, A, Decimal(-1))], None, "from 0 to 1000"),
        ([TransferPolicy(B, A, Decimal(1001))], None, "from 0 to 1000"),
        ([TransferPolicy(B, A, Decimal("NaN"))], None, "from 0 to 1000"),
        ([], Decimal(-5), "the default policy"),
        ([TransferPolicy(ids.LegalEntityId(""), A, Decimal(1))], None, "name both"),
    ],
)
def test_an_invalid_transfer_policy_is_refused(
    policies: list[TransferPolicy], default: Decimal | None, says: str
) -> None:
    with pytest.raises(InvalidTransferPolicyError, match=says):
        TransferPricing.of(policies, default)


# -- recharges -----------------------------------------------------------------------------


def test_cost_plus_ten_percent_on_known_numbers() -> None:
    # 7.5 h x 80.00 = 600.00 and 2.25 h x 80.00 = 180.00: cost 780.00, x 1.10 = 858.00
    found = statement(
        [
            costed("T1", date(2026, 3, 2), "7.5", "80.00"),
            costed("T2", date(2026, 3, 3), "2.25", "80.00"),
        ],
        [in_b_since_january()],
    )
    (recharge,) = found.recharges
    assert (recharge.provider, recharge.recipient, recharge.currency) == (B, A, EUR)
    assert [(e.entry_id, e.hours, e.cost) for e in recharge.entries] == [
        ("T1", Decimal("7.5"), eur("600.00")),
        ("T2", Decimal("2.25"), eur("180.00")),
    ]
    assert recharge.hours == Decimal("9.75")
    assert recharge.cost == eur("780.00")
    assert recharge.markup_percent == 10
    assert recharge.amount == eur("858.00")
    assert recharge.markup == eur("78.00")
    assert found.exceptions == ()


def test_each_side_books_its_own_balanced_entry_on_the_periods_last_day() -> None:
    found = statement([costed("T1", date(2026, 3, 2), "7.5", "80.00")], [in_b_since_january()])
    provider, recipient = found.recharges[0].postings
    assert (provider.legal_entity_id, provider.side) == (B, RechargeSide.PROVIDER)
    assert (recipient.legal_entity_id, recipient.side) == (A, RechargeSide.RECIPIENT)
    # 7.5 h x 80.00 = 600.00, x 1.10 = 660.00
    assert lines(provider.entry) == [
        (Account.INTERCOMPANY_RECEIVABLE, "Dr", "660.00 EUR"),
        (Account.INTERCOMPANY_REVENUE, "Cr", "660.00 EUR"),
    ]
    assert lines(recipient.entry) == [
        (Account.COST_OF_SERVICES, "Dr", "660.00 EUR"),
        (Account.INTERCOMPANY_PAYABLE, "Cr", "660.00 EUR"),
    ]
    for side in (provider, recipient):
        assert side.entry.posted_on == date(2026, 3, 31)
        assert side.entry.total_debits == side.entry.total_credits


def test_the_amount_is_rounded_half_up_once_per_document_not_per_entry() -> None:
    # each entry: 1 h x 10.005 = 10.005 (x 1.00); per entry it would round to 10.01 twice
    # (20.02); on the document 20.010 rounds to 20.01
    pricing = TransferPricing.of([TransferPolicy(B, A, Decimal(0))])
    found = statement(
        [
            costed("T1", date(2026, 3, 2), "1", "10.005"),
            costed("T2", date(2026, 3, 3), "1", "10.005"),
        ],
        [in_b_since_january()],
        pricing,
    )
    assert found.recharges[0].cost == eur("20.010")
    assert found.recharges[0].amount == eur("20.01")
    assert recharge_amount(eur("0.125"), Decimal(0)) == eur("0.13")


def test_a_transfer_mid_month_splits_the_resources_hours_between_two_entities() -> None:
    # r1 in B until 15 March, in C from the 16th: 8 h on the 10th recharged by B (+10 %),
    # 6 h on the 20th by C (+5 %); 8 x 100 x 1.10 = 880.00, 6 x 100 x 1.05 = 630.00
    history = EmploymentHistory.transferred(
        ids.ResourceId("r1"), B, date(2026, 1, 1), [(date(2026, 3, 16), C)]
    )
    found = statement(
        [
            costed("T1", date(2026, 3, 10), "8", "100.00"),
            costed("T2", date(2026, 3, 20), "6", "100.00"),
        ],
        [history],
    )
    assert [
        (r.provider, r.recipient, [e.entry_id for e in r.entries], r.amount)
        for r in found.recharges
    ] == [
        (B, A, ["T1"], eur("880.00")),
        (C, A, ["T2"], eur("630.00")),
    ]


def test_a_contract_and_a_resource_in_the_same_entity_produce_nothing() -> None:
    in_a = EmploymentHistory.of(ids.ResourceId("r1"), [Employment(A, date(2026, 1, 1))])
    found = statement([costed("T1", date(2026, 3, 2), "8", None)], [in_a], TransferPricing())
    assert found.recharges == ()
    assert found.exceptions == ()


def test_an_entry_without_a_cost_rate_is_reported_not_dropped() -> None:
    found = statement(
        [
            costed("T1", date(2026, 3, 2), "8", None),
            costed("T2", date(2026, 3, 3), "4", "50.00"),
        ],
        [in_b_since_january()],
    )
    (problem,) = found.exceptions
    assert (problem.entry_id, problem.reason, problem.hours) == (
        "T1",
        RechargeProblem.NO_COST_RATE,
        8,
    )
    assert "no cost rate" in problem.detail
    # the costed entry is still recharged: 4 x 50.00 x 1.10 = 220.00
    assert found.recharges[0].amount == eur("220.00")


def test_a_pair_without_a_policy_is_reported_with_its_entities() -> None:
    found = statement(
        [costed("T1", date(2026, 3, 2), "8", "80.00")],
        [in_b_since_january()],
        TransferPricing.of([TransferPolicy(C, A, Decimal(5))]),
    )
    assert found.recharges == ()
    (problem,) = found.exceptions
    assert problem.reason is RechargeProblem.NO_TRANSFER_POLICY
    assert "tl-de" in problem.detail
    assert "tl-uk" in problem.detail


def test_the_default_policy_prices_a_pair_without_its_own() -> None:
    # 8 h x 80.00 = 640.00, x 1.025 = 656.00
    pricing = TransferPricing.of([], default_markup_percent=Decimal("2.5"))
    found = statement(
        [costed("T1", date(2026, 3, 2), "8", "80.00")], [in_b_since_january()], pricing
    )
    assert found.recharges[0].amount == eur("656.00")


def test_a_resource_without_a_legal_entity_on_the_work_date_is_reported() -> None:
    found = statement(
        [
            costed("T1", date(2026, 3, 2), "8", "80.00", resource="nobody"),
            costed("T2", date(2026, 3, 2), "8", "80.00", resource="r2"),
        ],
        [EmploymentHistory.of(ids.ResourceId("r2"), [Employment(B, date(2026, 3, 5))])],
    )
    assert [(p.entry_id, p.reason) for p in found.exceptions] == [
        ("T1", RechargeProblem.NO_LEGAL_ENTITY),
        ("T2", RechargeProblem.NO_LEGAL_ENTITY),
    ]


def test_an_entry_of_an_unknown_contract_is_reported() -> None:
    found = statement(
        [costed("T1", date(2026, 3, 2), "8", "80.00")], [in_b_since_january()], contracts=[]
    )
    assert [p.reason for p in found.exceptions] == [RechargeProblem.UNKNOWN_CONTRACT]


def submitted(entry_id: str, day: date) -> TimeEntry:
    return TimeEntry.submit(
        ids.TimeEntryId(entry_id), ids.ObligationId("tm"), ids.ResourceId("r1"),
        ids.Role("consultant"), day, Decimal(8), cost_rate=Decimal(80),
    )  # fmt: skip


def test_only_approved_time_of_the_period_is_recharged() -> None:
    rejected = submitted("T2", date(2026, 3, 3))
    rejected.reject("wrong project", AT)
    found = statement(
        [
            costed("T1", date(2026, 3, 2), "1", "80.00"),
            rejected,
            submitted("T3", date(2026, 3, 4)),
            costed("T4", date(2026, 4, 1), "8", "80.00"),
        ],
        [in_b_since_january()],
    )
    assert [e.entry_id for e in found.recharges[0].entries] == ["T1"]


def test_recharges_are_per_currency_of_the_contract() -> None:
    usd = tm_contract("USD")
    found = statement(
        [costed("T1", date(2026, 3, 2), "2", "100.00")], [in_b_since_january()], contracts=[usd]
    )
    assert found.recharges[0].currency == Currency.of("USD")
    assert found.recharges[0].amount == Money.of("220.00", "USD")


def test_a_closed_periods_recharges_are_shown_but_not_postable() -> None:
    entries = [costed("T1", date(2026, 3, 2), "8", "80.00")]
    shown = statement(entries, [in_b_since_january()], lock=PeriodLock(frozenset({MARCH})))
    assert not shown.postable
    assert shown.recharges == statement(entries, [in_b_since_january()]).recharges
    assert statement(entries, [in_b_since_january()]).postable


def test_nothing_is_posted_in_a_closed_period() -> None:
    with pytest.raises(PeriodClosedError):
        post_intercompany_recharge(MARCH, B, A, eur("704.00"), PeriodLock(frozenset({MARCH})))


def test_a_zero_cost_recharge_lists_its_entries_and_posts_nothing() -> None:
    found = statement([costed("T1", date(2026, 3, 2), "8", "0")], [in_b_since_january()])
    (recharge,) = found.recharges
    assert recharge.amount == eur("0.00")
    assert recharge.postings == ()
