"""Master data a deal needs before anything is provisioned or billed.

The rules: a customer is billed by one of our legal entities only once the ERP's record for
that pair exists and holds what billing needs (a currency, a tax profile, a billing address);
the record's currency is the contract's; a tax profile the ERP pushed alone stands in for a
record without a tax code, and the record's own tax profile wins over one pushed alone.
Payment terms run from 0 to 365 days. A VAT id starts with its two-letter country prefix.

The functions are pure: the application reads the records, the domain says whether they do.
"""

from __future__ import annotations

import re
from typing import TypeVar

import attrs

#: The longest payment terms a customer record may carry.
MAX_PAYMENT_TERMS_DAYS = 365

_VAT_ID = re.compile(r"^[A-Z]{2}[A-Z0-9+*.\-]{2,16}$")

P = TypeVar("P")


@attrs.frozen
class MasterDataFacts:
    """What setup knows about one customer at one legal entity, whatever system said it."""

    #: The fields a customer record lacks (None: there is no record at all).
    record_gaps: tuple[str, ...] | None
    #: The record's currency (None: no record, or no currency on it).
    record_currency: str | None
    #: A tax profile was pushed on its own for this pair.
    tax_profile_pushed: bool = False

    @classmethod
    def without_record(cls, *, tax_profile_pushed: bool = False) -> MasterDataFacts:
        """No record of the customer at the legal entity."""
        return cls(None, None, tax_profile_pushed)


def setup_gaps(facts: MasterDataFacts, signed_currency: str | None) -> tuple[str, ...]:
    """A setup goes on only with a record holding every field it needs (a tax profile pushed
    alone stands in for the tax code) in the currency the contract was signed in."""
    if facts.record_gaps is None:
        return ("customer",)
    missing = tuple(
        field
        for field in facts.record_gaps
        if not (field == "tax_profile" and facts.tax_profile_pushed)
    )
    if missing or signed_currency is None or facts.record_currency == signed_currency:
        return missing
    return (f"currency ({facts.record_currency} in the ERP, {signed_currency} signed)",)


def billing_tax_profile(from_record: P | None, pushed_alone: P | None) -> P | None:
    """The record's own tax profile wins over one pushed alone."""
    return from_record if from_record is not None else pushed_alone


def payment_terms_acceptable(days: int | None) -> bool:
    """Payment terms are stated, from 0 to 365 days."""
    return days is not None and 0 <= days <= MAX_PAYMENT_TERMS_DAYS


def vat_id_shaped(vat_id: str | None) -> bool:
    """A VAT id, when given, starts with its two-letter country prefix."""
    return vat_id is None or _VAT_ID.match(vat_id) is not None
