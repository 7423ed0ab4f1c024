"""Deal won → contract approved → setup across the downstream systems.

Setup validates the customer against the ERP master, stores the tax profile billing will use,
provisions the project in the PSA (with an idempotency key, so a replay never creates a second
project) and activates the engagement. Missing master data blocks the setup with a typed
exception for finance; a replay after the fix finishes it.

No external system is called inside a database transaction (ADR 0044): the setup is claimed
(the engagement moves to provisioning, committed), the ERP and the PSA are called, and what
they answered is recorded in a second transaction. A crash between the call and the record
leaves the engagement provisioning; a replay calls the PSA again with the same key and
records the same project.
"""

from __future__ import annotations

import attrs

from application import commands as c
from application.changes import (
    ContractVersionDrafted,
    RateCardVersionApproved,
    RateCardVersionProposed,
    RateCardVersionPublished,
    TaxProfileUpdated,
)
from application.context import RequestContext
from application.customer_master import setup_gaps
from application.errors import ConflictError, DownstreamUnavailableError
from application.handlers.common import queue_exception, resolve_open_exceptions
from application.journal import legal_entity_gap
from application.messagebus import Dispatch, UnitOfWorkFactory
from application.ports import (
    Clock,
    CustomerMaster,
    CustomerRecord,
    IdGenerator,
    ProjectProvisioning,
)
from application.records import ExceptionKind
from application.unit_of_work import UnitOfWork
from domain.chart_of_accounts import ChartsOfAccounts
from domain.contract import Contract
from domain.engagement import Engagement, EngagementState
from domain.ids import EngagementId
from domain.master_data import billing_tax_profile
from domain.milestone import Milestone
from domain.milestone_billing import MilestoneTerms
from domain.money import Currency
from domain.ratecard import RateCard
from domain.tax import TaxProfile, check_replacement


def propose_engagement(
    cmd: c.ProposeEngagement,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    dispatch: Dispatch,
) -> None:
    """One engagement per contract: a second deal naming the same contract is a conflict. A deal
    won on a contract that is already approved is contracted at once and set up, as it would
    have been had the approval come second."""
    with unit_of_work(ctx) as uow:
        _refuse_a_second_deal(uow, cmd)
        engagement = Engagement.propose(
            cmd.engagement_id, cmd.customer_id, cmd.contract_id, at=clock.now()
        )
        to_set_up = _follow_contract(uow.contracts.find(cmd.contract_id), engagement, clock)
        uow.engagements.add(engagement)
        uow.commit()
    if to_set_up is not None:
        dispatch(c.SetUpEngagement(to_set_up), ctx)


def _follow_contract(
    contract: Contract | None, engagement: Engagement, clock: Clock
) -> EngagementId | None:
    """A contract not registered yet is awaited; one of another customer is refused."""
    if contract is None:
        return None
    engagement.require_contract_of_its_customer(contract.contract_id, contract.customer_id)
    if not contract.is_approved:
        return None
    engagement.contract(clock.now())
    return engagement.engagement_id


def _refuse_a_second_deal(uow: UnitOfWork, cmd: c.ProposeEngagement) -> None:
    holder = uow.engagements.find_by_contract(cmd.contract_id)
    if holder is not None and holder.engagement_id != cmd.engagement_id:
        raise ConflictError(
            f"contract {cmd.contract_id} already belongs to engagement {holder.engagement_id}"
        )


def register_contract(
    cmd: c.RegisterContract, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory
) -> None:
    currency = Currency.of(cmd.currency)
    contract = Contract(cmd.contract_id, cmd.customer_id, cmd.legal_entity_id, currency, cmd.name)
    with unit_of_work(ctx) as uow:
        engagement = uow.engagements.find_by_contract(cmd.contract_id)
        if engagement is not None:
            engagement.require_contract_of_its_customer(cmd.contract_id, cmd.customer_id)
        uow.contracts.add(contract)
        uow.commit()


