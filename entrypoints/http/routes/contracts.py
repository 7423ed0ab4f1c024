"""Contracts (the MSA) and their versions (the SOW, then each amendment or change order).

A version is drafted with its obligations, then approved; an approved version is immutable and
binds from its effective date. The first approval sets the engagement up in the downstream
systems. An **amendment** is the same two steps again: draft version n+1 with the obligations
as they are to be from its date, approve it; `GET /contracts/{id}/diff` says what it changes.

Obligation terms travel as JSON objects tagged with their billing model:
`{"model": "time_and_materials", "obligation_id": ..., "name": ..., ...terms}`; the models are
the ones registered in `domain.obligation` (`registered_models()`). Decimals are strings;
`currency` defaults to the contract's.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.openapi.spec import Example
from litestar.params import Body

from application import commands as c
from domain.ids import ContractId, CustomerId, LegalEntityId
from entrypoints.http.routes.common import (
    RULED_WRITE_PROBLEMS,
    CurrencyCode,
    Id,
    IdempotencyKey,
    Text,
    check_currency,
)
from entrypoints.http.routes.contract_reads import (
    ContractOut,
    ContractPath,
    VersionOut,
    contract_answer,
    diff_versions,
    get_contract,
    has_version,
    list_contracts,
    version_out,
    visible_contract,
)
from entrypoints.http.routes.declare import RouteFamily, body_example, path_param, respond_after
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
    payers_from,
)

VersionPath = Annotated[
    int,
    path_param(
        "The version number (1 is the SOW, later ones amend it).",
        "the first amendment",
        2,
        ge=1,
        le=10_000,
    ),
]


class ContractBody(msgspec.Struct, forbid_unknown_fields=True):
    """The contract (MSA) as the CLM registers it; versions are drafted separately."""

    contract_id: Id
    customer_id: Id
    legal_entity_id: Id
    currency: CurrencyCode
    name: Text


_CONTRACTS = RouteFamily("contracts", "contracts:write")


@_CONTRACTS.create(
    "/contracts",
    "Register a contract (the MSA); its SOW is drafted as version 1",
)
def register_contract(
    request: Request[Any, Any, Any],
    idempotency_key: IdempotencyKey,
    data: Annotated[
        ContractBody,
        body_example(
            "an advisory MSA in euros",
            {
                "contract_id": "C-ACME-2026",
                "customer_id": "acme",
                "legal_entity_id": "tl-uk",
                "currency": "EUR",
                "name": "Advisory services 2026",
            },
        ),
    ],
) -> Response[ContractOut]:
    check_currency(data.currency, "/currency")
    command = c.RegisterContract(
        ContractId(data.contract_id),
        CustomerId(data.customer_id),
        LegalEntityId(data.legal_entity_id),
        data.currency,
        data.name,
    )

    return respond_after(
        request, data, command, lambda _: contract_answer(request, data.contract_id), status=201
    )


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


@_CONTRACTS.post(
    "/contracts/{contract_id:str}/versions",
    "Draft a version: the SOW, or an amendment (draft version n+1, then approve it)",
    *RULED_WRITE_PROBLEMS,
    status_code=201,
    description=(
        "A draft binds nothing until it is approved. An amendment (change order) is a new "
        "version holding every obligation as it is to be from its effective date; approve it "
        "with `POST /contracts/{contract_id}/versions/{version}/approve`. Issued invoices never "
        "change: unbilled work re-rates by the terms of its date.\n\n"
        + OBLIGATIONS_DOC
        + "\n\n"
        + PAYERS_DOC
    ),
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
    contract = visible_contract(request, contract_id).contract
    obligations = obligations_from(data.obligations, contract.currency.code)
    payers = payers_from(data.payers, contract.currency.code, obligations)
    command = c.DraftContractVersion(
        ContractId(contract_id), data.effective_from, obligations, data.label, payers
    )

    def answer(number: int) -> VersionOut:
        drafted = visible_contract(request, contract_id).contract
        return version_out(drafted.versions[number - 1])

    return respond_after(request, data, command, answer, status=201)


@_CONTRACTS.post(
    "/contracts/{contract_id:str}/versions/{version:int}/approve",
    (
        "Approve a drafted version; the first approval sets the engagement up, a later "
        "one is an amendment that supersedes the version before it from its effective date"
    ),
    *RULED_WRITE_PROBLEMS,
    permission="contracts:approve",
    description=(
        "The answer is the contract with its engagement: after the first approval the "
        "engagement is `active` when setup went straight through, or `setup_blocked` (an "
        "exception waits in the finance queue, e.g. a missing tax profile)."
    ),
)
def approve_version(
    request: Request[Any, Any, Any],
    contract_id: ContractPath,
    version: VersionPath,
    idempotency_key: IdempotencyKey,
) -> Response[ContractOut]:
    has_version(visible_contract(request, contract_id).contract, version)
    command = c.ApproveContractVersion(ContractId(contract_id), version)

    return respond_after(request, None, command, lambda _: contract_answer(request, contract_id))


ROUTES = [
    list_contracts,
    get_contract,
    register_contract,
    draft_version,
    approve_version,
    diff_versions,
]
