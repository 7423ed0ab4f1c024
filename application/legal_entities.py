"""The seller's master data (ADR 0037): for each of our legal entities, what a document says
about the seller -- legal name, postal address, VAT identifier, company registration, the
electronic address it receives documents at, and the bank account the buyer pays into.

Finance keeps it; every change that says something new is the next version, the ones before
stay, and each is audited. Documents read the current version when they are rendered.
"""

from __future__ import annotations

import re
import string

import attrs

from application.customer_master import ISO_3166_ALPHA_2, PostalAddress
from domain.master_data import vat_id_shaped

_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
_BIC = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@attrs.frozen
class PaymentAccount:
    """Where buyers pay the entity: an IBAN (with a BIC when given) or, outside IBAN
    countries, a domestic account number (with its bank's BIC or routing id when given)."""

    iban: str | None = None
    account_number: str | None = None
    bic: str | None = None
    account_name: str | None = None

    @property
    def account_id(self) -> str:
        """The identifier a buyer pays to: the IBAN, else the account number."""
        return self.iban or self.account_number or ""


@attrs.frozen
class LegalEntityRecord:
    """One of our legal entities as its documents present it, at one version."""

    legal_entity_id: str
    legal_name: str
    address: PostalAddress
    vat_id: str | None = None
    registration_id: str | None = None
    electronic_address: str | None = None
    payment_account: PaymentAccount | None = None
    #: 1, 2, ... in the order the versions were kept; 0 before it is stored.
    version: int = 0


def iban_valid(iban: str) -> bool:
    """An IBAN is well formed and its ISO 13616 check digits hold (mod 97 = 1)."""
    if not _IBAN.match(iban) or iban[:2] not in ISO_3166_ALPHA_2:
        return False
    moved = iban[4:] + iban[:4]
    digits = "".join(str(string.ascii_uppercase.index(ch) + 10) if ch.isalpha() else ch
                     for ch in moved)  # fmt: skip
    return int(digits) % 97 == 1


def entity_problems(record: LegalEntityRecord) -> list[tuple[str, str]]:
    """(field, problem) for every rule the record breaks; empty when it may be kept.

    A legal name; an address with a non-empty line, a city and an ISO 3166-1 alpha-2 country;
    a VAT id shaped like one (its two-letter prefix, then 2 to 16 characters); a well-formed
    e-mail address when one is given; a payment account with an IBAN whose check digits hold
    or an account number, and a well-formed BIC when one is given."""
    problems: list[tuple[str, str]] = []
    if not record.legal_name.strip():
        problems.append(("legal_name", "the legal name is empty"))
    problems += record.address.problems("address")
    if not vat_id_shaped(record.vat_id):
        problems.append(("vat_id", "a VAT id starts with its two-letter country prefix"))
    if record.electronic_address is not None and not _EMAIL.match(record.electronic_address):
        problems.append(("electronic_address", "an e-mail address like billing@example.com"))
    account = record.payment_account
    if account is not None:
        if account.iban is None and not account.account_number:
            problems.append(("payment_account", "an IBAN or an account number"))
        if account.iban is not None and account.account_number is not None:
            problems.append(("payment_account", "an IBAN or an account number, not both"))
        if account.iban is not None and not iban_valid(account.iban):
            problems.append(("payment_account/iban", "not a valid IBAN (check digits fail)"))
        if account.bic is not None and not _BIC.match(account.bic):
            problems.append(("payment_account/bic", "a BIC has 8 or 11 characters"))
    return problems


def same_content(a: LegalEntityRecord, b: LegalEntityRecord) -> bool:
    """Two versions say the same thing when they differ at most in their version number."""
    return attrs.evolve(a, version=0) == attrs.evolve(b, version=0)