def draft_contract_version(
    cmd: c.DraftContractVersion, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory
) -> int:
    with unit_of_work(ctx) as uow:
        contract = uow.contracts.get(cmd.contract_id)
        version = contract.draft_version(
            cmd.effective_from, cmd.obligations, cmd.label, payers=cmd.payers
        )
        uow.record(ContractVersionDrafted(cmd.contract_id, version.version))
        uow.commit()
    return version.version


def approve_contract_version(
    cmd: c.ApproveContractVersion,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    dispatch: Dispatch,
) -> None:
    """Approve the version; the engagement of a first approval moves to contracted and setup."""
    with unit_of_work(ctx) as uow:
        contract = uow.contracts.get(cmd.contract_id)
        contract.approve_version(cmd.version, ctx.actor, clock.now())
        engagement = uow.engagements.find_by_contract(cmd.contract_id)
        to_set_up = _follow_approval(uow, contract, engagement, cmd.version, clock)
        uow.commit()
    if to_set_up is not None:
        dispatch(c.SetUpEngagement(to_set_up), ctx)


def _follow_approval(
    uow: UnitOfWork, contract: Contract, engagement: Engagement | None, version: int, clock: Clock
) -> EngagementId | None:
    """A proposed engagement becomes contracted (its id returned, to be set up); an amendment
    of a running engagement touches only what it changes: issued documents never, new
    milestones are planned, unbilled items re-rate by the terms of their dates."""
    if engagement is None:
        return None
    if engagement.state is EngagementState.PROPOSED:
        engagement.contract(clock.now())
        return engagement.engagement_id
    if version > 1:
        _plan_milestones(uow, contract, clock)
    return None


def create_rate_card(
    cmd: c.CreateRateCard, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory
) -> None:
    with unit_of_work(ctx) as uow:
        uow.rate_cards.add(RateCard(cmd.rate_card_id, cmd.name, Currency.of(cmd.currency)))
        uow.commit()


def publish_rate_card_version(
    cmd: c.PublishRateCardVersion, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory
) -> None:
    with unit_of_work(ctx) as uow:
        uow.rate_cards.get(cmd.rate_card_id).publish(cmd.version)
        uow.record(RateCardVersionPublished(cmd.rate_card_id, cmd.version.version))
        uow.commit()


def propose_rate_card_version(
    cmd: c.ProposeRateCardVersion,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
) -> None:
    """The maker proposes; the version prices nothing until a checker approves it."""
    with unit_of_work(ctx) as uow:
        uow.rate_cards.get(cmd.rate_card_id).propose(cmd.version, ctx.actor, clock.now())
        uow.record(RateCardVersionProposed(cmd.rate_card_id, cmd.version.version))
        uow.commit()


def propose_rate_card_amendment(
    cmd: c.ProposeRateCardAmendment,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
) -> None:
    """The maker proposes the changes; the card makes them a whole version from the one in
    force on their date, which prices nothing until a checker approves it."""
    with unit_of_work(ctx) as uow:
        card = uow.rate_cards.get(cmd.rate_card_id)
        version = card.amend(
            cmd.effective_from,
            role_rates=cmd.role_rates,
            resource_overrides=cmd.resource_overrides,
            removed_roles=cmd.removed_roles,
            removed_overrides=cmd.removed_overrides,
        )
        card.propose(version, ctx.actor, clock.now())
        uow.record(RateCardVersionProposed(cmd.rate_card_id, version.version))
        uow.commit()


def approve_rate_card_version(
    cmd: c.ApproveRateCardVersion,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
) -> None:
    """The checker approves (maker-checker) and the version is published."""
    with unit_of_work(ctx) as uow:
        uow.rate_cards.get(cmd.rate_card_id).approve(cmd.version_number, ctx.actor, clock.now())
        uow.record(RateCardVersionApproved(cmd.rate_card_id, cmd.version_number))
        uow.commit()


