"""Deal won → contract approved → setup across the downstream systems.

Setup validates the customer against the ERP master, stores the tax profile billing will use,
provisions the project in the PSA (with an idempotency key, so a replay never creates a second
project) and activates the engagement. Missing master data blocks the setup with a typed
exception for finance; a replay after the fix finishes it.
"""

from __future__ import annotations

from application import commands as c
from application.context import RequestContext
from application.customer_master import current_record, setup_gaps
from application.errors import ConflictError, DownstreamUnavailableError
from application.handlers.common import audit, raise_exception
from application.messagebus import Dependencies
from application.records import ExceptionKind
from application.unit_of_work import UnitOfWork
from domain.contract import Contract
from domain.engagement import Engagement, EngagementState
from domain.errors import IllegalTransitionError
from domain.milestone import Milestone
from domain.milestone_billing import MilestoneTerms
from domain.money import Currency
from domain.ratecard import RateCard


def propose_engagement(cmd: c.ProposeEngagement, ctx: RequestContext, deps: Dependencies) -> None:
    """One engagement per contract: a second deal naming the same contract is a conflict."""
    with deps.uow(ctx) as uow:
        holder = uow.engagements.find_by_contract(cmd.contract_id)
        if holder is not None and holder.engagement_id != cmd.engagement_id:
            raise ConflictError(
                f"contract {cmd.contract_id} already belongs to engagement {holder.engagement_id}"
            )
        engagement = Engagement.propose(
            cmd.engagement_id, cmd.customer_id, cmd.contract_id, at=deps.clock.now()
        )
        uow.engagements.add(engagement)
        audit(uow, ctx, deps, f"engagement:{cmd.engagement_id}", "propose", None, engagement.state)
        uow.commit()


def register_contract(cmd: c.RegisterContract, ctx: RequestContext, deps: Dependencies) -> None:
    with deps.uow(ctx) as uow:
        contract = Contract(
            cmd.contract_id,
            cmd.customer_id,
            cmd.legal_entity_id,
            Currency.of(cmd.currency),
            cmd.name,
        )
        uow.contracts.add(contract)
        uow.commit()


def draft_contract_version(
    cmd: c.DraftContractVersion, ctx: RequestContext, deps: Dependencies
) -> int:
    with deps.uow(ctx) as uow:
        contract = uow.contracts.get(cmd.contract_id)
        version = contract.draft_version(
            cmd.effective_from, cmd.obligations, cmd.label, payers=cmd.payers
        )
        audit(uow, ctx, deps, f"contract:{cmd.contract_id}", "draft_version", None, "draft")
        uow.commit()
        return version.version


def approve_contract_version(
    cmd: c.ApproveContractVersion, ctx: RequestContext, deps: Dependencies
) -> None:
    """Approve the version; the engagement of a first approval moves to contracted and setup."""
    with deps.uow(ctx) as uow:
        contract = uow.contracts.get(cmd.contract_id)
        version = contract.approve_version(cmd.version, ctx.actor, deps.clock.now())
        subject = f"contract:{cmd.contract_id}:v{cmd.version}"
        audit(uow, ctx, deps, subject, "approve", "draft", version.state)
        engagement = uow.engagements.find_by_contract(cmd.contract_id)
        start_setup = engagement is not None and engagement.state is EngagementState.PROPOSED
        if cmd.version > 1:
            # An amendment touches only what it changes: issued documents never; new
            # milestones are planned; unbilled items re-rate by the terms of their dates.
            diff = contract.diff(cmd.version - 1, cmd.version)
            audit(
                uow,
                ctx,
                deps,
                subject,
                "amend",
                None,
                None,
                f"added {list(diff.added)}, removed {list(diff.removed)}, "
                f"changed {list(diff.changed)}",
            )
            if engagement is not None and engagement.state is not EngagementState.PROPOSED:
                _plan_milestones(uow, ctx, deps, contract)
        if engagement is not None and start_setup:
            engagement.contract(deps.clock.now())
            audit(
                uow,
                ctx,
                deps,
                f"engagement:{engagement.engagement_id}",
                "contract",
                EngagementState.PROPOSED,
                engagement.state,
            )
        uow.commit()
    if engagement is not None and start_setup:
        set_up_engagement(c.SetUpEngagement(engagement.engagement_id), ctx, deps)


