"""Contracts (the MSA) and their versions (the SOW, then each amendment or change order).

A version is drafted with its obligations, then approved; an approved version is immutable and
binds from its effective date. The first approval sets the engagement up in the downstream
systems. An **amendment** is the same two steps again: draft version n+1 with the obligations
as they are to be from its date, approve it; `GET /contracts/{id}/diff` says what it changes.

Obligation terms travel as JSON objects tagged with their billing model:
`{"model": "time_and_materials", "obligation_id": ..., "name": ..., ...terms}`; the models are
the ones registered in `domain.obligation` (time_and_materials, fixed_fee, retainer,
milestones, recurring). Decimals are strings; `currency` defaults to the contract's.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.openapi.spec import Example
from litestar.params import Body, Parameter, QueryParameter

from adapters.serialization import unstructure
from application import commands as c
from application.context import RequestContext
from domain.contract import Contract, ContractVersion, VersionState
from domain.engagement import Engagement
from domain.errors import UnknownCurrencyError
from domain.ids import ContractId, CustomerId, LegalEntityId
from domain.money import Currency
from domain.obligation import billing_model_for
from entrypoints.http.problems import FieldError, Problem
from entrypoints.http.routes.common import (
    WRITE_PROBLEMS,
    CurrencyCode,
    Cursor,
    CustomerFilter,
    Id,
    IdempotencyKey,
    Limit,
    Text,
    documented,
    permission,
)
from entrypoints.http.routes.obligations import (
    MAX_OBLIGATIONS,
    OBLIGATIONS_DOC,
    VERSION_EXAMPLES,
    obligations_from,
)
from entrypoints.http.routes.payers import (
    PAYERS_DOC,
    SPLIT_VERSION_EXAMPLE,
    ObligationPayersBody,
    ObligationPayersOut,
    payers_from,
    payers_out,
)
from entrypoints.http.runtime import (
    Page,
    context_of,
    execute,
    paginate,
    principal_of,
    services_of,
)

ContractPath = Annotated[
    str,
    Parameter(
        description="The contract id (the CLM's).",
        examples=[Example(summary="a contract", value="C-ACME-2026")],
    ),
]
VersionPath = Annotated[
    int,
    Parameter(
        ge=1,
        le=10_000,
        description="The version number (1 is the SOW, later ones amend it).",
        examples=[Example(summary="the first amendment", value=2)],
    ),
]


class ObligationSummary(msgspec.Struct):
    obligation_id: str
    model: str
    name: str


class VersionOut(msgspec.Struct, omit_defaults=True):
    version: int
    label: str
    effective_from: date
    state: str
    approved_at: datetime | None
    terminated_on: date | None
    obligations: list[ObligationSummary]
    #: Absent for a client viewer, who never sees the firm's people.
    approved_by: str | msgspec.UnsetType | None = msgspec.UNSET
    #: Obligations split between payers (ADR 0029); absent when the customer pays everything.
    payers: list[ObligationPayersOut] | msgspec.UnsetType = msgspec.UNSET


class EngagementRef(msgspec.Struct):
    engagement_id: str
    state: str


class ContractOut(msgspec.Struct):
    contract_id: str
    customer_id: str
    legal_entity_id: str
    currency: str
    name: str
    #: The engagement the contract belongs to, once the CRM proposed one.
    engagement: EngagementRef | None
    versions: list[VersionOut]


class ContractSummary(msgspec.Struct):
    contract_id: str
    customer_id: str
    legal_entity_id: str
    currency: str
    name: str
    versions: int
    #: The latest approved version, if any.
    current_version: int | None
    engagement_state: str | None


def _version_out(version: ContractVersion) -> VersionOut:
    return VersionOut(
        version=version.version,
        label=version.label,
        effective_from=version.effective_from,
        state=version.state.value,
        approved_by=version.approved_by,
        approved_at=version.approved_at,
        terminated_on=version.terminated_on,
        obligations=[
            ObligationSummary(t.obligation_id, billing_model_for(t).name, t.name)
            for t in version.obligations
        ],
        payers=payers_out(version) or msgspec.UNSET,
    )


def _contract_out(contract: Contract, engagement: Engagement | None) -> ContractOut:
    return ContractOut(
        contract_id=contract.contract_id,
        customer_id=contract.customer_id,
        legal_entity_id=contract.legal_entity_id,
        currency=contract.currency.code,
        name=contract.name,
        engagement=None
        if engagement is None
        else EngagementRef(engagement.engagement_id, engagement.state.value),
        versions=[_version_out(v) for v in contract.versions],
    )


def _current(contract: Contract) -> int | None:
    approved = [v.version for v in contract.versions if v.state is VersionState.APPROVED]
    return approved[-1] if approved else None


def _visible(request: Request[Any, Any, Any], contract_id: str) -> ContractOut:
    """The contract, or 404 when it does not exist or belongs to another client's customer."""
    services = services_of(request)
    with services.reader(context_of(request)) as uow:
        contract = uow.contracts.find(contract_id)
        engagement = uow.engagements.find_by_contract(ContractId(contract_id))
    principal = principal_of(request)
    if contract is None or not principal.sees(contract.customer_id):
        raise Problem("not-found", f"there is no contract {contract_id}")
    out = _contract_out(contract, engagement)
    if principal.scoped:  # a client viewer never sees the firm's people
        for version in out.versions:
            version.approved_by = msgspec.UNSET
    return out


