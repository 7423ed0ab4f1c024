"""Rate cards: role -> hourly sell rate, resource overrides, effective-dated versions.

A change is made by one person and approved by another (maker-checker): finance proposes a
version (`rates:write`), a finance approver approves it (`rates:approve`), and only then does
it price work dated on or after its effective date. Whoever proposed a version gets
403 `maker-checker` when approving it. Published versions never change.

A version is proposed in full (`/versions`) or as an amendment (`/amendments`): the rates that
change from a date, which the card turns into the whole next version (the one in force on that
date plus the changes), so the roles it does not name keep their rates (ADR 0032).

Rate cards hold sell rates only; cost rates travel with time entries and are shown, like
margins, to holders of `rates:read_cost` alone.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Request, Response

from application import commands as c
from application.queries.paging import PageRequest
from domain.ids import RateCardId, ResourceId, Role
from domain.money import Money
from domain.ratecard import RateCard, RateCardVersion
from entrypoints.http.problems import NOT_BLANK_PATTERN, FieldError, Problem
from entrypoints.http.routes.common import (
    RULED_WRITE_PROBLEMS,
    WRITE_PROBLEMS,
    CurrencyCode,
    DecimalString,
    Id,
    IdempotencyKey,
    MoneyOut,
    Text,
    check_currency,
    exact_out,
    or_not_found,
    refuse_fields,
)
from entrypoints.http.routes.declare import (
    RouteFamily,
    Subject,
    body_example,
    body_examples,
    path_param,
    respond_after,
)
from entrypoints.http.routes.keyset import Rows, paged
from entrypoints.http.runtime import ops_reads_of

RateCardPath = Annotated[
    str,
    path_param("The rate card id.", "a rate card", "RC-UK"),
]
VersionPath = Annotated[
    int,
    path_param("The version number.", "the second version", 2, ge=1, le=10_000),
]
#: A role (or resource) a rate is for: a rate for a blank role would price time nobody can name.
RoleName = Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=NOT_BLANK_PATTERN)]
#: Roles (or resources) in one version, at most.
MAX_RATES = 500


class RateCardVersionOut(msgspec.Struct):
    version: int
    effective_from: date
    role_rates: dict[str, MoneyOut]
    resource_overrides: dict[str, MoneyOut]
    #: The maker and the checker (null for versions loaded without the approval step).
    proposed_by: str | None
    approved_by: str | None
    approved_at: datetime | None


class ProposalOut(msgspec.Struct):
    version: int
    effective_from: date
    role_rates: dict[str, MoneyOut]
    resource_overrides: dict[str, MoneyOut]
    proposed_by: str
    proposed_at: datetime


class RateCardOut(msgspec.Struct):
    rate_card_id: str
    name: str
    currency: str
    #: The number the next proposal takes.
    next_version: int
    versions: list[RateCardVersionOut]
    #: Proposed versions waiting for approval, in the order they publish.
    proposals: list[ProposalOut]


class RateCardSummary(msgspec.Struct):
    rate_card_id: str
    name: str
    currency: str
    published_versions: int
    pending_proposals: int


def _rates(version: RateCardVersion) -> tuple[dict[str, MoneyOut], dict[str, MoneyOut]]:
    def out(rates: Any) -> dict[str, MoneyOut]:
        return {key: exact_out(Money(rates[key], version.currency)) for key in sorted(rates)}

    return out(version.role_rates), out(version.resource_overrides)


def _rate_card_out(card: RateCard) -> RateCardOut:
    versions = []
    for version in card.versions:
        roles, resources = _rates(version)
        approval = card.approval_of(version.version)
        versions.append(
            RateCardVersionOut(
                version=version.version,
                effective_from=version.effective_from,
                role_rates=roles,
                resource_overrides=resources,
                proposed_by=None if approval is None else approval.proposed_by,
                approved_by=None if approval is None else approval.approved_by,
                approved_at=None if approval is None else approval.approved_at,
            )
        )
    proposals = []
    for proposal in card.proposals:
        roles, resources = _rates(proposal.version)
        proposals.append(
            ProposalOut(
                version=proposal.version.version,
                effective_from=proposal.version.effective_from,
                role_rates=roles,
                resource_overrides=resources,
                proposed_by=proposal.proposed_by,
                proposed_at=proposal.proposed_at,
            )
        )
    return RateCardOut(
        rate_card_id=card.rate_card_id,
        name=card.name,
        currency=card.currency.code,
        next_version=card.next_version_number,
        versions=versions,
        proposals=proposals,
    )


def _card(request: Request[Any, Any, Any], rate_card_id: str) -> RateCard:
    card = ops_reads_of(request).rate_cards.rate_card(rate_card_id)
    return or_not_found(card, "rate card", rate_card_id)


_RATE_CARDS = RouteFamily("rate cards", "rates:write")


def _proposed(
    request: Request[Any, Any, Any], rate_card_id: str, body: object, command: object
) -> Response[RateCardOut]:
    """Propose a version and answer 201 with the card as it now stands."""
    return respond_after(
        request, body, command, lambda _: _rate_card_out(_card(request, rate_card_id)), status=201
    )


_PROPOSAL = Subject("rate_card_id", RateCardPath, RateCardOut, _proposed)


@_RATE_CARDS.get("/rate-cards", "List rate cards", permission="rates:read")
@paged(
    RateCardSummary,
    lambda r: RateCardSummary(r.rate_card_id, r.name, r.currency, r.versions, r.proposals),
)
def list_rate_cards(request: Request[Any, Any, Any], page: PageRequest) -> Rows:
    return ops_reads_of(request).rate_cards.rate_cards(page)


@_RATE_CARDS.get(
    "/rate-cards/{rate_card_id:str}",
    (
        "One rate card: published versions with their sell rates, maker and checker, and "
        "the proposals waiting for approval"
    ),
    "not-found",
    permission="rates:read",
)
def get_rate_card(request: Request[Any, Any, Any], rate_card_id: RateCardPath) -> RateCardOut:
    return _rate_card_out(_card(request, rate_card_id))


class RateCardBody(msgspec.Struct, forbid_unknown_fields=True):
    rate_card_id: Id
    name: Text
    currency: CurrencyCode


@_RATE_CARDS.create(
    "/rate-cards",
    "Create a rate card (its versions are proposed and approved separately)",
)
def create_rate_card(
    request: Request[Any, Any, Any],
    idempotency_key: IdempotencyKey,
    data: Annotated[
        RateCardBody,
        body_example(
            "a regional rate card",
            {"rate_card_id": "RC-UK", "name": "UK rates 2026", "currency": "EUR"},
        ),
    ],
) -> Response[RateCardOut]:
    check_currency(data.currency, "/currency")
    command = c.CreateRateCard(RateCardId(data.rate_card_id), data.name, data.currency)

    return respond_after(
        request,
        data,
        command,
        lambda _: _rate_card_out(_card(request, data.rate_card_id)),
        status=201,
    )


class ProposalBody(msgspec.Struct, forbid_unknown_fields=True):
    """A new version's sell rates (hourly, in the card's currency); the server numbers it."""

    effective_from: date
    role_rates: Annotated[
        dict[RoleName, DecimalString], msgspec.Meta(min_length=1, max_length=MAX_RATES)
    ]
    #: A resource's own rate beats its role's.
    resource_overrides: Annotated[
        dict[RoleName, DecimalString], msgspec.Meta(max_length=MAX_RATES)
    ] = msgspec.field(default_factory=dict)


def _rates_set(
    data: ProposalBody | AmendmentBody,
) -> tuple[dict[Role, Decimal], dict[ResourceId, Decimal]]:
    """The role rates and the resources' own rates a proposal sets, none negative."""
    roles = _non_negative(data.role_rates, "/role_rates")
    resources = _non_negative(data.resource_overrides, "/resource_overrides")
    return {Role(k): v for k, v in roles.items()}, {ResourceId(k): v for k, v in resources.items()}


