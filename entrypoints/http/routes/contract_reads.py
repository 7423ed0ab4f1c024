"""Contracts as people read them: the list, one contract with its versions and engagement,
and what one version changes against another (`GET /contracts/{id}/diff`).

A client viewer sees its own customer's contracts only (another's is 404) and never the
firm's people (`approved_by`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import attrs
import msgspec
from litestar import Request

from adapters.serialization import unstructure
from application.queries.contracts import ContractFilter, ContractSummaryView, ContractView
from application.queries.paging import PageRequest
from domain.contract import Contract, ContractVersion
from domain.obligation import billing_model_for
from entrypoints.http.problems import FieldError, Problem
from entrypoints.http.routes.common import CustomerFilter, or_not_found, out_of, published
from entrypoints.http.routes.declare import RouteFamily, optional_query, path_param
from entrypoints.http.routes.keyset import Rows, paged
from entrypoints.http.routes.payers import ObligationPayersOut, payers_out
from entrypoints.http.runtime import ops_reads_of, principal_of

ContractPath = Annotated[
    str,
    path_param("The contract id (the CLM's).", "a contract", "C-ACME-2026"),
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


#: What a row of the contract list publishes of its read model: all of it.
_SUMMARY_FIELDS = (
    "contract_id", "customer_id", "legal_entity_id", "currency", "name", "versions",
    "current_version", "engagement_state",
)  # fmt: skip


class ContractSummary(published(ContractSummaryView, *_SUMMARY_FIELDS)):
    """A row of the contract list on the wire."""


def version_out(version: ContractVersion) -> VersionOut:
    return out_of(
        VersionOut,
        version,
        state=version.state.value,
        approved_by=version.approved_by,
        obligations=[
            ObligationSummary(t.obligation_id, billing_model_for(t).name, t.name)
            for t in version.obligations
        ],
        payers=payers_out(version) or msgspec.UNSET,
    )


def _contract_out(view: ContractView) -> ContractOut:
    contract = view.contract
    return out_of(
        ContractOut,
        contract,
        currency=contract.currency.code,
        engagement=None
        if view.engagement_id is None or view.engagement_state is None
        else EngagementRef(view.engagement_id, view.engagement_state),
        versions=[version_out(v) for v in contract.versions],
    )


def visible_contract(request: Request[Any, Any, Any], contract_id: str) -> ContractView:
    """The contract (one read), or 404 when it does not exist or belongs to another client's
    customer."""
    view = ops_reads_of(request).contracts.contract(contract_id)
    principal = principal_of(request)
    return or_not_found(
        view, "contract", contract_id, lambda v: principal.sees(v.contract.customer_id)
    )


def contract_answer(request: Request[Any, Any, Any], contract_id: str) -> ContractOut:
    """The contract as the caller may see it: a client viewer never sees the firm's people."""
    out = _contract_out(visible_contract(request, contract_id))
    if principal_of(request).scoped:
        for version in out.versions:
            version.approved_by = msgspec.UNSET
    return out


def has_version(contract: Contract, version: int, pointer: str = "") -> None:
    if not 1 <= version <= len(contract.versions):
        raise Problem(
            "not-found",
            f"contract {contract.contract_id} has no version {version}",
            errors=[FieldError(pointer, "no such version")] if pointer else (),
        )


_CONTRACTS = RouteFamily("contracts", "contracts:read")


@_CONTRACTS.get("/contracts", "List contracts (a client viewer sees its customer's only)")
@paged(ContractSummary, lambda x: ContractSummary(*attrs.astuple(x, recurse=False)))
def list_contracts(
    request: Request[Any, Any, Any],
    page: PageRequest,
    customer_id: CustomerFilter = None,
) -> Rows:
    principal = principal_of(request)
    where = ContractFilter(customer_id, principal.customer_id if principal.scoped else None)
    return ops_reads_of(request).contracts.contracts(where, page)


@_CONTRACTS.get(
    "/contracts/{contract_id:str}",
    (
        "One contract with its versions (number, label, effective date, state, "
        "obligations) and its engagement"
    ),
    "not-found",
)
def get_contract(request: Request[Any, Any, Any], contract_id: ContractPath) -> ContractOut:
    return contract_answer(request, contract_id)


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


@_CONTRACTS.get(
    "/contracts/{contract_id:str}/diff",
    "What one version changes against another: obligations added, removed, changed",
    "not-found",
    description=(
        "Without parameters: the latest version against the one before it (the last "
        "amendment). `changed_fields` names the terms that differ."
    ),
)
def diff_versions(
    request: Request[Any, Any, Any],
    contract_id: ContractPath,
    from_version: Annotated[
        int | None,
        optional_query(
            "from",
            "the SOW",
            1,
            ge=1,
            le=10_000,
            description="The older version (default: the one before `to`).",
        ),
    ] = None,
    to_version: Annotated[
        int | None,
        optional_query(
            "to",
            "the first amendment",
            2,
            ge=1,
            le=10_000,
            description="The newer version (default: the latest).",
        ),
    ] = None,
) -> DiffOut:
    contract = visible_contract(request, contract_id).contract
    if not contract.versions:
        raise Problem("not-found", f"contract {contract_id} has no versions yet")
    if to_version is None:
        to_version = len(contract.versions)
    if from_version is None:
        from_version = max(to_version - 1, 1)
    has_version(contract, from_version, "/query/from")
    has_version(contract, to_version, "/query/to")
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