def _contract(request: Request[Any, Any, Any], contract_id: str) -> Contract:
    services = services_of(request)
    with services.reader(context_of(request)) as uow:
        contract = uow.contracts.find(contract_id)
    if contract is None or not principal_of(request).sees(contract.customer_id):
        raise Problem("not-found", f"there is no contract {contract_id}")
    return contract


def _has_version(contract: Contract, version: int, pointer: str = "") -> None:
    if not 1 <= version <= len(contract.versions):
        raise Problem(
            "not-found",
            f"contract {contract.contract_id} has no version {version}",
            errors=[FieldError(pointer, "no such version")] if pointer else (),
        )


@get(
    "/contracts",
    opt=permission("contracts:read"),
    tags=["contracts"],
    summary="List contracts (a client viewer sees its customer's only)",
    responses=documented(),
    sync_to_thread=True,
)
def list_contracts(
    request: Request[Any, Any, Any],
    limit: Limit = None,
    cursor: Cursor = None,
    customer_id: CustomerFilter = None,
) -> Page[ContractSummary]:
    services = services_of(request)
    principal = principal_of(request)
    with services.reader(context_of(request)) as uow:
        contracts = uow.contracts.all()
        engagements = uow.engagements.for_contracts(c.contract_id for c in contracts)
    chosen = sorted(
        (
            x
            for x in contracts
            if principal.sees(x.customer_id)
            and (customer_id is None or x.customer_id == customer_id)
        ),
        key=lambda x: x.contract_id,
    )
    page = paginate(chosen, limit, cursor, services.limits)
    items = []
    for x in page.items:
        engagement = engagements.get(x.contract_id)
        items.append(
            ContractSummary(
                contract_id=x.contract_id,
                customer_id=x.customer_id,
                legal_entity_id=x.legal_entity_id,
                currency=x.currency.code,
                name=x.name,
                versions=len(x.versions),
                current_version=_current(x),
                engagement_state=None if engagement is None else engagement.state.value,
            )
        )
    return Page(items, page.next_cursor)


@get(
    "/contracts/{contract_id:str}",
    opt=permission("contracts:read"),
    tags=["contracts"],
    summary="One contract with its versions (number, label, effective date, state, "
    "obligations) and its engagement",
    responses=documented("not-found"),
    sync_to_thread=True,
)
def get_contract(request: Request[Any, Any, Any], contract_id: ContractPath) -> ContractOut:
    return _visible(request, contract_id)


class ContractBody(msgspec.Struct, forbid_unknown_fields=True):
    """The contract (MSA) as the CLM registers it; versions are drafted separately."""

    contract_id: Id
    customer_id: Id
    legal_entity_id: Id
    currency: CurrencyCode
    name: Text


