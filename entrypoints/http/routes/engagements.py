"""Engagements: the lifecycle tying a won deal, its contract, its project and its billing.

`proposed` (CRM closed-won, `POST /engagements`) → `contracted` (the contract's first version
approved) → `provisioning` → `active`; a setup that misses master data parks in
`setup_blocked` until `POST /engagements/{id}/setup` replays it. An active engagement can be
suspended and resumed, then start closing (no time from the close date on) and close; one
whose setup has not started can be cancelled. Every transition is audited.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Request, Response

from application import commands as c
from application.queries.engagements import EngagementFilter, EngagementView, SetupIssue
from application.queries.paging import PageRequest
from domain.engagement import EngagementState
from domain.ids import ContractId, CustomerId, EngagementId
from entrypoints.http.routes.common import (
    RULED_WRITE_PROBLEMS,
    WRITE_PROBLEMS,
    CustomerFilter,
    Id,
    IdempotencyKey,
    Text,
    or_not_found,
    out_of,
    published,
)
from entrypoints.http.routes.declare import (
    RouteFamily,
    Subject,
    body_example,
    path_param,
    respond_after,
    state_query,
)
from entrypoints.http.routes.keyset import Rows, paged
from entrypoints.http.runtime import ops_reads_of, principal_of
from entrypoints.http.security import Principal

EngagementPath = Annotated[
    str,
    path_param("The engagement id (the CRM opportunity's).", "an engagement", "E-ACME-1"),
]


class SetupException(
    published(SetupIssue, "exception_id", "kind", "reason_code", "detail", "state", "raised_at")
):
    """An open exception of the engagement's setup (what to fix before a replay)."""


#: What an engagement's answer publishes of its view (`EngagementView` says what each means).
_PUBLISHED = (
    "engagement_id", "customer_id", "contract_id", "state", "close_date", "blocked_reason",
    "project_code", "path",
)  # fmt: skip


class EngagementOut(published(EngagementView, *_PUBLISHED, path=list[str]), omit_defaults=True):
    """An engagement on the wire."""

    #: Open setup exceptions (absent for client viewers: the exception queue is internal).
    open_exceptions: list[SetupException] | msgspec.UnsetType = msgspec.UNSET


class EngagementSummary(msgspec.Struct):
    engagement_id: str
    customer_id: str
    contract_id: str
    state: str


def _engagement_out(view: EngagementView, principal: Principal) -> EngagementOut:
    """The engagement on the wire; open setup exceptions only for the firm's people."""
    out = out_of(EngagementOut, view, path=list(view.path))
    if not principal.scoped:
        out.open_exceptions = [out_of(SetupException, x) for x in view.open_exceptions]
    return out


def _read(request: Request[Any, Any, Any], engagement_id: str) -> EngagementOut:
    """The engagement as it stands (one read), or 404 when it does not exist or belongs to
    another client's customer."""
    principal = principal_of(request)
    found = ops_reads_of(request).engagements.engagement(engagement_id)
    view = or_not_found(found, "engagement", engagement_id, lambda v: principal.sees(v.customer_id))
    return _engagement_out(view, principal)


_ENGAGEMENTS = RouteFamily("engagements", "engagements:write")


@_ENGAGEMENTS.get(
    "/engagements",
    "List engagements (a client viewer sees its customer's only)",
    permission="engagements:read",
)
@paged(
    EngagementSummary,
    lambda e: EngagementSummary(e.engagement_id, e.customer_id, e.contract_id, e.state),
)
def list_engagements(
    request: Request[Any, Any, Any],
    page: PageRequest,
    state_filter: Annotated[
        str | None,
        state_query(EngagementState, "blocked setups", "setup_blocked"),
    ] = None,
    customer_id: CustomerFilter = None,
) -> Rows:
    principal = principal_of(request)
    where = EngagementFilter(
        state_filter, customer_id, principal.customer_id if principal.scoped else None
    )
    return ops_reads_of(request).engagements.engagements(where, page)


@_ENGAGEMENTS.get(
    "/engagements/{engagement_id:str}",
    (
        "One engagement: its state, customer, contract, the states it went through and "
        "what blocks its setup"
    ),
    "not-found",
    permission="engagements:read",
)
def get_engagement(request: Request[Any, Any, Any], engagement_id: EngagementPath) -> EngagementOut:
    return _read(request, engagement_id)


class EngagementBody(msgspec.Struct, forbid_unknown_fields=True):
    """CRM closed-won: the deal, its customer and the contract it will be signed under."""

    engagement_id: Id
    customer_id: Id
    contract_id: Id


