"""The journal as files a finance team checks (ADR 0039): a Beancount ledger and the CSV
layout ERPs import. Both are pure text renderings of the posted entries
(`application.journal_export`), every amount written with exactly its currency's minor digits."""

from __future__ import annotations

from decimal import Decimal

from application.journal_export import UnexportableJournalError
from domain.errors import DomainError
from domain.money import Currency, Money


def currency_of(code: str) -> Currency:
    """The posted entry's currency, or a refusal naming it."""
    try:
        return Currency.of(code)
    except DomainError as error:
        raise UnexportableJournalError(str(error)) from None


def minor_digits(text: str, currency: Currency, where: str) -> Decimal:
    """A posted amount written with exactly the currency's minor digits (`1440.00` EUR, `1440`
    JPY, `1.440` BHD); one that would need rounding is refused, never rounded."""
    value = Money(Decimal(text), currency)
    exact = value.quantized()
    if exact != value:
        raise UnexportableJournalError(
            f"{where}: {text} {currency.code} is not a whole number of {currency.code} minor units"
        )
    return exact.amount