def update_customer_master(
    cmd: c.UpdateCustomerMaster, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory
) -> None:
    profile = cmd.profile
    with unit_of_work(ctx) as uow:
        known = uow.master_data.tax_profile(profile.customer_id, profile.legal_entity_id)
        uow.master_data.save_tax_profile(profile)
        before = None if known is None else known.tax_code
        uow.record(
            TaxProfileUpdated(
                profile.customer_id, profile.legal_entity_id, before, profile.tax_code
            )
        )
        uow.commit()


def set_tax_rates(
    cmd: c.SetTaxRates, ctx: RequestContext, *, unit_of_work: UnitOfWorkFactory
) -> None:
    with unit_of_work(ctx) as uow:
        data = uow.master_data
        check_replacement(data.tax_rates(), cmd.rates, data.tax_profiles().values())
        data.save_tax_rates(cmd.rates)
        uow.commit()


# Setup: claim, call, record ------------------------------------------------------------------


@attrs.frozen
class SetupClaim:
    """What the claiming transaction read: the contract, and the master data our store holds
    (None where the ERP has to be asked). `finished`: the engagement was active already."""

    contract: Contract | None
    stored_record: CustomerRecord | None = None
    pushed_profile: TaxProfile | None = None
    finished: bool = False
    #: What keeps the contract's legal entity from billing (`legal_entity_gap`), if anything.
    entity_gap: str | None = None


def set_up_engagement(
    cmd: c.SetUpEngagement,
    ctx: RequestContext,
    *,
    unit_of_work: UnitOfWorkFactory,
    clock: Clock,
    ids: IdGenerator,
    customer_master: CustomerMaster,
    projects: ProjectProvisioning,
    charts: ChartsOfAccounts | None,
) -> bool:
    """Run (or resume) the setup; True when the engagement ends up active."""
    claim = _claim_setup(unit_of_work, ctx, clock, cmd.engagement_id, charts)
    if claim.finished or claim.contract is None:
        return claim.finished
    if claim.entity_gap is not None:
        entity = claim.contract.legal_entity_id
        blocked = (f"legal entity {entity}", claim.entity_gap)
        return _block_setup(unit_of_work, ctx, clock, ids, cmd.engagement_id, *blocked)
    try:
        record, missing = _master_data(claim, claim.contract, customer_master)
        if missing:
            detail = (
                f"customer {claim.contract.customer_id} lacks {', '.join(missing)} "
                f"for legal entity {claim.contract.legal_entity_id} in the ERP"
            )
            blocked = (", ".join(missing), detail)
            return _block_setup(unit_of_work, ctx, clock, ids, cmd.engagement_id, *blocked)
        code = projects.provision(f"{cmd.engagement_id}:project", cmd.engagement_id, claim.contract)
    except DownstreamUnavailableError as error:
        return _setup_waits(unit_of_work, ctx, clock, ids, cmd.engagement_id, str(error))
    profile = billing_tax_profile(record.tax_profile() if record else None, claim.pushed_profile)
    return _finish_setup(unit_of_work, ctx, clock, cmd.engagement_id, profile, code)


def _claim_setup(
    unit_of_work: UnitOfWorkFactory,
    ctx: RequestContext,
    clock: Clock,
    engagement_id: EngagementId,
    charts: ChartsOfAccounts | None,
) -> SetupClaim:
    """The first transaction: the engagement moves to provisioning (the domain refuses a setup
    before the contract is approved, or of an engagement suspended, closing or closed)."""
    with unit_of_work(ctx) as uow:
        engagement = uow.engagements.get(engagement_id)
        if engagement.state is EngagementState.ACTIVE:
            return SetupClaim(None, finished=True)  # a replay of a finished setup does nothing
        engagement.claim_setup(clock.now())
        contract = uow.contracts.get(engagement.contract_id)
        pair = (contract.customer_id, contract.legal_entity_id)
        claim = SetupClaim(
            contract,
            uow.master_data.customer_record(*pair),
            uow.master_data.tax_profile(*pair),
            entity_gap=legal_entity_gap(uow, charts, contract.legal_entity_id),
        )
        uow.commit()
    return claim