@_ENGAGEMENTS.create(
    "/engagements",
    "A deal was won (CRM closed-won): propose the engagement",
    description=(
        "The engagement waits in `proposed` until the contract's first version is approved, "
        "which sets it up."
    ),
)
def propose_engagement(
    request: Request[Any, Any, Any],
    idempotency_key: IdempotencyKey,
    data: Annotated[
        EngagementBody,
        body_example(
            "a won advisory deal",
            {
                "engagement_id": "E-ACME-1",
                "customer_id": "acme",
                "contract_id": "C-ACME-2026",
            },
        ),
    ],
) -> Response[EngagementOut]:
    command = c.ProposeEngagement(
        EngagementId(data.engagement_id),
        CustomerId(data.customer_id),
        ContractId(data.contract_id),
    )

    return respond_after(
        request, data, command, lambda _: _read(request, data.engagement_id), status=201
    )


def _act(
    request: Request[Any, Any, Any], engagement_id: str, body: object, command: object
) -> Response[EngagementOut]:
    """Run the setup and answer with the engagement as it now stands."""

    return respond_after(request, body, command, lambda _: _read(request, engagement_id))


def _move(
    request: Request[Any, Any, Any], _engagement_id: str, body: object, command: object
) -> Response[EngagementOut]:
    """Run a lifecycle move: one command transaction, which also answers the engagement as it
    now stands (a missing engagement is the handler's 404; a client viewer cannot write)."""
    principal = principal_of(request)

    return respond_after(request, body, command, lambda view: _engagement_out(view, principal))


#: The setup re-reads the engagement for its answer; a lifecycle move answers with the view
#: its own transaction returns.
_SETUP = Subject("engagement_id", EngagementPath, EngagementOut, _act)
_ENGAGEMENT = Subject("engagement_id", EngagementPath, EngagementOut, _move)


@_ENGAGEMENTS.post(
    "/engagements/{engagement_id:str}/setup",
    (
        "Run or replay the setup (after the master data was fixed); never duplicates "
        "what was already done"
    ),
    *WRITE_PROBLEMS,
    description=(
        "Answers with the engagement: `active` when the setup finished, still "
        "`setup_blocked` (with its open exception) when master data is still missing. An "
        "active engagement is left as it is; one whose contract is not approved yet (or that "
        "is suspended, closing, closed or cancelled) is 409 `invalid-state`, and nothing is "
        "provisioned. Each new attempt needs a new Idempotency-Key."
    ),
)
@_SETUP.command()
def set_up_engagement(engagement_id: str) -> object:
    return c.SetUpEngagement(EngagementId(engagement_id))


class ReasonBody(msgspec.Struct, forbid_unknown_fields=True):
    reason: Text


class ClosingBody(msgspec.Struct, forbid_unknown_fields=True):
    #: Time is accepted only for work dated before this day.
    close_date: date


@_ENGAGEMENTS.post(
    "/engagements/{engagement_id:str}/suspend",
    "Suspend an active engagement (no time accepted meanwhile), with a reason",
    *RULED_WRITE_PROBLEMS,
)
@_ENGAGEMENT.command(body_example("a budget freeze", {"reason": "client budget freeze"}))
def suspend_engagement(engagement_id: str, data: ReasonBody) -> object:
    return c.SuspendEngagement(EngagementId(engagement_id), data.reason)


@_ENGAGEMENTS.post(
    "/engagements/{engagement_id:str}/resume",
    "Resume a suspended engagement",
    *WRITE_PROBLEMS,
)
@_ENGAGEMENT.command()
def resume_engagement(engagement_id: str) -> object:
    return c.ResumeEngagement(EngagementId(engagement_id))


@_ENGAGEMENTS.post(
    "/engagements/{engagement_id:str}/start-closing",
    "Start closing an active engagement: no time for work from the close date on",
    *WRITE_PROBLEMS,
)
@_ENGAGEMENT.command(body_example("closing at the month end", {"close_date": "2026-06-30"}))
def start_closing_engagement(engagement_id: str, data: ClosingBody) -> object:
    return c.StartClosingEngagement(EngagementId(engagement_id), data.close_date)


@_ENGAGEMENTS.post(
    "/engagements/{engagement_id:str}/close",
    "Close a closing engagement (after final billing and revenue)",
    *WRITE_PROBLEMS,
)
@_ENGAGEMENT.command()
def close_engagement(engagement_id: str) -> object:
    return c.CloseEngagement(EngagementId(engagement_id))


@_ENGAGEMENTS.post(
    "/engagements/{engagement_id:str}/cancel",
    "Cancel an engagement whose setup has not started (proposed or contracted), with a reason",
    *RULED_WRITE_PROBLEMS,
)
@_ENGAGEMENT.command(body_example("the deal fell through", {"reason": "deal lost at signature"}))
def cancel_engagement(engagement_id: str, data: ReasonBody) -> object:
    return c.CancelEngagement(EngagementId(engagement_id), data.reason)


ROUTES = [
    list_engagements,
    get_engagement,
    propose_engagement,
    set_up_engagement,
    suspend_engagement,
    resume_engagement,
    start_closing_engagement,
    close_engagement,
    cancel_engagement,
]
