"""The seller's master data: the rules a legal entity's record keeps, and the demo's seed file."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import pytest

from adapters.legal_entities import (
    DEMO_LEGAL_ENTITIES,
    InvalidLegalEntitiesError,
    read_legal_entities,
)
from application.customer_master import PostalAddress
from application.legal_entities import (
    LegalEntityRecord,
    PaymentAccount,
    entity_problems,
    iban_valid,
)

RECORD = LegalEntityRecord(
    "HR-FR",
    "Halden & Rowe Conseil SAS",
    PostalAddress(("18 rue de la Chaussee d'Antin",), "Paris", "75009", "FR"),
    vat_id="FR32851234567",
    payment_account=PaymentAccount(iban="FR7630006000011234567890189", bic="AGRIFRPP"),
)


def fields(record: LegalEntityRecord) -> list[str]:
    return [field for field, _ in entity_problems(record)]


def test_a_complete_record_breaks_no_rule() -> None:
    assert entity_problems(RECORD) == []


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        ("FR7630006000011234567890189", True),
        ("GB33BUKB20201555555555", True),
        ("DE89370400440532013000", True),
        ("GB34BUKB20201555555555", False),  # check digits off by one
        ("XX33BUKB20201555555555", False),  # no such country
        ("FR76 3000 6000", False),
    ],
)
def test_an_iban_holds_only_when_its_check_digits_do(iban: str, valid: bool) -> None:
    assert iban_valid(iban) is valid


def test_each_broken_rule_is_named_by_its_field() -> None:
    broken = attrs.evolve(
        RECORD,
        legal_name=" ",
        address=PostalAddress(("",), "", "", "XX"),
        vat_id="FR",
        electronic_address="not-an-address",
        payment_account=PaymentAccount(iban="FR0030006000011234567890189", bic="AGRI"),
    )
    assert fields(broken) == [
        "legal_name",
        "address/lines",
        "address/city",
        "address/country",
        "vat_id",
        "electronic_address",
        "payment_account/iban",
        "payment_account/bic",
    ]


def test_a_payment_account_is_an_iban_or_an_account_number_not_both_nor_neither() -> None:
    both = PaymentAccount(iban="FR7630006000011234567890189", account_number="12345678")
    assert fields(attrs.evolve(RECORD, payment_account=both)) == ["payment_account"]
    assert fields(attrs.evolve(RECORD, payment_account=PaymentAccount())) == ["payment_account"]
    domestic = PaymentAccount(account_number="000123456789", bic="CHASUS33")
    assert fields(attrs.evolve(RECORD, payment_account=domestic)) == []


def test_the_demo_seed_covers_both_legal_entities_of_the_demo() -> None:
    records = read_legal_entities(DEMO_LEGAL_ENTITIES)
    assert [r.legal_entity_id for r in records] == ["HR-FR", "HR-US"]
    assert all(entity_problems(r) == [] for r in records)


def test_a_seed_file_with_an_unknown_field_or_a_broken_rule_stops_the_reading(
    tmp_path: Path,
) -> None:
    raw = json.loads(DEMO_LEGAL_ENTITIES.read_text(encoding="utf-8"))
    unknown = tmp_path / "unknown.json"
    raw["legal_entities"][0]["trading_name"] = "H&R"
    unknown.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(InvalidLegalEntitiesError, match="unknown fields trading_name"):
        read_legal_entities(unknown)
    del raw["legal_entities"][0]["trading_name"]
    raw["legal_entities"][1]["address"]["country"] = "USA"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(InvalidLegalEntitiesError, match="address/country"):
        read_legal_entities(broken)