def _non_negative(rates: dict[str, str], where: str) -> dict[str, Decimal]:
    errors = [
        FieldError(
            f"{where}/{key.replace('~', '~0').replace('/', '~1')}", "a rate is never negative"
        )
        for key, value in rates.items()
        if Decimal(value) < 0
    ]
    refuse_fields(errors, located=True)
    return {key: Decimal(value) for key, value in rates.items()}


@_RATE_CARDS.post(
    "/rate-cards/{rate_card_id:str}/versions",
    "Propose the next version (the maker); it prices nothing until someone else approves it",
    *RULED_WRITE_PROBLEMS,
    status_code=201,
)
@_PROPOSAL.command(
    body_example(
        "new rates from July, with one named override",
        {
            "effective_from": "2026-07-01",
            "role_rates": {"consultant": "1250.00", "manager": "1600.00"},
            "resource_overrides": {"r-ana": "1400.00"},
        },
    )
)
def propose_version(
    request: Request[Any, Any, Any], rate_card_id: str, data: ProposalBody
) -> object:
    card = _card(request, rate_card_id)
    role_rates, overrides = _rates_set(data)
    version = RateCardVersion(
        card.next_version_number, data.effective_from, card.currency, role_rates, overrides
    )
    return c.ProposeRateCardVersion(RateCardId(rate_card_id), version)


