"""Natural keys on the in-memory adapters: a payment (or a numbered dispute) is recorded once
per source id; the same fact again is a replay with no effect, the same id with other content
a conflict that names the field (ADR 0024)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from application import commands as c
from application.context import RequestContext
from application.errors import ConflictError, DownstreamUnavailableError
from application.natural_keys import (
    DISPUTE,
    PAYMENT,
    Admission,
    FactKind,
    NaturalKeyConflictError,
    admit,
    canonical,
)
from domain.errors import IllegalTransitionError
from domain.ids import DisputeId, InvoiceId, PaymentId
from domain.invoice import Invoice, InvoiceState, OverpaymentError
from domain.money import Currency, Money
from domain.period import Period
from tests.unit.application.conftest import (
    EUR,
    App,
    in_memory_app,
    set_up_tm_contract,
    start_clock,
    time_entry,
)

MARCH = Period.month(2026, 3)
RECEIVED = date(2026, 4, 20)


def eur(text: str) -> Money:
    return Money(Decimal(text), EUR)


def issued(app: App) -> InvoiceId:
    """March's 12 h invoiced and issued, nothing paid yet; the clock on 21 April, after the
    day the payments arrive."""
    set_up_tm_contract(app)
    app.clock.advance(days=31)  # 1 April: March's work is in
    worked = (time_entry("t1", date(2026, 3, 2), "8"), time_entry("t2", date(2026, 3, 3), "4"))
    app.do(c.RecordTimeEntries(worked))
    (invoice_id,) = app.do(c.RunBilling(MARCH, dry_run=False), actor="billing-clerk").invoice_ids
    app.do(c.ApproveInvoice(InvoiceId(invoice_id)), actor="finance-lead")
    app.do(c.IssueInvoice(InvoiceId(invoice_id), date(2026, 3, 31)), actor="finance-lead")
    app.clock.advance(days=20)
    return InvoiceId(invoice_id)


def invoice(app: App, invoice_id: InvoiceId) -> Invoice:
    found: Invoice = app.data.aggregates["invoice"][invoice_id]
    return found


def pay(
    app: App,
    invoice_id: InvoiceId,
    payment_id: str,
    amount: str,
    on: date = RECEIVED,
    actor: str = "erp-connector",
) -> None:
    app.do(c.RecordPayment(invoice_id, PaymentId(payment_id), eur(amount), on), actor=actor)


def payments_posted(app: App) -> int:
    return sum(1 for r in app.data.audit if r.action == "record_payment")


# Payments ---------------------------------------------------------------------------------


def test_the_same_erp_payment_sent_twice_is_applied_once(app: App) -> None:
    invoice_id = issued(app)
    pay(app, invoice_id, "PAY-1", "40.00")
    audit, outbox, journal = len(app.data.audit), len(app.data.outbox), len(app.data.journal)

    pay(app, invoice_id, "PAY-1", "40.00", actor="ar-clerk")  # another channel, another caller

    assert invoice(app, invoice_id).amount_paid == eur("40.00")
    assert (len(app.data.audit), len(app.data.outbox), len(app.data.journal)) == (
        audit,
        outbox,
        journal,
    )
    assert payments_posted(app) == 1


def test_an_amount_written_without_its_decimals_is_the_same_payment(app: App) -> None:
    invoice_id = issued(app)
    pay(app, invoice_id, "PAY-1", "40.00")
    pay(app, invoice_id, "PAY-1", "40")
    assert invoice(app, invoice_id).amount_paid == eur("40.00")


def test_the_same_payment_id_with_another_amount_is_a_conflict_that_names_the_amount(
    app: App,
) -> None:
    invoice_id = issued(app)
    pay(app, invoice_id, "PAY-1", "2.00")
    audit = len(app.data.audit)

    with pytest.raises(NaturalKeyConflictError) as conflict:
        pay(app, invoice_id, "PAY-1", "20.00")

    error = conflict.value
    assert isinstance(error, ConflictError)
    assert (error.code, error.field, error.recorded, error.received) == (
        "natural_key_conflict",
        "amount",
        "2.00",
        "20.00",
    )
    assert "amount '2.00', not '20.00'" in str(error)
    assert invoice(app, invoice_id).amount_paid == eur("2.00")
    assert len(app.data.audit) == audit


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"invoice_id": "INV-OTHER"}, "invoice_id"),
        ({"on": date(2026, 4, 19)}, "received_on"),
    ],
)
def test_the_conflict_names_the_first_field_that_differs(
    app: App, change: dict[str, object], field: str
) -> None:
    invoice_id = issued(app)
    pay(app, invoice_id, "PAY-1", "2.00")
    target = InvoiceId(str(change.get("invoice_id", invoice_id)))
    on = change.get("on", RECEIVED)
    assert isinstance(on, date)
    with pytest.raises(NaturalKeyConflictError) as conflict:
        pay(app, target, "PAY-1", "2.00", on=on)
    assert conflict.value.field == field


def test_the_currency_is_part_of_the_payment(app: App) -> None:
    invoice_id = issued(app)
    pay(app, invoice_id, "PAY-1", "2.00")
    in_dollars = Money(Decimal("2.00"), Currency.of("USD"))
    with pytest.raises(NaturalKeyConflictError) as conflict:
        app.do(c.RecordPayment(invoice_id, PaymentId("PAY-1"), in_dollars, RECEIVED))
    assert conflict.value.field == "currency"


def test_a_refused_payment_leaves_no_key_so_a_corrected_one_goes_through(app: App) -> None:
    invoice_id = issued(app)
    with pytest.raises(OverpaymentError):
        pay(app, invoice_id, "PAY-1", "9999.00")
    assert app.data.natural_keys == {}
    pay(app, invoice_id, "PAY-1", "99.00")
    assert invoice(app, invoice_id).amount_paid == eur("99.00")


def test_different_payments_on_one_invoice_each_count(app: App) -> None:
    invoice_id = issued(app)
    for payment_id, amount in (("PAY-1", "1.00"), ("PAY-2", "1.00"), ("PAY-3", "3.00")):
        pay(app, invoice_id, payment_id, amount)
    pay(app, invoice_id, "PAY-1", "1.00")
    pay(app, invoice_id, "PAY-2", "1.00")
    assert invoice(app, invoice_id).amount_paid == eur("5.00")  # 1 + 1 + 3, once each


def test_the_first_recording_keeps_when_by_whom_and_under_which_correlation(app: App) -> None:
    invoice_id = issued(app)
    app.bus.handle(
        c.RecordPayment(invoice_id, PaymentId("PAY-1"), eur("40.00"), RECEIVED),
        RequestContext("erp-connector", "corr-first"),
    )
    app.bus.handle(
        c.RecordPayment(invoice_id, PaymentId("PAY-1"), eur("40.00"), RECEIVED),
        RequestContext("ar-clerk", "corr-second"),
    )
    first = app.data.natural_keys[("payment", "erp", "PAY-1")]
    assert (first.actor, first.correlation_id, first.recorded_at) == (
        "erp-connector",
        "corr-first",
        app.clock.now(),
    )
    assert dict(first.fact.content) == {
        "invoice_id": invoice_id,
        "amount": "40.00",
        "currency": "EUR",
        "received_on": "2026-04-20",
    }


def test_a_replay_makes_good_a_notification_that_failed_after_the_payment(app: App) -> None:
    invoice_id = issued(app)
    app.crm.available = False
    with pytest.raises(DownstreamUnavailableError):
        pay(app, invoice_id, "PAY-1", "40.00")  # committed, then the CRM did not answer
    assert invoice(app, invoice_id).amount_paid == eur("40.00")
    assert "PAY-1:crm" not in app.crm.updates

    app.crm.available = True
    pay(app, invoice_id, "PAY-1", "40.00")

    assert invoice(app, invoice_id).amount_paid == eur("40.00")
    assert app.crm.updates["PAY-1:crm"][1] == "payment_received"
    assert payments_posted(app) == 1


# Disputes ---------------------------------------------------------------------------------


def dispute(app: App, invoice_id: InvoiceId, reason: str, dispute_id: str | None) -> None:
    number = DisputeId(dispute_id) if dispute_id is not None else None
    app.do(c.OpenDispute(invoice_id, reason, number), actor="webhook:billing")


def test_a_numbered_dispute_sent_again_is_one_dispute(app: App) -> None:
    invoice_id = issued(app)
    dispute(app, invoice_id, "March hours", "DSP-7")
    dispute(app, invoice_id, "March hours", "DSP-7")
    assert invoice(app, invoice_id).state is InvoiceState.DISPUTED
    assert sum(1 for r in app.data.audit if r.action == "dispute") == 1
    assert [kind for _, kind, _ in app.crm.updates.values()].count("invoice_disputed") == 1


def test_a_numbered_dispute_arriving_late_does_not_reopen_a_resolved_one(app: App) -> None:
    invoice_id = issued(app)
    dispute(app, invoice_id, "March hours", "DSP-7")
    app.do(c.ResolveDispute(invoice_id, "hours confirmed"), actor="ar-clerk")
    dispute(app, invoice_id, "March hours", "DSP-7")  # the platform's late re-delivery
    assert invoice(app, invoice_id).state is InvoiceState.ISSUED


def test_the_same_dispute_id_with_another_reason_is_a_conflict_naming_the_reason(
    app: App,
) -> None:
    invoice_id = issued(app)
    dispute(app, invoice_id, "March hours", "DSP-7")
    with pytest.raises(NaturalKeyConflictError) as conflict:
        dispute(app, invoice_id, "April hours", "DSP-7")
    assert conflict.value.field == "reason"


def test_a_dispute_without_an_id_is_refused_by_the_lifecycle_when_repeated(app: App) -> None:
    invoice_id = issued(app)
    dispute(app, invoice_id, "March hours", None)
    with pytest.raises(IllegalTransitionError):
        dispute(app, invoice_id, "March hours", None)
    assert app.data.natural_keys == {}


# The mechanism ----------------------------------------------------------------------------


def test_kinds_and_sources_do_not_collide() -> None:
    store, clock = InMemoryStore(), start_clock()
    ctx = RequestContext("tester", "corr")
    facts = [
        PAYMENT.fact("X-1", amount=eur("1.00")),
        DISPUTE.fact("X-1", amount=eur("2.00")),
        FactKind("payment", "billing").fact("X-1", amount=eur("3.00")),
    ]
    with InMemoryUnitOfWork(store, ctx, clock.now) as uow:
        admissions = [admit(uow, fact, ctx, clock.now()) for fact in facts]
        replay = admit(uow, PAYMENT.fact("X-1", amount=eur("1.00")), ctx, clock.now())
        uow.commit()
    assert admissions == [Admission.NEW] * 3
    assert replay is Admission.REPLAY
    assert len(store.data.natural_keys) == 3


def test_a_field_only_one_side_has_is_a_difference() -> None:
    fact = PAYMENT.fact("X-1", amount=eur("1.00"))
    assert fact.first_difference({"amount": "1.00"}) is None
    assert fact.first_difference({"amount": "1.00", "note": "x"}) == "note"
    assert PAYMENT.fact("X-1").first_difference({"amount": "1.00"}) == "amount"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Money(Decimal("20"), EUR), "20.00"),
        (Money(Decimal("20.000"), EUR), "20.00"),
        (Money(Decimal("0.001"), EUR), "0.001"),  # more digits than the currency stay as sent
        (Money(Decimal("1500"), Currency.of("JPY")), "1500"),
        (Decimal("8.50"), "8.5"),
        (Decimal("1E+2"), "100"),
        (date(2026, 4, 20), "2026-04-20"),
        ("INV-1", "INV-1"),
    ],
)
def test_content_is_compared_in_one_canonical_text(value: object, text: str) -> None:
    assert canonical(value) == text  # type: ignore[arg-type]


# The money rule, as a property ------------------------------------------------------------

_POSTS = st.lists(
    st.tuples(st.sampled_from(["P1", "P2", "P3", "P4"]), st.sampled_from(["10.00", "25.5", "40"])),
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(posts=_POSTS)
def test_paid_is_the_sum_of_each_distinct_payment_once_whatever_is_repeated(
    posts: list[tuple[str, str]],
) -> None:
    app = in_memory_app()
    invoice_id = issued(app)
    owed = invoice(app, invoice_id).outstanding
    first: dict[str, Money] = {}
    for payment_id, amount in posts:
        known = first.get(payment_id)
        if known is not None and known != eur(amount):
            with pytest.raises(NaturalKeyConflictError) as conflict:
                pay(app, invoice_id, payment_id, amount)
            assert conflict.value.field == "amount"
        else:
            pay(app, invoice_id, payment_id, amount)
            first.setdefault(payment_id, eur(amount))
        paid = Money(sum((m.amount for m in first.values()), Decimal(0)), EUR)
        assert invoice(app, invoice_id).amount_paid == paid
        assert invoice(app, invoice_id).outstanding == owed - paid
    assert payments_posted(app) == len(first)


# Milestone completions numbered by the PSA ------------------------------------------------------


def planned_milestone(app: App) -> None:
    from domain.ids import MilestoneId, ObligationId
    from domain.milestone_billing import MilestoneSpec, MilestoneTerms
    from tests.unit.application.conftest import set_up_tm_contract, sign_contract

    set_up_tm_contract(app)
    terms = MilestoneTerms(
        ObligationId("ms"), "Programme", Currency.of("EUR"), Decimal("1000.00"),
        (MilestoneSpec(MilestoneId("M1"), "Design", percentage=Decimal("100"), final=True),),
    )  # fmt: skip
    sign_contract(app, "E2", "C2", "Programme", [terms])


def complete(app: App, completion_id: str | None, evidence: str = "design pack signed") -> None:
    from domain.ids import MilestoneId

    app.do(
        c.CompleteMilestone(MilestoneId("M1"), evidence, date(2026, 3, 2), completion_id),
        actor="psa",
    )


def milestone_state(app: App) -> str:
    return str(app.data.aggregates["milestone"]["M1"].state.value)


def test_a_numbered_completion_sent_again_after_a_rejection_does_not_complete_it_again(
    app: App,
) -> None:
    from domain.ids import MilestoneId

    planned_milestone(app)
    complete(app, "PSA-COMP-1")
    app.do(c.RejectMilestone(MilestoneId("M1"), "the pack is incomplete"), actor="client")
    audit_before = len(app.data.audit)
    complete(app, "PSA-COMP-1")  # the PSA's retry of the first completion
    assert milestone_state(app) == "rejected"
    assert len(app.data.audit) == audit_before  # a replay: nothing happened
    complete(app, "PSA-COMP-2", "design pack v2 signed")  # a new completion is one
    assert milestone_state(app) == "completed"


def test_the_same_completion_id_with_other_evidence_is_a_conflict_naming_it(app: App) -> None:
    planned_milestone(app)
    complete(app, "PSA-COMP-1")
    with pytest.raises(NaturalKeyConflictError) as refused:
        complete(app, "PSA-COMP-1", "something else")
    assert refused.value.field == "evidence"


def test_a_completion_without_an_id_is_refused_by_the_lifecycle_when_repeated(app: App) -> None:
    planned_milestone(app)
    complete(app, None)
    with pytest.raises(IllegalTransitionError):
        complete(app, None)