@post(
    "/contracts",
    opt=permission("contracts:write"),
    tags=["contracts"],
    summary="Register a contract (the MSA); its SOW is drafted as version 1",
    responses=documented("conflict", "idempotency-key-reused", "request-in-progress"),
    status_code=201,
    sync_to_thread=True,
)
def register_contract(
    request: Request[Any, Any, Any],
    idempotency_key: IdempotencyKey,
    data: Annotated[
        ContractBody,
        Body(
            examples=[
                Example(
                    summary="an advisory MSA in euros",
                    value={
                        "contract_id": "C-ACME-2026",
                        "customer_id": "acme",
                        "legal_entity_id": "tl-uk",
                        "currency": "EUR",
                        "name": "Advisory services 2026",
                    },
                )
            ]
        ),
    ],
) -> Response[ContractOut]:
    try:
        Currency.of(data.currency)
    except UnknownCurrencyError as error:
        raise Problem(
            "validation-error", str(error), errors=[FieldError("/currency", str(error))]
        ) from None
    services = services_of(request)
    command = c.RegisterContract(
        ContractId(data.contract_id),
        CustomerId(data.customer_id),
        LegalEntityId(data.legal_entity_id),
        data.currency,
        data.name,
    )

    def run(ctx: RequestContext) -> tuple[int, object]:
        services.bus.handle(command, ctx)
        return 201, _visible(request, data.contract_id)

    return execute(request, data, run)


# Versions ---------------------------------------------------------------------------------


class VersionBody(msgspec.Struct, forbid_unknown_fields=True):
    effective_from: date
    obligations: Annotated[
        list[dict[str, Any]],
        msgspec.Meta(min_length=1, max_length=MAX_OBLIGATIONS, description=OBLIGATIONS_DOC),
    ]
    #: Defaults to "SOW" for version 1 and "Amendment n" after.
    label: Annotated[str, msgspec.Meta(max_length=200)] = ""
    payers: Annotated[
        list[ObligationPayersBody],
        msgspec.Meta(max_length=MAX_OBLIGATIONS, description=PAYERS_DOC),
    ] = []


@post(
    "/contracts/{contract_id:str}/versions",
    opt=permission("contracts:write"),
    tags=["contracts"],
    summary="Draft a version: the SOW, or an amendment (draft version n+1, then approve it)",
    description=(
        "A draft binds nothing until it is approved. An amendment (change order) is a new "
        "version holding every obligation as it is to be from its effective date; approve it "
        "with `POST /contracts/{contract_id}/versions/{version}/approve`. Issued invoices never "
        "change: unbilled work re-rates by the terms of its date.\n\n"
        + OBLIGATIONS_DOC
        + "\n\n"
        + PAYERS_DOC
    ),
    responses=documented(*WRITE_PROBLEMS, "business-rule", "request-in-progress"),
    status_code=201,
    sync_to_thread=True,
)
def draft_version(
    request: Request[Any, Any, Any],
    contract_id: ContractPath,
    idempotency_key: IdempotencyKey,
    data: Annotated[
        VersionBody,
        Body(
            examples=[
                *VERSION_EXAMPLES,
                Example(
                    summary="a fee shared by a grant and two payers", value=SPLIT_VERSION_EXAMPLE
                ),
            ]
        ),
    ],
) -> Response[VersionOut]:
    contract = _contract(request, contract_id)
    obligations = obligations_from(data.obligations, contract.currency.code)
    payers = payers_from(data.payers, contract.currency.code, obligations)
    services = services_of(request)
    command = c.DraftContractVersion(
        ContractId(contract_id), data.effective_from, obligations, data.label, payers
    )

    def run(ctx: RequestContext) -> tuple[int, object]:
        number: int = services.bus.handle(command, ctx)
        with services.reader(ctx) as uow:
            drafted = uow.contracts.get(contract_id)
        return 201, _version_out(drafted.versions[number - 1])

    return execute(request, data, run)


@post(
    "/contracts/{contract_id:str}/versions/{version:int}/approve",
    opt=permission("contracts:approve"),
    tags=["contracts"],
    summary="Approve a drafted version; the first approval sets the engagement up, a later "
    "one is an amendment that supersedes the version before it from its effective date",
    description=(
        "The answer is the contract with its engagement: after the first approval the "
        "engagement is `active` when setup went straight through, or `setup_blocked` (an "
        "exception waits in the finance queue, e.g. a missing tax profile)."
    ),
    responses=documented(*WRITE_PROBLEMS, "business-rule", "request-in-progress"),
    status_code=200,
    sync_to_thread=True,
)
def approve_version(
    request: Request[Any, Any, Any],
    contract_id: ContractPath,
    version: VersionPath,
    idempotency_key: IdempotencyKey,
) -> Response[ContractOut]:
    _has_version(_contract(request, contract_id), version)
    services = services_of(request)
    command = c.ApproveContractVersion(ContractId(contract_id), version)

    def run(ctx: RequestContext) -> tuple[int, object]:
        services.bus.handle(command, ctx)
        return 200, _visible(request, contract_id)

    return execute(request, None, run)