class AmendmentBody(msgspec.Struct, forbid_unknown_fields=True):
    """The rates that change from a date; every other rate stays as the version in force on
    that date has it. The server makes the whole next version and numbers it."""

    effective_from: date
    #: Roles whose rate is set (added or changed) from `effective_from`.
    role_rates: Annotated[dict[RoleName, DecimalString], msgspec.Meta(max_length=MAX_RATES)] = (
        msgspec.field(default_factory=dict)
    )
    #: Resources whose own rate is set (added or changed).
    resource_overrides: Annotated[
        dict[RoleName, DecimalString], msgspec.Meta(max_length=MAX_RATES)
    ] = msgspec.field(default_factory=dict)
    #: Roles that no longer have a rate from `effective_from`.
    removed_roles: Annotated[list[RoleName], msgspec.Meta(max_length=MAX_RATES)] = msgspec.field(
        default_factory=list
    )
    #: Resources whose own rate ends (their role's rate applies again).
    removed_overrides: Annotated[list[RoleName], msgspec.Meta(max_length=MAX_RATES)] = (
        msgspec.field(default_factory=list)
    )

    @property
    def is_empty(self) -> bool:
        changes = (self.role_rates, self.resource_overrides, self.removed_roles)
        return not any(changes) and not self.removed_overrides


def _removal_errors(
    field: str, removed: list[str], changed: dict[str, str], had: Any, basis: Any, on: date
) -> list[FieldError]:
    errors = []
    for index, key in enumerate(removed):
        pointer = f"/{field}/{index}"
        if key in changed:
            errors.append(FieldError(pointer, f"{key!r} is both set and removed"))
        elif key not in had:
            source = "no version" if basis is None else f"version {basis.version}"
            errors.append(
                FieldError(pointer, f"{key!r} has no rate to remove: {source} is in force on {on}")
            )
    return errors


def _amendment_errors(card: RateCard, data: AmendmentBody) -> list[FieldError]:
    """What makes an amendment impossible, each at its field: no change at all, a rate both
    set and removed, or a removal of a rate the version in force on the date does not have."""
    if data.is_empty:
        return [FieldError("/role_rates", "an amendment changes at least one rate")]
    basis = card.basis_on(data.effective_from)
    roles = {} if basis is None else basis.role_rates
    overrides = {} if basis is None else basis.resource_overrides
    on = data.effective_from
    return [
        *_removal_errors("removed_roles", data.removed_roles, data.role_rates, roles, basis, on),
        *_removal_errors(
            "removed_overrides",
            data.removed_overrides,
            data.resource_overrides,
            overrides,
            basis,
            on,
        ),
    ]


@_RATE_CARDS.post(
    "/rate-cards/{rate_card_id:str}/amendments",
    (
        "Propose the next version as changes (the maker): the version in force on the date "
        "plus these rates; it prices nothing until someone else approves it"
    ),
    *RULED_WRITE_PROBLEMS,
    status_code=201,
)
@_PROPOSAL.command(
    body_examples(
        {
            "the manager rate changes from July; every other rate stays": {
                "effective_from": "2026-07-01",
                "role_rates": {"manager": "1650.00"},
            },
            "a new role, and one person's own rate ends": {
                "effective_from": "2026-09-01",
                "role_rates": {"architect": "1900.00"},
                "removed_overrides": ["r-ana"],
            },
        }
    )
)
def propose_amendment(
    request: Request[Any, Any, Any], rate_card_id: str, data: AmendmentBody
) -> object:
    card = _card(request, rate_card_id)
    role_rates, overrides = _rates_set(data)
    refuse_fields(_amendment_errors(card, data), located=True)
    return c.ProposeRateCardAmendment(
        RateCardId(rate_card_id),
        data.effective_from,
        role_rates,
        overrides,
        tuple(Role(r) for r in data.removed_roles),
        tuple(ResourceId(r) for r in data.removed_overrides),
    )


@_RATE_CARDS.post(
    "/rate-cards/{rate_card_id:str}/versions/{version:int}/approve",
    "Approve a proposed version (the checker: never its proposer); it is published",
    *WRITE_PROBLEMS,
    "maker-checker",
    permission="rates:approve",
)
def approve_version(
    request: Request[Any, Any, Any],
    rate_card_id: RateCardPath,
    version: VersionPath,
    idempotency_key: IdempotencyKey,
) -> Response[RateCardOut]:
    card = _card(request, rate_card_id)
    if version > len(card.versions) and version not in {p.version.version for p in card.proposals}:
        raise Problem("not-found", f"rate card {rate_card_id} has no proposed version {version}")
    command = c.ApproveRateCardVersion(RateCardId(rate_card_id), version)

    return respond_after(
        request, None, command, lambda _: _rate_card_out(_card(request, rate_card_id))
    )


ROUTES = [
    list_rate_cards,
    get_rate_card,
    create_rate_card,
    propose_version,
    propose_amendment,
    approve_version,
]
