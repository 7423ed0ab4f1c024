"""The commercial set-up commands: rate-card changes under maker-checker, the engagement's
lifecycle moves (audited with their reasons), one engagement per contract, and a tax profile
the ERP pushed standing in for one its customer record lacks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import attrs
import pytest

from application import commands as c
from application.errors import ConflictError
from application.handlers import create_bus
from application.journal import SetChartOfAccounts
from application.legal_entities import LegalEntityRecord
from application.records import IntegrationException
from domain.chart_of_accounts import ChartOfAccounts, ChartsOfAccounts
from domain.engagement import (
    ContractCustomerMismatchError,
    EngagementState,
    FinalBillingPendingError,
)
from domain.errors import IllegalTransitionError, MakerCheckerError
from domain.fixed_fee import FixedFeeTerms, Installment
from domain.ids import (
    ContractId,
    CustomerId,
    EngagementId,
    InstallmentId,
    InvoiceId,
    ObligationId,
    RateCardId,
    Role,
)
from domain.period import Period
from domain.ratecard import RateCardVersion
from domain.tax import CategoryCode, TaxProfile
from tests.support.documents import SELLER
from tests.unit.application.conftest import (
    CUSTOMER,
    ENTITY,
    EUR,
    App,
    complete_record,
    set_up_tm_contract,
    time_entry,
)
from tests.unit.application.test_journal_posting import CHARTS

RC = RateCardId("RC")
E1 = EngagementId("E1")
C1 = ContractId("C1")
OTHER = CustomerId("someone-else")
FEE = FixedFeeTerms(
    ObligationId("ff"),
    "Implementation",
    EUR,
    Decimal("1000.00"),
    (Installment(InstallmentId("ff-1"), date(2026, 3, 31), Decimal("100")),),
)


def version(number: int, rate: str) -> RateCardVersion:
    return RateCardVersion(number, date(2026, 1, 1), EUR, {Role("consultant"): Decimal(rate)})


def test_a_rate_card_version_is_proposed_by_one_person_and_approved_by_another(app: App) -> None:
    app.do(c.CreateRateCard(RC, "UK", "EUR"))
    app.do(c.ProposeRateCardVersion(RC, version(1, "100")), actor="maker")
    with pytest.raises(MakerCheckerError):
        app.do(c.ApproveRateCardVersion(RC, 1), actor="maker")
    assert app.data.aggregates["rate_card"]["RC"].versions == []
    app.do(c.ApproveRateCardVersion(RC, 1), actor="checker")
    card = app.data.aggregates["rate_card"]["RC"]
    assert [v.version for v in card.versions] == [1]
    trail = [(r.subject, r.action, r.before, r.after, r.actor) for r in app.data.audit]
    assert trail == [
        ("rate_card:RC", "propose", None, "v1:proposed", "maker"),
        ("rate_card:RC", "approve", "v1:proposed", "v1", "checker"),
    ]


def test_the_engagement_lifecycle_moves_are_audited_with_their_reasons(app: App) -> None:
    set_up_tm_contract(app)
    app.do(c.SuspendEngagement(E1, "  client budget freeze "), actor="dm")
    app.do(c.ResumeEngagement(E1), actor="dm")
    app.do(c.StartClosingEngagement(E1, date(2026, 6, 30)), actor="dm")
    app.do(c.CloseEngagement(E1), actor="dm")
    engagement = app.data.aggregates["engagement"]["E1"]
    assert (engagement.state, engagement.close_date) == (EngagementState.CLOSED, date(2026, 6, 30))
    moves = [
        (r.action, r.before, r.after, r.reason)
        for r in app.data.audit
        if r.subject == "engagement:E1" and r.actor == "dm"
    ]
    assert moves == [
        ("suspend", "active", "suspended", "client budget freeze"),
        ("resume", "suspended", "active", ""),
        ("start_closing", "active", "closing", "close date 2026-06-30"),
        ("close", "closing", "closed", ""),
    ]


def test_a_refused_move_changes_nothing_and_records_nothing(app: App) -> None:
    set_up_tm_contract(app)
    before = len(app.data.audit)
    with pytest.raises(IllegalTransitionError):
        app.do(c.CancelEngagement(E1, "deal lost"))
    assert app.data.aggregates["engagement"]["E1"].state is EngagementState.ACTIVE
    assert len(app.data.audit) == before


def test_an_engagement_closes_only_once_nothing_is_left_to_bill_or_to_decide(app: App) -> None:
    """Closed, an engagement is left out of every billing run: approved work still unbilled,
    a draft not issued or an item still held would be lost, neither billed nor leakage."""
    set_up_tm_contract(app)
    march = Period.month(2026, 3)
    app.do(c.RecordTimeEntries((time_entry("t1", date(2026, 3, 2), "8"),)))
    app.do(c.StartClosingEngagement(E1, date(2026, 3, 31)), actor="dm")

    def refusal() -> str:
        with pytest.raises(FinalBillingPendingError) as refused:
            app.do(c.CloseEngagement(E1), actor="dm")
        assert app.data.aggregates["engagement"]["E1"].state is EngagementState.CLOSING
        return str(refused.value)

    assert refusal().endswith("would still draft 1 document(s) (960.00 EUR): run the billing first")
    (draft,) = app.do(c.RunBilling(march, dry_run=False), actor="billing-clerk").invoice_ids
    assert refusal().endswith(f"invoice(s) {draft} are drafted and neither issued nor discarded")
    app.do(c.ApproveInvoice(InvoiceId(draft)), actor="finance-lead")
    app.do(c.IssueInvoice(InvoiceId(draft), date(2026, 3, 31)), actor="finance-lead")
    app.do(c.RecordTimeEntries((time_entry("t2", date(2026, 3, 30), "4"),)))
    app.do(c.HoldItem("t2", Decimal("4"), "over_cap"))
    assert refusal().endswith("wait for approval or for a decision on a hold (approve, reject, "
                              "release or write them off)")  # fmt: skip
    app.do(c.WriteOffItem("t2", "goodwill", Decimal("4")))
    app.do(c.CloseEngagement(E1), actor="dm")
    assert app.data.aggregates["engagement"]["E1"].state is EngagementState.CLOSED


def test_a_proposed_engagement_is_cancelled_with_its_reason(app: App) -> None:
    app.do(c.ProposeEngagement(EngagementId("E9"), CUSTOMER, ContractId("C9")))
    app.do(c.CancelEngagement(EngagementId("E9"), "deal lost at signature"))
    assert app.data.aggregates["engagement"]["E9"].state is EngagementState.CANCELLED
    assert app.data.audit[-1].reason == "deal lost at signature"


def test_a_contract_belongs_to_one_engagement(app: App) -> None:
    app.do(c.ProposeEngagement(E1, CUSTOMER, ContractId("C1")))
    with pytest.raises(ConflictError, match="already belongs to engagement E1"):
        app.do(c.ProposeEngagement(EngagementId("E2"), CUSTOMER, ContractId("C1")))
    assert list(app.data.aggregates["engagement"]) == ["E1"]


def test_a_deal_won_on_an_approved_contract_is_contracted_and_set_up_at_once(app: App) -> None:
    app.master.records[(CUSTOMER, ENTITY)] = complete_record()
    app.do(c.RegisterContract(C1, CUSTOMER, ENTITY, "EUR", "Advisory"), actor="clm")
    app.do(c.DraftContractVersion(C1, date(2026, 1, 1), (FEE,)), actor="clm")
    app.do(c.ApproveContractVersion(C1, 1), actor="legal")
    app.do(c.ProposeEngagement(E1, CUSTOMER, C1), actor="crm")
    engagement = app.data.aggregates["engagement"]["E1"]
    assert engagement.state is EngagementState.ACTIVE
    assert app.projects.calls == 1


def test_a_deal_won_on_a_contract_still_in_draft_waits_for_its_approval(app: App) -> None:
    app.master.records[(CUSTOMER, ENTITY)] = complete_record()
    app.do(c.RegisterContract(C1, CUSTOMER, ENTITY, "EUR", "Advisory"), actor="clm")
    app.do(c.DraftContractVersion(C1, date(2026, 1, 1), (FEE,)), actor="clm")
    app.do(c.ProposeEngagement(E1, CUSTOMER, C1), actor="crm")
    assert app.data.aggregates["engagement"]["E1"].state is EngagementState.PROPOSED
    app.do(c.ApproveContractVersion(C1, 1), actor="legal")
    assert app.data.aggregates["engagement"]["E1"].state is EngagementState.ACTIVE


def test_a_deal_is_never_won_on_another_customers_contract(app: App) -> None:
    app.do(c.RegisterContract(C1, OTHER, ENTITY, "EUR", "Advisory"), actor="clm")
    with pytest.raises(ContractCustomerMismatchError, match=f"contract C1 is for customer {OTHER}"):
        app.do(c.ProposeEngagement(E1, CUSTOMER, C1), actor="crm")
    assert "E1" not in app.data.aggregates["engagement"]


def test_a_contract_is_never_registered_for_another_customer_than_its_deal(app: App) -> None:
    app.do(c.ProposeEngagement(E1, CUSTOMER, C1), actor="crm")
    with pytest.raises(ContractCustomerMismatchError, match="engagement E1 is for customer"):
        app.do(c.RegisterContract(C1, OTHER, ENTITY, "EUR", "Advisory"), actor="clm")
    assert "C1" not in app.data.aggregates["contract"]


def test_a_tax_profile_the_erp_pushed_completes_a_record_that_lacks_one(app: App) -> None:
    app.master.records[(CUSTOMER, ENTITY)] = complete_record(tax_code=None)
    set_up_tm_contract(app)
    assert app.data.aggregates["engagement"]["E1"].state is EngagementState.SETUP_BLOCKED
    pushed = TaxProfile(CUSTOMER, ENTITY, "VAT20", legal_note="Standard rated")
    app.do(c.UpdateCustomerMaster(pushed), actor="erp")
    assert app.do(c.SetUpEngagement(E1)) is True
    assert app.data.aggregates["engagement"]["E1"].state is EngagementState.ACTIVE
    assert app.data.tax_profiles[(CUSTOMER, ENTITY)] == pushed  # kept as pushed


def test_the_erp_records_own_tax_code_wins_over_a_pushed_profile(app: App) -> None:
    app.do(c.UpdateCustomerMaster(TaxProfile(CUSTOMER, ENTITY, "OLD-CODE")), actor="erp")
    set_up_tm_contract(app)
    assert app.data.tax_profiles[(CUSTOMER, ENTITY)].tax_code == "VAT20"


def test_other_missing_master_data_still_blocks_despite_a_pushed_profile(app: App) -> None:
    record = complete_record(tax_code=None)
    app.master.records[(CUSTOMER, ENTITY)] = type(record)(
        record.customer_id, record.legal_entity_id, record.name, record.currency, None
    )
    app.do(c.UpdateCustomerMaster(TaxProfile(CUSTOMER, ENTITY, "VAT20")), actor="erp")
    set_up_tm_contract(app)
    engagement = app.data.aggregates["engagement"]["E1"]
    assert engagement.state is EngagementState.SETUP_BLOCKED
    assert engagement.blocked_reason == "missing master data: billing_address"


@pytest.mark.parametrize("move", ["proposed", "suspended", "cancelled"])
def test_setup_provisions_nothing_for_an_engagement_not_being_set_up(app: App, move: str) -> None:
    if move == "proposed":
        app.do(c.ProposeEngagement(E1, CUSTOMER, ContractId("C1")))
    elif move == "suspended":
        set_up_tm_contract(app)
        app.do(c.SuspendEngagement(E1, "budget freeze"))
    else:
        app.do(c.ProposeEngagement(E1, CUSTOMER, ContractId("C1")))
        app.do(c.CancelEngagement(E1, "deal lost"))
    calls = app.projects.calls
    with pytest.raises(IllegalTransitionError, match=f"is '{move}'"):
        app.do(c.SetUpEngagement(E1))
    assert app.projects.calls == calls
    assert app.data.aggregates["engagement"]["E1"].state.value == move


def test_the_erp_records_codes_per_tax_category_reach_the_profile_billing_uses(
    app: App,
) -> None:
    categories = (CategoryCode("expenses", "ZERO"),)
    app.master.records[(CUSTOMER, ENTITY)] = attrs.evolve(
        complete_record(), tax_categories=categories
    )
    set_up_tm_contract(app)
    profile = app.data.tax_profiles[(CUSTOMER, ENTITY)]
    assert (profile.tax_code, profile.categories) == ("VAT20", categories)


def test_a_contract_of_a_legal_entity_left_out_of_the_register_waits_for_its_record(
    app: App,
) -> None:
    """Once legal entities are registered, setup validates the contract's against the register:
    an invoice names its seller, so an entity the ERP never put blocks the setup until it does."""
    app.do(c.PutLegalEntity(LegalEntityRecord("tl-de", "TL GmbH", SELLER.address)))
    set_up_tm_contract(app)
    engagement = app.data.aggregates["engagement"]["E1"]
    assert engagement.state is EngagementState.SETUP_BLOCKED
    assert engagement.blocked_reason == f"missing master data: legal entity {ENTITY}"
    app.do(c.PutLegalEntity(LegalEntityRecord(ENTITY, "TL UK Ltd", SELLER.address)))
    assert app.do(c.SetUpEngagement(E1)) is True
    assert app.data.aggregates["engagement"]["E1"].state is EngagementState.ACTIVE


def open_exceptions(app: App) -> list[IntegrationException]:
    with app.bus.deps.uow(app.as_("reader")) as uow:
        return list(uow.exceptions.open_for("engagement:E1"))


def test_a_contract_of_a_legal_entity_without_a_chart_waits_for_it(app: App) -> None:
    """Where the deployment books on charts of accounts, an entity without one could post
    nothing it bills: its contract's setup waits for finance to add the chart."""
    (uk,) = CHARTS.charts
    german = ChartOfAccounts.of("tl-de", dict(uk.accounts), dict(uk.revenue_by_obligation_type))
    charted = ChartsOfAccounts.of([german])
    books = attrs.evolve(app, bus=create_bus(attrs.evolve(app.bus.deps, charts=charted)))
    books.do(c.PutLegalEntity(LegalEntityRecord("tl-de", "TL GmbH", SELLER.address)))
    set_up_tm_contract(books)
    engagement = books.data.aggregates["engagement"]["E1"]
    assert engagement.state is EngagementState.SETUP_BLOCKED
    assert engagement.blocked_reason == f"missing master data: legal entity {ENTITY}"
    (waiting,) = open_exceptions(books)
    assert "not in the register of legal entities" in waiting.detail
    # The register is fixed; the replay now meets the next gap and says so.
    books.do(c.PutLegalEntity(LegalEntityRecord(ENTITY, "TL UK Ltd", SELLER.address)))
    assert books.do(c.ReplayException(waiting.exception_id), actor="finance-lead") is False
    (still,) = open_exceptions(books)
    assert (
        still.last_error
        == f"legal entity {ENTITY} has no chart of accounts; add one before posting"
    )
    books.do(SetChartOfAccounts(uk), actor="finance-lead")
    assert books.do(c.ReplayException(waiting.exception_id), actor="finance-lead") is True
    assert books.data.aggregates["engagement"]["E1"].state is EngagementState.ACTIVE