def _master_data(
    claim: SetupClaim, contract: Contract, customer_master: CustomerMaster
) -> tuple[CustomerRecord | None, list[str]]:
    """The customer record setup goes by (the one pushed to us wins over the ERP's answer,
    ADR 0035) and what it lacks; asking the ERP may raise `DownstreamUnavailableError`."""
    record = claim.stored_record or customer_master.lookup(
        contract.customer_id, contract.legal_entity_id
    )
    return record, setup_gaps(record, claim.pushed_profile, contract.currency.code)


def _block_setup(
    unit_of_work: UnitOfWorkFactory,
    ctx: RequestContext,
    clock: Clock,
    ids: IdGenerator,
    engagement_id: EngagementId,
    missing: str,
    detail: str,
) -> bool:
    """Missing master data parks the engagement and waits for finance on the queue."""
    with unit_of_work(ctx) as uow:
        engagement = uow.engagements.get(engagement_id)
        engagement.block_setup(f"missing master data: {missing}", clock.now())
        _queue(uow, ctx, clock, ids, engagement_id, ExceptionKind.MASTER_DATA, detail)
        uow.commit()
    return False


def _setup_waits(
    unit_of_work: UnitOfWorkFactory,
    ctx: RequestContext,
    clock: Clock,
    ids: IdGenerator,
    engagement_id: EngagementId,
    detail: str,
) -> bool:
    """A downstream system that did not answer leaves the engagement provisioning and the
    setup on the queue, retried on its schedule."""
    with unit_of_work(ctx) as uow:
        _queue(uow, ctx, clock, ids, engagement_id, ExceptionKind.DOWNSTREAM_UNAVAILABLE, detail)
        uow.commit()
    return False


_REASON_CODES = {
    ExceptionKind.MASTER_DATA: "missing_master_data",
    ExceptionKind.DOWNSTREAM_UNAVAILABLE: "downstream_unavailable",
}


def _queue(
    uow: UnitOfWork,
    ctx: RequestContext,
    clock: Clock,
    ids: IdGenerator,
    engagement_id: EngagementId,
    kind: ExceptionKind,
    detail: str,
) -> None:
    queue_exception(
        uow,
        ctx,
        clock,
        ids,
        kind=kind,
        workflow="setup",
        subject=f"engagement:{engagement_id}",
        reason_code=_REASON_CODES[kind],
        detail=detail,
        replay={"command": "SetUpEngagement", "args": {"engagement_id": engagement_id}},
    )


def _finish_setup(
    unit_of_work: UnitOfWorkFactory,
    ctx: RequestContext,
    clock: Clock,
    engagement_id: EngagementId,
    profile: TaxProfile | None,
    project_code: str,
) -> bool:
    """The second transaction: the tax profile billing will use is kept, the milestones are
    planned, the engagement is active with its project, and what waited on the queue is done.
    A setup another process finished meanwhile is left as it is."""
    with unit_of_work(ctx) as uow:
        engagement = uow.engagements.get(engagement_id)
        if engagement.state is EngagementState.ACTIVE:
            return True
        if profile is not None:
            uow.master_data.save_tax_profile(profile)
        _plan_milestones(uow, uow.contracts.get(engagement.contract_id), clock)
        engagement.activate(clock.now(), project_code)
        resolve_open_exceptions(uow, f"engagement:{engagement_id}", ctx.actor, clock)
        uow.commit()
    return True


def _plan_milestones(uow: UnitOfWork, contract: Contract, clock: Clock) -> None:
    """Billing schedules: every milestone of the contract is planned once (a replay or an
    amendment adds only the ones not planned yet)."""
    for obligation_id in contract.obligation_ids():
        terms = contract.obligation_history(obligation_id).latest.terms
        if not isinstance(terms, MilestoneTerms):
            continue
        for spec in terms.milestones:
            if uow.milestones.find(spec.milestone_id) is None:
                uow.milestones.add(
                    Milestone.plan(
                        spec.milestone_id,
                        obligation_id,
                        spec.name,
                        clock.now(),
                        passive_acceptance_days=terms.passive_acceptance_days,
                    )
                )