def create_rate_card(cmd: c.CreateRateCard, ctx: RequestContext, deps: Dependencies) -> None:
    with deps.uow(ctx) as uow:
        uow.rate_cards.add(RateCard(cmd.rate_card_id, cmd.name, Currency.of(cmd.currency)))
        uow.commit()


def publish_rate_card_version(
    cmd: c.PublishRateCardVersion, ctx: RequestContext, deps: Dependencies
) -> None:
    with deps.uow(ctx) as uow:
        card = uow.rate_cards.get(cmd.rate_card_id)
        card.publish(cmd.version)
        audit(
            uow,
            ctx,
            deps,
            f"rate_card:{cmd.rate_card_id}",
            "publish",
            None,
            f"v{cmd.version.version}",
        )
        uow.commit()


def propose_rate_card_version(
    cmd: c.ProposeRateCardVersion, ctx: RequestContext, deps: Dependencies
) -> None:
    """The maker proposes; the version prices nothing until a checker approves it."""
    with deps.uow(ctx) as uow:
        card = uow.rate_cards.get(cmd.rate_card_id)
        card.propose(cmd.version, ctx.actor, deps.clock.now())
        number = cmd.version.version
        subject = f"rate_card:{cmd.rate_card_id}"
        audit(uow, ctx, deps, subject, "propose", None, f"v{number}:proposed")
        uow.commit()


def propose_rate_card_amendment(
    cmd: c.ProposeRateCardAmendment, ctx: RequestContext, deps: Dependencies
) -> None:
    """The maker proposes the changes; the card makes them a whole version from the one in
    force on their date, which prices nothing until a checker approves it."""
    with deps.uow(ctx) as uow:
        card = uow.rate_cards.get(cmd.rate_card_id)
        version = card.amend(
            cmd.effective_from,
            role_rates=cmd.role_rates,
            resource_overrides=cmd.resource_overrides,
            removed_roles=cmd.removed_roles,
            removed_overrides=cmd.removed_overrides,
        )
        card.propose(version, ctx.actor, deps.clock.now())
        subject = f"rate_card:{cmd.rate_card_id}"
        audit(uow, ctx, deps, subject, "propose", None, f"v{version.version}:proposed")
        uow.commit()


def approve_rate_card_version(
    cmd: c.ApproveRateCardVersion, ctx: RequestContext, deps: Dependencies
) -> None:
    """The checker approves (maker-checker) and the version is published."""
    with deps.uow(ctx) as uow:
        card = uow.rate_cards.get(cmd.rate_card_id)
        card.approve(cmd.version_number, ctx.actor, deps.clock.now())
        number = cmd.version_number
        subject = f"rate_card:{cmd.rate_card_id}"
        audit(uow, ctx, deps, subject, "approve", f"v{number}:proposed", f"v{number}")
        uow.commit()


def update_customer_master(
    cmd: c.UpdateCustomerMaster, ctx: RequestContext, deps: Dependencies
) -> None:
    profile = cmd.profile
    with deps.uow(ctx) as uow:
        known = uow.master_data.tax_profile(profile.customer_id, profile.legal_entity_id)
        uow.master_data.save_tax_profile(profile)
        audit(
            uow,
            ctx,
            deps,
            f"customer:{profile.customer_id}:{profile.legal_entity_id}",
            "update_tax_profile",
            known.tax_code if known is not None else None,
            profile.tax_code,
        )
        uow.commit()


def set_tax_rates(cmd: c.SetTaxRates, ctx: RequestContext, deps: Dependencies) -> None:
    with deps.uow(ctx) as uow:
        uow.master_data.save_tax_rates(cmd.rates)
        uow.commit()