# The version-aware diff -------------------------------------------------------------------


class ObligationChange(msgspec.Struct, omit_defaults=True):
    obligation_id: str
    model: str
    name: str
    #: For a changed obligation: the top-level terms fields whose values differ.
    changed_fields: list[str] | msgspec.UnsetType = msgspec.UNSET
    #: The terms in the older version (absent for an added obligation).
    before: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET
    #: The terms in the newer version (absent for a removed obligation).
    after: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET


class DiffOut(msgspec.Struct):
    contract_id: str
    from_version: int
    to_version: int
    added: list[ObligationChange]
    removed: list[ObligationChange]
    changed: list[ObligationChange]


def _terms(terms: Any) -> dict[str, Any]:
    model = billing_model_for(terms)
    data: dict[str, Any] = unstructure(terms, model.terms_type)
    return {"model": model.name, **data}


def _change(before: Any, after: Any) -> ObligationChange:
    """One obligation across two versions (`None` on the side that does not hold it)."""
    shown = after if after is not None else before
    change = ObligationChange(shown.obligation_id, billing_model_for(shown).name, shown.name)
    if before is not None:
        change.before = _terms(before)
    if after is not None:
        change.after = _terms(after)
    if before is not None and after is not None:
        old, new = _terms(before), _terms(after)
        change.changed_fields = sorted(
            k for k in old.keys() | new.keys() if old.get(k) != new.get(k)
        )
    return change


@get(
    "/contracts/{contract_id:str}/diff",
    opt=permission("contracts:read"),
    tags=["contracts"],
    summary="What one version changes against another: obligations added, removed, changed",
    description=(
        "Without parameters: the latest version against the one before it (the last "
        "amendment). `changed_fields` names the terms that differ."
    ),
    responses=documented("not-found"),
    sync_to_thread=True,
)
def diff_versions(
    request: Request[Any, Any, Any],
    contract_id: ContractPath,
    from_version: Annotated[
        int | None,
        QueryParameter(
            name="from",
            required=False,
            ge=1,
            le=10_000,
            description="The older version (default: the one before `to`).",
            examples=[Example(summary="the SOW", value=1)],
        ),
    ] = None,
    to_version: Annotated[
        int | None,
        QueryParameter(
            name="to",
            required=False,
            ge=1,
            le=10_000,
            description="The newer version (default: the latest).",
            examples=[Example(summary="the first amendment", value=2)],
        ),
    ] = None,
) -> DiffOut:
    contract = _contract(request, contract_id)
    if not contract.versions:
        raise Problem("not-found", f"contract {contract_id} has no versions yet")
    if to_version is None:
        to_version = len(contract.versions)
    if from_version is None:
        from_version = max(to_version - 1, 1)
    _has_version(contract, from_version, "/query/from")
    _has_version(contract, to_version, "/query/to")
    diff = contract.diff(from_version, to_version)
    old = {t.obligation_id: t for t in contract.versions[from_version - 1].obligations}
    new = {t.obligation_id: t for t in contract.versions[to_version - 1].obligations}
    return DiffOut(
        contract_id=contract.contract_id,
        from_version=from_version,
        to_version=to_version,
        added=[_change(None, new[o]) for o in diff.added],
        removed=[_change(old[o], None) for o in diff.removed],
        changed=[
            _payers_change(contract, from_version, to_version, o, _change(old[o], new[o]))
            for o in diff.changed
        ],
    )


def _payers_change(
    contract: Contract, old: int, new: int, obligation_id: Any, change: ObligationChange
) -> ObligationChange:
    """A change of payers (split billing) is named among the changed fields as `payers`."""
    before = contract.versions[old - 1].payers_of(obligation_id)
    after = contract.versions[new - 1].payers_of(obligation_id)
    if before != after and isinstance(change.changed_fields, list):
        change.changed_fields = sorted([*change.changed_fields, "payers"])
    return change


ROUTES = [
    list_contracts,
    get_contract,
    register_contract,
    draft_version,
    approve_version,
    diff_versions,
]
