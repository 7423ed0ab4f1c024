"""The CLM's contract events: a contract approved (the MSA and its first SOW) and amended.

Obligation terms are the tagged union a stored contract version holds (`{"model":
"time_and_materials", ...}`), structured by the project's one converter
(`adapters.serialization`), so a webhook and a snapshot can never disagree about what terms
look like, and a new billing model is accepted here as soon as it is registered. Two things
are stricter here than in a snapshot: an amount written as a JSON number is refused (the
converter takes integers for decimals), and every obligation must be in the contract's
currency.
"""

from __future__ import annotations

import ast
import re
import types
import typing
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

import attrs

from adapters.serialization import SerializationError, structure_obligations
from adapters.webhooks.fields import AMOUNT_AS_NUMBER, JsonObject, Problems, escape
from application import commands as c
from domain.ids import ContractId, CustomerId, LegalEntityId
from domain.money import Currency
from domain.obligation import registered_models

MAX_OBLIGATIONS: Final = 100

_PATH_TOKEN = re.compile(r"\.([^.\[]+)|\[([0-9]+)\]|\[('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")\]")


def contract_approved(data: JsonObject) -> list[object]:
    """The contract is registered, its first version (the SOW) drafted and approved; the
    approval sets the engagement up."""
    contract_id = data.identifier("contract_id")
    customer_id = data.identifier("customer_id")
    legal_entity_id = data.identifier("legal_entity_id")
    currency = data.currency("currency")
    name = data.required_text("name")
    effective_from = data.day("effective_from")
    label = data.text("label", required=False, max_length=200)
    obligations = read_obligations(data, "obligations", currency)
    data.finish()
    data.problems.raise_if_any()
    assert currency is not None
    contract = ContractId(contract_id)
    return [
        c.RegisterContract(
            contract, CustomerId(customer_id), LegalEntityId(legal_entity_id), currency.code, name
        ),
        c.DraftContractVersion(contract, effective_from, obligations, label),
        c.ApproveContractVersion(contract, 1),
    ]


def contract_amended(data: JsonObject) -> list[object]:
    """A new version (an amendment or change order) is drafted and approved; it must be the
    next version number Throughline holds for the contract."""
    contract_id = data.identifier("contract_id")
    version = data.integer("version", minimum=2)
    effective_from = data.day("effective_from")
    label = data.text("label", required=False, max_length=200)
    obligations = read_obligations(data, "obligations", None)
    data.finish()
    data.problems.raise_if_any()
    contract = ContractId(contract_id)
    return [
        c.DraftContractVersion(contract, effective_from, obligations, label),
        c.ApproveContractVersion(contract, version),
    ]


def read_obligations(data: JsonObject, name: str, currency: Currency | None) -> tuple[Any, ...]:
    """The obligations of a version, every bad field reported under the array's pointer."""
    pointer, problems = data.at(name), data.problems
    raw = data.raw(name)
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        problems.add(pointer, "expected a non-empty array of obligations")
        return ()
    if len(raw) > MAX_OBLIGATIONS:
        problems.add(pointer, f"at most {MAX_OBLIGATIONS} obligations in one version")
        return ()
    models = {model.name: model.terms_type for model in registered_models()}
    for index, item in enumerate(raw):
        if isinstance(item, dict) and item.get("model") in models:
            _numbers_as_decimals(item, models[item["model"]], f"{pointer}/{index}", problems)
    try:
        obligations = structure_obligations(raw)
    except SerializationError as error:
        for path, detail in error.problems:
            at = pointer + path_to_pointer(path)
            if not problems.at(at):  # a number already reported as such
                problems.add(at, detail)
        return ()
    seen: dict[str, int] = {}
    for index, terms in enumerate(obligations):
        if terms.obligation_id in seen:
            problems.add(
                f"{pointer}/{index}/obligation_id",
                f"repeats obligation {seen[terms.obligation_id]} of this version",
            )
        seen.setdefault(terms.obligation_id, index)
        if currency is not None and terms.currency != currency:
            problems.add(
                f"{pointer}/{index}/currency",
                f"{terms.currency} differs from the contract's currency {currency}",
            )
    return obligations


def path_to_pointer(path: str) -> str:
    """`$.obligations[0].caps['travel']` (the converter's paths) as a JSON pointer."""
    tokens, position = [], 1
    while position < len(path):
        match = _PATH_TOKEN.match(path, position)
        if match is None:
            break
        name, index, quoted = match.groups()
        token = (
            name if name is not None else index if index is not None else ast.literal_eval(quoted)
        )
        tokens.append(escape(str(token)))
        position = match.end()
    return "".join(f"/{token}" for token in tokens)


def _numbers_as_decimals(value: object, annotation: Any, pointer: str, problems: Problems) -> None:
    """Report every JSON number where the terms expect a decimal."""
    annotation = _without_none(annotation)
    if annotation is Decimal:
        if isinstance(value, int | float) and not isinstance(value, bool):
            problems.add(pointer, f"{AMOUNT_AS_NUMBER} (got {value!r})")
        return
    if isinstance(annotation, type) and attrs.has(annotation) and isinstance(value, dict):
        hints = typing.get_type_hints(annotation)
        for field in attrs.fields(annotation):
            if field.name in value:
                at = f"{pointer}/{escape(field.name)}"
                _numbers_as_decimals(value[field.name], hints[field.name], at, problems)
        return
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (tuple, list) and args and isinstance(value, list):
        for index, item in enumerate(value):
            _numbers_as_decimals(item, args[0], f"{pointer}/{index}", problems)
    elif origin in (dict, Mapping) and len(args) == 2 and isinstance(value, dict):
        for key, item in value.items():
            _numbers_as_decimals(item, args[1], f"{pointer}/{escape(str(key))}", problems)


def _without_none(annotation: Any) -> Any:
    """`X | None` as `X` (other unions stay as they are)."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        rest = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return rest[0] if len(rest) == 1 else annotation
    return annotation
