"""Our legal entities' master data as a JSON document (ADR 0037): the demo's seed file shipped
next to the code, read at start-up of the demo and kept as version 1 of every entity the store
does not hold yet.

    {"legal_entities": [{"legal_entity_id": "HR-FR", "legal_name": "...",
                         "address": {"lines": [...], "city": "...", "postal_code": "...",
                                     "country": "FR"},
                         "vat_id": "FR...", "registration_id": "...",
                         "electronic_address": "billing@...",
                         "payment_account": {"iban": "FR76...", "bic": "...",
                                             "account_name": "..."}}]}

Anything wrong stops the reading with a message naming the entity and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from adapters.json_document import known_object, listed, read_document
from application.customer_master import PostalAddress
from application.legal_entities import LegalEntityRecord, PaymentAccount, entity_problems

_ENTITY_FIELDS = frozenset(
    {
        "legal_entity_id",
        "legal_name",
        "address",
        "vat_id",
        "registration_id",
        "electronic_address",
        "payment_account",
    }
)
_ADDRESS_FIELDS = frozenset({"lines", "city", "postal_code", "country"})
_ACCOUNT_FIELDS = frozenset({"iban", "account_number", "bic", "account_name"})


class InvalidLegalEntitiesError(ValueError):
    """The legal entities file cannot be read, or an entity in it breaks a rule."""


def _object(where: str, raw: Any, fields: frozenset[str]) -> Mapping[str, Any]:
    return known_object(where, raw, fields, InvalidLegalEntitiesError)


def _text(where: str, raw: Mapping[str, Any], field: str, required: bool = False) -> str | None:
    value = raw.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise InvalidLegalEntitiesError(f"{where}: {field} is a string")
    return value


def entity_from_json(raw: Any, where: str = "legal entity") -> LegalEntityRecord:
    """One legal entity from its JSON object; unknown fields and broken rules are refused."""
    entity = _object(where, raw, _ENTITY_FIELDS)
    address = _object(f"{where}.address", entity.get("address"), _ADDRESS_FIELDS)
    lines = address.get("lines")
    if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
        raise InvalidLegalEntitiesError(f"{where}.address: lines is a list of strings")
    account = None
    if entity.get("payment_account") is not None:
        raw_account = _object(
            f"{where}.payment_account", entity["payment_account"], _ACCOUNT_FIELDS
        )
        where_account = f"{where}.payment_account"
        account = PaymentAccount(
            iban=_text(where_account, raw_account, "iban"),
            account_number=_text(where_account, raw_account, "account_number"),
            bic=_text(where_account, raw_account, "bic"),
            account_name=_text(where_account, raw_account, "account_name"),
        )
    record = LegalEntityRecord(
        str(_text(where, entity, "legal_entity_id", required=True)),
        str(_text(where, entity, "legal_name", required=True)),
        PostalAddress(
            tuple(lines),
            str(_text(f"{where}.address", address, "city", required=True)),
            _text(f"{where}.address", address, "postal_code") or "",
            str(_text(f"{where}.address", address, "country", required=True)),
        ),
        vat_id=_text(where, entity, "vat_id"),
        registration_id=_text(where, entity, "registration_id"),
        electronic_address=_text(where, entity, "electronic_address"),
        payment_account=account,
    )
    problems = entity_problems(record)
    if problems:
        field, detail = problems[0]
        raise InvalidLegalEntitiesError(f"{where}: {field}: {detail}")
    return record


def read_legal_entities(path: Path) -> tuple[LegalEntityRecord, ...]:
    """Every legal entity of the file; a bad file stops the reading with what is wrong."""
    document = read_document(path, InvalidLegalEntitiesError)
    entities = listed(
        document, "legal_entities", str(path), "legal entity", InvalidLegalEntitiesError
    )
    records = tuple(entity_from_json(raw, at) for at, raw in entities)
    ids = [r.legal_entity_id for r in records]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise InvalidLegalEntitiesError(f"{path}: legal entity {twice[0]} appears twice")
    return records


#: The demo's legal entities, shipped next to the code.
DEMO_LEGAL_ENTITIES = Path(__file__).resolve().parent / "legal_entities.json"