_SETTING_UP = (
    EngagementState.CONTRACTED,
    EngagementState.PROVISIONING,
    EngagementState.SETUP_BLOCKED,
)


def set_up_engagement(cmd: c.SetUpEngagement, ctx: RequestContext, deps: Dependencies) -> bool:
    """Run (or resume) the setup; True when the engagement ends up active."""
    with deps.uow(ctx) as uow:
        engagement = uow.engagements.get(cmd.engagement_id)
        subject = f"engagement:{engagement.engagement_id}"
        if engagement.state is EngagementState.ACTIVE:
            return True  # a replay of a finished setup does nothing
        if engagement.state not in _SETTING_UP:
            # Nothing may be provisioned downstream before the contract is approved, nor for
            # an engagement that is suspended, closing, closed or cancelled.
            raise IllegalTransitionError(
                f"engagement {engagement.engagement_id} is '{engagement.state.value}': setup "
                "runs once its contract version is approved, until it is active"
            )
        if engagement.state is EngagementState.CONTRACTED:
            engagement.start_provisioning(deps.clock.now())
            audit(
                uow,
                ctx,
                deps,
                subject,
                "start_provisioning",
                EngagementState.CONTRACTED,
                engagement.state,
            )
        elif engagement.state is EngagementState.SETUP_BLOCKED:
            engagement.resume_provisioning(deps.clock.now())
            audit(
                uow,
                ctx,
                deps,
                subject,
                "resume_provisioning",
                EngagementState.SETUP_BLOCKED,
                engagement.state,
            )
        before = engagement.state
        contract = uow.contracts.get(engagement.contract_id)
        replay = {"command": "SetUpEngagement", "args": {"engagement_id": cmd.engagement_id}}
        try:
            record = current_record(
                uow, deps.customer_master, contract.customer_id, contract.legal_entity_id
            )
            pushed = uow.master_data.tax_profile(contract.customer_id, contract.legal_entity_id)
            missing = setup_gaps(record, pushed, contract.currency.code)
            if missing:
                engagement.block_setup(
                    f"missing master data: {', '.join(missing)}", deps.clock.now()
                )
                audit(uow, ctx, deps, subject, "block_setup", before, engagement.state)
                raise_exception(
                    uow,
                    ctx,
                    deps,
                    kind=ExceptionKind.MASTER_DATA,
                    workflow="setup",
                    subject=subject,
                    reason_code="missing_master_data",
                    detail=f"customer {contract.customer_id} lacks {', '.join(missing)} "
                    f"for legal entity {contract.legal_entity_id} in the ERP",
                    replay=replay,
                )
                uow.commit()
                return False
            assert record is not None
            # The record's own tax profile, when it has one, wins over one pushed alone.
            pushed = record.tax_profile() or pushed
            assert pushed is not None
            uow.master_data.save_tax_profile(pushed)
            project_code = deps.projects.provision(
                f"{engagement.engagement_id}:project", engagement.engagement_id, contract
            )
        except DownstreamUnavailableError as error:
            raise_exception(
                uow,
                ctx,
                deps,
                kind=ExceptionKind.DOWNSTREAM_UNAVAILABLE,
                workflow="setup",
                subject=subject,
                reason_code="downstream_unavailable",
                detail=str(error),
                replay=replay,
            )
            uow.commit()
            return False
        _plan_milestones(uow, ctx, deps, contract)
        engagement.activate(deps.clock.now(), project_code)
        audit(uow, ctx, deps, subject, "activate", before, engagement.state)
        for item in uow.exceptions.open_for(subject):
            item.resolved(ctx.actor, deps.clock.now())
            uow.exceptions.save(item)
        uow.commit()
        return True


def _plan_milestones(
    uow: UnitOfWork, ctx: RequestContext, deps: Dependencies, contract: Contract
) -> None:
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
                        deps.clock.now(),
                        passive_acceptance_days=terms.passive_acceptance_days,
                    )
                )
                audit(uow, ctx, deps, f"milestone:{spec.milestone_id}", "plan", None, "planned")
