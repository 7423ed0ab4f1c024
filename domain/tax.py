"""Tax: a profile per customer and legal entity gives a tax code; an effective-dated table
gives its rate; tax is computed per category on the document as round(base x rate).

A cross-border B2B sale may be reverse-charged: rate 0 and the legal note on the document.
An external tax engine would sit behind a port in the application layer and return the same
`TaxLine`s.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

import attrs

from domain.errors import DomainError, InvalidTermsError
from domain.ids import CustomerId, LegalEntityId
from domain.money import Currency, Money, money_sum

REVERSE_CHARGE_NOTE = "Reverse charge: the recipient accounts for the tax on this supply."


class TaxRateNotFoundError(DomainError):
    """The tax table has no rate for the code on the tax date."""

    code = "tax_rate_not_found"


@attrs.frozen
class TaxProfile:
    """How one customer is taxed when billed by one of our legal entities (ERP master data)."""

    customer_id: CustomerId
    legal_entity_id: LegalEntityId
    tax_code: str
    reverse_charge: bool = False
    legal_note: str = ""

    @property
    def note(self) -> str:
        return self.legal_note or (REVERSE_CHARGE_NOTE if self.reverse_charge else "")


@attrs.frozen
class TaxRate:
    """A tax code's rate (0.20 for 20 %) from a date."""

    tax_code: str
    effective_from: date
    rate: Decimal

    def __attrs_post_init__(self) -> None:
        if not Decimal(0) <= self.rate < Decimal(1):
            raise InvalidTermsError(f"a tax rate is a fraction between 0 and 1, not {self.rate}")


@attrs.frozen
class TaxRateTable:
    """Effective-dated rates per tax code."""

    rates: tuple[TaxRate, ...] = ()

    def rate_on(self, tax_code: str, day: date) -> Decimal:
        found = [r for r in self.rates if r.tax_code == tax_code and r.effective_from <= day]
        if not found:
            raise TaxRateNotFoundError(f"no rate for tax code {tax_code!r} on {day}")
        return max(found, key=lambda r: r.effective_from).rate


@attrs.frozen
class TaxLine:
    """The tax of one category on a document."""

    tax_code: str
    base: Money
    rate: Decimal
    amount: Money
    note: str = ""


def compute_tax(
    nets: Iterable[tuple[str, Money]],
    currency: Currency,
    rates: dict[str, Decimal],
    notes: dict[str, str] | None = None,
) -> tuple[TaxLine, ...]:
    """Tax per category on a document: round(Σ rounded line nets of the category x rate)."""
    by_code: dict[str, list[Money]] = {}
    for code, net in nets:
        by_code.setdefault(code, []).append(net)
    lines = []
    for code in sorted(by_code):
        base = money_sum(by_code[code], currency)
        rate = rates[code]
        lines.append(
            TaxLine(code, base, rate, base.times(rate).quantized(), (notes or {}).get(code, ""))
        )
    return tuple(lines)


def effective_rate(profile: TaxProfile, table: TaxRateTable, tax_date: date) -> Decimal:
    """The rate a profile's code carries on the tax date; zero when reverse-charged."""
    if profile.reverse_charge:
        return Decimal(0)
    return table.rate_on(profile.tax_code, tax_date)
