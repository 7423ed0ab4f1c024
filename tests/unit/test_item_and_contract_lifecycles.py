"""The lifecycles of delivered items, contract versions and credit memos (full state x trigger
tables), and the rules around them: cap holds and write-offs, immutable effective-dated
contract versions, and rate cards priced on the work date."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest

from domain import ids
from domain.accounting_period import PeriodLock
from domain.billing import Allocation, LineKind, SourceKind, SourceRef
from domain.contract import (
    Contract,
    ContractTerminated,
    ContractVersionApproved,
    VersionState,
    VersionTrigger,
)
from domain.credit_memo import (
    CreditMemo,
    CreditMemoIssued,
    CreditMemoState,
    CreditMemoTrigger,
    CreditRequest,
)
from domain.document import DocumentLine, DocumentTotals
from domain.errors import (
    CurrencyMismatchError,
    DomainError,
    IllegalTransitionError,
    ImmutableVersionError,
    InvalidTermsError,
    NoTermsInForceError,
    PeriodClosedError,
    RateNotFoundError,
)
from domain.invoice import Invoice
from domain.money import Currency, Money
from domain.period import Period
from domain.ratecard import RateCard, RateCardVersion
from domain.time_and_materials import TimeAndMaterialsTerms
from domain.time_entry import (
    ExpenseItem,
    InvalidQuantityError,
    ItemHeld,
    ItemReleased,
    ItemState,
    ItemTrigger,
    ItemWrittenOff,
    NothingHeldError,
    TimeEntry,
)
from tests.support.builders import EUR
from tests.support.invoices import drafted_invoice
from tests.support.lifecycles import check_move, named, walked

AT = datetime(2026, 4, 2, 9, 0, tzinfo=UTC)
USD = Currency.of("USD")


# Time entries and expenses ====================================================================

IS, IT = ItemState, ItemTrigger

# By hand, from the guide: submitted → approved or rejected; approved → held (over a cap)
# → approved (released) or written_off; an approved item can also be written off directly.
ITEM_EXPECTED: dict[tuple[ItemState, ItemTrigger], ItemState] = {
    (IS.SUBMITTED, IT.APPROVE): IS.APPROVED,
    (IS.SUBMITTED, IT.REJECT): IS.REJECTED,
    (IS.APPROVED, IT.HOLD): IS.HELD,
    (IS.HELD, IT.RELEASE): IS.APPROVED,
    (IS.HELD, IT.WRITE_OFF): IS.WRITTEN_OFF,
    (IS.APPROVED, IT.WRITE_OFF): IS.WRITTEN_OFF,
}
ITEM_PAIRS = [(s, t) for s in IS for t in IT]
ITEM_FINAL = (IS.REJECTED, IS.WRITTEN_OFF)


def entry(hours: str = "8") -> TimeEntry:
    return TimeEntry.submit(
        ids.TimeEntryId("TE-1"),
        ids.ObligationId("OB-TM"),
        ids.ResourceId("R-ANNA"),
        ids.Role("consultant"),
        date(2026, 3, 10),
        Decimal(hours),
    )


def expense(cost: str = "240.00") -> ExpenseItem:
    return ExpenseItem.submit(
        ids.ExpenseId("EXP-1"),
        ids.ObligationId("OB-TM"),
        ids.ResourceId("R-ANNA"),
        "travel",
        date(2026, 3, 11),
        Money.of(cost, "EUR"),
        "Train to the client",
    )


ITEM_CALLS: dict[ItemTrigger, Callable[[Any], None]] = {
    IT.APPROVE: lambda i: i.approve("pm@firm", AT),
    IT.REJECT: lambda i: i.reject("task not billable", AT),
    IT.HOLD: lambda i: i.hold(Decimal("2"), "over the not-to-exceed cap", AT),
    IT.RELEASE: lambda i: i.release("pm@firm", AT),
    IT.WRITE_OFF: lambda i: i.write_off(
        i.held if i.held > 0 else Decimal("1"), "goodwill", AT, settled=Decimal(0)
    ),
}
ITEM_PATHS: dict[ItemState, list[ItemTrigger]] = {
    IS.SUBMITTED: [],
    IS.APPROVED: [IT.APPROVE],
    IS.REJECTED: [IT.REJECT],
    IS.HELD: [IT.APPROVE, IT.HOLD],
    IS.WRITTEN_OFF: [IT.APPROVE, IT.HOLD, IT.WRITE_OFF],
}
ITEM_KINDS: dict[str, Callable[[], Any]] = {"time entry": entry, "expense": expense}


def item_in(kind: str, state: ItemState) -> Any:
    item = walked(ITEM_KINDS[kind](), ITEM_PATHS[state], ITEM_CALLS)
    assert item.state is state
    return item


def item_snapshot(item: Any) -> tuple[object, ...]:
    return (
        item.state,
        item.revision,
        item.held,
        item.released,
        item.written_off,
        item.rejection_reason,
        len(item.events),
    )


@pytest.mark.parametrize("kind", list(ITEM_KINDS))
@pytest.mark.parametrize(("state", "trigger"), ITEM_PAIRS, ids=named)
def test_each_item_method_moves_it_only_along_a_legal_transition(
    kind: str, state: ItemState, trigger: ItemTrigger
) -> None:
    item, move = item_in(kind, state), ITEM_CALLS[trigger]
    check_move(
        item, move, ITEM_EXPECTED, state, trigger, refused=DomainError, snapshot=item_snapshot
    )


def test_a_hold_records_the_hours_over_the_cap() -> None:
    item = item_in("time entry", IS.APPROVED)
    item.hold(Decimal("2.5"), "over the not-to-exceed cap", AT)
    assert item.state is IS.HELD
    assert item.held == Decimal("2.5")
    assert item.events[-1] == ItemHeld("TE-1", Decimal("2.5"), "over the not-to-exceed cap", AT)


@pytest.mark.parametrize("quantity", ["0", "-1"])
def test_a_hold_is_a_positive_quantity(quantity: str) -> None:
    item = item_in("time entry", IS.APPROVED)
    before = item_snapshot(item)
    with pytest.raises(InvalidQuantityError) as refused:
        item.hold(Decimal(quantity), "over the cap", AT)
    assert refused.value.code == "invalid_quantity"
    assert item_snapshot(item) == before


def test_a_release_returns_the_held_hours_to_billing() -> None:
    item = item_in("time entry", IS.HELD)
    item.release("pm@firm", AT)
    assert item.state is IS.APPROVED
    assert (item.held, item.released, item.written_off) == (0, Decimal("2"), 0)
    assert item.events[-1] == ItemReleased("TE-1", Decimal("2"), "pm@firm", AT)


def test_releasing_twice_accumulates_the_released_hours() -> None:
    item = item_in("time entry", IS.HELD)
    item.release("pm@firm", AT)
    item.hold(Decimal("1.5"), "over the cap again", AT)
    item.release("pm@firm", AT)
    assert item.released == Decimal("3.5")
    assert item.held == 0


def test_nothing_is_released_when_nothing_is_held() -> None:
    item = item_in("time entry", IS.APPROVED)
    with pytest.raises(NothingHeldError, match="nothing held") as refused:
        item.release("pm@firm", AT)
    assert refused.value.code == "nothing_held"
    assert item.state is IS.APPROVED


def test_a_hold_is_written_off_whole() -> None:
    item = item_in("time entry", IS.HELD)
    item.write_off(None, "client will not pay over the cap", AT, settled=Decimal(0))
    assert item.state is IS.WRITTEN_OFF
    assert (item.held, item.written_off) == (0, Decimal("2"))
    assert item.events[-1] == ItemWrittenOff(
        "TE-1", Decimal("2"), "client will not pay over the cap", AT
    )


@pytest.mark.parametrize("quantity", ["1", "1.99", "2.01"])
def test_part_of_a_hold_is_not_written_off(quantity: str) -> None:
    item = item_in("time entry", IS.HELD)
    before = item_snapshot(item)
    with pytest.raises(InvalidQuantityError, match="written off whole"):
        item.write_off(Decimal(quantity), "goodwill", AT, settled=Decimal(0))
    assert item_snapshot(item) == before


def test_writing_off_an_approved_item_says_how_much() -> None:
    item = item_in("time entry", IS.APPROVED)
    with pytest.raises(InvalidQuantityError, match="how much"):
        item.write_off(None, "goodwill", AT, settled=Decimal(0))
    item.write_off(Decimal("0.75"), "goodwill", AT, settled=Decimal(0))
    assert (item.state, item.written_off) == (IS.WRITTEN_OFF, Decimal("0.75"))


def test_write_offs_accumulate_after_a_release() -> None:
    item = item_in("time entry", IS.HELD)
    item.release("pm@firm", AT)
    item.hold(Decimal("1"), "over the cap again", AT)
    item.write_off(None, "leakage", AT, settled=Decimal(0))
    assert (item.released, item.written_off, item.held) == (Decimal("2"), Decimal("1"), 0)


@pytest.mark.parametrize("reason", ["", " \t\n"], ids=["empty", "blank"])
def test_a_rejection_needs_a_reason(reason: str) -> None:
    item = entry()
    with pytest.raises(DomainError, match="reason"):
        item.reject(reason, AT)
    item.reject("task not billable", AT)
    assert (item.state, item.rejection_reason) == (IS.REJECTED, "task not billable")


@pytest.mark.parametrize("hours", ["0", "-1", "24.25"])
def test_a_time_entry_is_between_zero_and_twenty_four_hours(hours: str) -> None:
    with pytest.raises(InvalidQuantityError):
        entry(hours)


def test_a_full_day_of_twenty_four_hours_is_accepted() -> None:
    assert entry("24").hours == Decimal("24")


def test_an_expense_costs_more_than_nothing() -> None:
    with pytest.raises(InvalidQuantityError):
        expense("0.00")


def test_an_expense_is_held_and_written_off_by_cost_amount() -> None:
    item = item_in("expense", IS.APPROVED)
    assert item.quantity == Decimal("240.00")
    item.hold(Decimal("40.00"), "over the travel category cap", AT)
    item.write_off(None, "category cap", AT, settled=Decimal(0))
    assert item.written_off == Decimal("40.00")


def test_only_approved_held_or_written_off_items_are_billable() -> None:
    billable = {s for s in IS if item_in("time entry", s).is_billable_state}
    assert billable == {IS.APPROVED, IS.HELD, IS.WRITTEN_OFF}


# Contract versions ============================================================================

VS, VT = VersionState, VersionTrigger

# By hand, from the guide: draft → approved → superseded (by the next approved version) or
# terminated.
VERSION_EXPECTED: dict[tuple[VersionState, VersionTrigger], VersionState] = {
    (VS.DRAFT, VT.APPROVE): VS.APPROVED,
    (VS.APPROVED, VT.SUPERSEDE): VS.SUPERSEDED,
    (VS.APPROVED, VT.TERMINATE): VS.TERMINATED,
}
VERSION_FINAL = (VS.SUPERSEDED, VS.TERMINATED)


JAN_1, APR_1, JUN_30 = date(2026, 1, 1), date(2026, 4, 1), date(2026, 6, 30)


def tm_terms(name: str = "T&M change request", currency: Currency = EUR) -> Any:
    return TimeAndMaterialsTerms(ids.ObligationId("OB-TM"), name, currency, ids.RateCardId("RC-EU"))


def contract() -> Contract:
    return Contract(
        ids.ContractId("CON-1"),
        ids.CustomerId("acme"),
        ids.LegalEntityId("tl-uk"),
        EUR,
        "Transformation",
    )


def contract_with_sow() -> Contract:
    c = contract()
    c.draft_version(JAN_1, [tm_terms("SOW rates")])
    c.approve_version(1, "cfo@client", AT)
    return c


def test_an_approved_sow_is_in_force_from_its_effective_date() -> None:
    c = contract_with_sow()
    sow = c.versions[0]
    assert (sow.state, sow.label, sow.approved_by) == (VS.APPROVED, "SOW", "cfo@client")
    assert c.version_in_force(JAN_1) is sow
    assert c.events == [
        ContractVersionApproved(ids.ContractId("CON-1"), 1, JAN_1, "cfo@client", AT)
    ]
    with pytest.raises(NoTermsInForceError, match="2025-12-31"):
        c.version_in_force(date(2025, 12, 31))


def test_a_draft_is_never_in_force() -> None:
    c = contract()
    c.draft_version(JAN_1, [tm_terms()])
    with pytest.raises(NoTermsInForceError):
        c.version_in_force(APR_1)


def test_a_draft_can_be_revised() -> None:
    c = contract()
    draft = c.draft_version(JAN_1, [tm_terms()])
    draft.revise([tm_terms("renamed")])
    assert draft.obligation(ids.ObligationId("OB-TM")).name == "renamed"


def test_an_approved_version_is_never_revised() -> None:
    c = contract_with_sow()
    sow = c.versions[0]
    with pytest.raises(ImmutableVersionError, match="new version") as refused:
        sow.revise([tm_terms("sneaky edit")])
    assert refused.value.code == "immutable_version"
    assert sow.obligation(ids.ObligationId("OB-TM")).name == "SOW rates"


def test_superseded_and_terminated_versions_are_never_revised() -> None:
    c = contract_with_sow()
    c.draft_version(APR_1, [tm_terms("amended")])
    c.approve_version(2, "cfo@client", AT)
    c.terminate(JUN_30, AT)
    assert [v.state for v in c.versions] == [VS.SUPERSEDED, VS.TERMINATED]
    for version in c.versions:
        with pytest.raises(ImmutableVersionError):
            version.revise([tm_terms("sneaky edit")])


def test_an_amendment_supersedes_the_sow_only_from_its_effective_date() -> None:
    c = contract_with_sow()
    sow = c.versions[0]
    amendment = c.draft_version(APR_1, [tm_terms("amended rates")])
    assert amendment.label == "Amendment 1"
    assert c.version_in_force(APR_1) is sow, "a draft amendment governs nothing"
    c.approve_version(2, "cfo@client", AT)
    assert sow.state is VS.SUPERSEDED
    assert c.version_in_force(date(2026, 3, 31)) is sow
    assert c.version_in_force(APR_1) is amendment
    assert c.version_in_force(date(2027, 1, 1)) is amendment
    history = c.obligation_history(ids.ObligationId("OB-TM"))
    assert history.on(date(2026, 3, 31)).terms.name == "SOW rates"  # type: ignore[union-attr]
    assert history.on(APR_1).terms.name == "amended rates"  # type: ignore[union-attr]


def test_an_amendment_dated_before_the_version_it_supersedes_is_refused() -> None:
    c = contract_with_sow()
    c.draft_version(date(2025, 12, 1), [tm_terms("backdated")])
    revision = c.revision
    with pytest.raises(InvalidTermsError, match="before version 1"):
        c.approve_version(2, "cfo@client", AT)
    assert [v.state for v in c.versions] == [VS.APPROVED, VS.DRAFT]
    assert c.revision == revision
    assert c.version_in_force(JAN_1) is c.versions[0]


def test_an_amendment_effective_the_same_day_replaces_the_sow_entirely() -> None:
    c = contract_with_sow()
    same_day = c.draft_version(JAN_1, [tm_terms("corrected")])
    c.approve_version(2, "cfo@client", AT)
    assert c.version_in_force(JAN_1) is same_day


def test_an_approved_version_is_not_approved_again() -> None:
    c = contract_with_sow()
    with pytest.raises(IllegalTransitionError, match="'approved' cannot 'approve'"):
        c.approve_version(1, "cfo@client", AT)


def test_a_terminated_contract_has_no_terms_after_its_end() -> None:
    c = contract_with_sow()
    c.terminate(JUN_30, AT)
    assert c.versions[0].state is VS.TERMINATED
    assert c.version_in_force(JUN_30) is c.versions[0]
    assert c.version_in_force(date(2026, 2, 1)) is c.versions[0]
    with pytest.raises(NoTermsInForceError, match="2026-07-01"):
        c.version_in_force(date(2026, 7, 1))
    assert c.events[-1] == ContractTerminated(ids.ContractId("CON-1"), 1, JUN_30, AT)


def test_a_contract_with_no_approved_version_cannot_be_terminated() -> None:
    c = contract()
    c.draft_version(JAN_1, [tm_terms()])
    with pytest.raises(NoTermsInForceError):
        c.terminate(JUN_30, AT)


def test_an_obligation_in_another_currency_is_refused() -> None:
    c = contract()
    with pytest.raises(CurrencyMismatchError, match="USD"):
        c.draft_version(JAN_1, [tm_terms(currency=USD)])
    assert c.versions == []


def test_obligation_ids_do_not_repeat_in_one_version() -> None:
    with pytest.raises(InvalidTermsError, match="repeat"):
        contract().draft_version(JAN_1, [tm_terms("a"), tm_terms("b")])


def test_an_obligation_is_named_in_a_new_version_and_a_revised_draft() -> None:
    unnamed = attrs.evolve(tm_terms(), name="  ")
    with pytest.raises(InvalidTermsError, match="blank name"):
        contract().draft_version(JAN_1, [unnamed])
    draft = contract().draft_version(JAN_1, [tm_terms()])
    with pytest.raises(InvalidTermsError, match="blank name"):
        draft.revise([unnamed])
    assert draft.obligations == (tm_terms(),)


# Rate cards ===================================================================================

CONSULTANT, ARCHITECT = ids.Role("consultant"), ids.Role("architect")
ANNA, BEN = ids.ResourceId("R-ANNA"), ids.ResourceId("R-BEN")


def rate_card() -> RateCard:
    card = RateCard(ids.RateCardId("RC-EU"), "Europe 2026", EUR)
    card.publish(
        RateCardVersion(
            1,
            JAN_1,
            EUR,
            {CONSULTANT: Decimal("150.00"), ARCHITECT: Decimal("200.00")},
            {ANNA: Decimal("175.00")},
        )
    )
    card.publish(RateCardVersion(2, APR_1, EUR, {CONSULTANT: Decimal("165.00")}))
    return card


def test_work_is_priced_at_the_version_in_force_on_the_work_date_not_the_billing_date() -> None:
    card = rate_card()
    work_date, billing_date = date(2026, 3, 31), date(2026, 4, 15)
    assert card.rate_for(CONSULTANT, BEN, work_date) == (Money.of("150.00", "EUR"), 1)
    assert card.rate_for(CONSULTANT, BEN, billing_date) == (Money.of("165.00", "EUR"), 2)


def test_a_resource_override_beats_the_role_rate() -> None:
    card = rate_card()
    assert card.rate_for(CONSULTANT, ANNA, date(2026, 2, 1)) == (Money.of("175.00", "EUR"), 1)
    assert card.rate_for(ARCHITECT, ANNA, date(2026, 2, 1))[0] == Money.of("175.00", "EUR")
    assert card.rate_for(CONSULTANT, None, date(2026, 2, 1))[0] == Money.of("150.00", "EUR")


def test_an_override_belongs_to_its_version_only() -> None:
    card = rate_card()
    assert card.rate_for(CONSULTANT, ANNA, APR_1) == (Money.of("165.00", "EUR"), 2)


def test_a_role_missing_from_the_version_in_force_has_no_rate() -> None:
    card = rate_card()
    with pytest.raises(RateNotFoundError, match="architect"):
        card.rate_for(ARCHITECT, BEN, APR_1)


def test_there_is_no_rate_before_the_first_version() -> None:
    with pytest.raises(NoTermsInForceError):
        rate_card().rate_for(CONSULTANT, None, date(2025, 12, 31))


def test_a_later_version_with_the_same_date_wins() -> None:
    card = rate_card()
    card.publish(RateCardVersion(3, APR_1, EUR, {CONSULTANT: Decimal("160.00")}))
    assert card.rate_for(CONSULTANT, None, APR_1) == (Money.of("160.00", "EUR"), 3)


@pytest.mark.parametrize("number", [1, 2, 4], ids=["republish v1", "republish v2", "skip v3"])
def test_versions_are_published_in_order_and_never_replaced(number: int) -> None:
    card = rate_card()
    with pytest.raises(ImmutableVersionError, match="expects version 3"):
        card.publish(RateCardVersion(number, date(2026, 7, 1), EUR, {CONSULTANT: Decimal(1)}))
    assert [v.version for v in card.versions] == [1, 2]
    assert card.revision == 2


def test_a_version_in_another_currency_is_refused() -> None:
    card = rate_card()
    with pytest.raises(CurrencyMismatchError, match="USD"):
        card.publish(RateCardVersion(3, date(2026, 7, 1), USD, {CONSULTANT: Decimal("180")}))
    assert len(card.versions) == 2


def test_a_published_version_cannot_be_edited() -> None:
    source = {CONSULTANT: Decimal("150.00")}
    version = RateCardVersion(1, JAN_1, EUR, source)
    source[CONSULTANT] = Decimal("999")
    assert version.role_rates[CONSULTANT] == Decimal("150.00")
    with pytest.raises(TypeError):
        version.role_rates[CONSULTANT] = Decimal("999")  # type: ignore[index]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        version.effective_from = APR_1  # type: ignore[misc]


def test_a_negative_rate_is_refused() -> None:
    with pytest.raises(InvalidTermsError):
        RateCardVersion(1, JAN_1, EUR, {CONSULTANT: Decimal("-1")})


# Credit memos =================================================================================

CS, CT = CreditMemoState, CreditMemoTrigger

# By hand: draft → approved (maker-checker) → issued; an unissued credit can be discarded.
MEMO_EXPECTED: dict[tuple[CreditMemoState, CreditMemoTrigger], CreditMemoState] = {
    (CS.DRAFT, CT.APPROVE): CS.APPROVED,
    (CS.APPROVED, CT.ISSUE): CS.ISSUED,
    (CS.DRAFT, CT.DISCARD): CS.DISCARDED,
    (CS.APPROVED, CT.DISCARD): CS.DISCARDED,
}
MEMO_PAIRS = [(s, t) for s in CS for t in CT]
MEMO_FINAL = (CS.ISSUED, CS.DISCARDED)


TE_1 = SourceRef(SourceKind.TIME_ENTRY, "TE-1")
OPEN = PeriodLock()


def issued_invoice() -> Invoice:
    """One line: 8 h at 100.00 = 800.00, VAT 20 %: gross 960.00."""
    price = Money.of("100.00", "EUR")
    lines = (
        DocumentLine(
            1,
            ids.ObligationId("OB-TM"),
            LineKind.TIME,
            "Consulting",
            Decimal("8"),
            price,
            Money.of("800.00", "EUR"),
            "VAT20",
            (Allocation(TE_1, Decimal("8"), Money.of("800.00", "EUR")),),
        ),
    )
    totals = DocumentTotals.of(lines, EUR, {"VAT20": Decimal("0.20")})
    invoice = drafted_invoice("INV-1", lines, totals, "maker", AT)
    invoice.approve("checker", AT)
    invoice.issue("2026-0001", date(2026, 4, 2), AT, OPEN)
    return invoice


def draft_memo(invoice: Invoice, hours: str = "3") -> CreditMemo:
    return CreditMemo.against(
        ids.CreditMemoId("CM-1"),
        invoice,
        [CreditRequest(1, TE_1, Decimal(hours))],
        "3 h not delivered",
        "maker",
    )


MEMO_CALLS: dict[CreditMemoTrigger, Callable[[CreditMemo, Invoice], None]] = {
    CT.APPROVE: lambda m, _i: m.approve("checker", AT),
    CT.ISSUE: lambda m, i: m.issue(i, "CN-0001", date(2026, 4, 3), AT, OPEN),
    CT.DISCARD: lambda m, i: m.discard(i, "drafted in error"),
}
MEMO_PATHS: dict[CreditMemoState, list[CreditMemoTrigger]] = {
    CS.DRAFT: [],
    CS.APPROVED: [CT.APPROVE],
    CS.ISSUED: [CT.APPROVE, CT.ISSUE],
    CS.DISCARDED: [CT.DISCARD],
}


def memo_snapshot(memo: CreditMemo, invoice: Invoice) -> tuple[object, ...]:
    return (
        memo.state,
        memo.revision,
        memo.number,
        len(memo.events),
        invoice.state,
        invoice.revision,
        invoice.amount_credited,
        dict(invoice.credit_reservations),
    )


@pytest.mark.parametrize(("state", "trigger"), MEMO_PAIRS, ids=named)
def test_each_credit_memo_method_moves_it_only_along_a_legal_transition(
    state: CreditMemoState, trigger: CreditMemoTrigger
) -> None:
    invoice = issued_invoice()
    memo = draft_memo(invoice)
    for step in MEMO_PATHS[state]:
        MEMO_CALLS[step](memo, invoice)
    assert memo.state is state
    before = memo_snapshot(memo, invoice)
    revision = memo.revision
    if (state, trigger) in MEMO_EXPECTED:
        MEMO_CALLS[trigger](memo, invoice)
        assert memo.state is MEMO_EXPECTED[(state, trigger)]
        assert memo.revision == revision + 1
    else:
        with pytest.raises(DomainError):
            MEMO_CALLS[trigger](memo, invoice)
        assert memo_snapshot(memo, invoice) == before, "a refused call changed something"


def test_an_issued_credit_reduces_what_the_invoice_owes_and_releases_its_hours() -> None:
    invoice = issued_invoice()
    memo = draft_memo(invoice)
    memo.approve("checker", AT)
    memo.issue(invoice, "CN-0001", date(2026, 4, 3), AT, OPEN)
    assert memo.totals.gross == Money.of("360.00", "EUR")
    assert invoice.outstanding == Money.of("600.00", "EUR")
    assert memo.events == [
        CreditMemoIssued(
            ids.CreditMemoId("CM-1"),
            ids.InvoiceId("INV-1"),
            "CN-0001",
            Money.of("360.00", "EUR"),
            AT,
        )
    ]
    [released] = memo.ledger_entries()
    assert (released.source, released.quantity, released.write_off) == (
        TE_1,
        Decimal("-3"),
        False,
    )


def test_a_draft_credit_reserves_its_hours_and_a_discard_gives_them_back() -> None:
    invoice = issued_invoice()
    memo = draft_memo(invoice, "5")
    assert invoice.creditable(1, TE_1)[0] == Decimal("3")
    assert memo.ledger_entries() == []
    memo.discard(invoice, "hours confirmed after all")
    assert invoice.creditable(1, TE_1) == (Decimal("8"), Decimal("800.00"))


def test_a_credit_memo_dated_in_a_closed_period_is_not_issued() -> None:
    invoice = issued_invoice()
    memo = draft_memo(invoice)
    memo.approve("checker", AT)
    april_closed = PeriodLock(frozenset({Period.month(2026, 4)}))
    with pytest.raises(PeriodClosedError):
        memo.issue(invoice, "CN-0001", date(2026, 4, 30), AT, april_closed)
    assert memo.state is CS.APPROVED
    assert invoice.amount_credited == Money.zero(EUR)


def test_a_credit_memo_is_issued_only_against_its_own_invoice() -> None:
    invoice, other = issued_invoice(), issued_invoice()
    other.invoice_id = ids.InvoiceId("INV-2")
    memo = draft_memo(invoice)
    memo.approve("checker", AT)
    with pytest.raises(DomainError, match="not for INV-2"):
        memo.issue(other, "CN-0001", date(2026, 4, 3), AT, OPEN)
    assert memo.state is CS.APPROVED


def test_a_version_diff_names_the_obligations_added_removed_and_changed() -> None:
    from tests.support.builders import contract as make_contract

    eur = Currency.of("EUR")
    a = TimeAndMaterialsTerms(ids.ObligationId("a"), "A", eur, ids.RateCardId("RC"))
    b = TimeAndMaterialsTerms(ids.ObligationId("b"), "B", eur, ids.RateCardId("RC"))
    b2 = TimeAndMaterialsTerms(ids.ObligationId("b"), "B", eur, ids.RateCardId("PREMIUM"))
    c_ = TimeAndMaterialsTerms(ids.ObligationId("c"), "C", eur, ids.RateCardId("RC"))
    contract = make_contract([a, b])
    contract.draft_version(date(2026, 6, 1), [b2, c_])
    diff = contract.diff(1, 2)
    assert (diff.added, diff.removed, diff.changed) == (("c",), ("a",), ("b",))
    assert contract.diff(1, 1).is_empty
