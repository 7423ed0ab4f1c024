"""Domain errors: each names the business rule it enforces.

Every refusal in the domain raises a subclass of `DomainError`, carrying a stable `code`
that the application and HTTP layers translate (reason codes, problem types) without parsing
messages.
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """A business rule refused the request."""

    code: ClassVar[str] = "domain_rule"


class UnknownCurrencyError(DomainError):
    code = "unknown_currency"


class CurrencyMismatchError(DomainError):
    code = "currency_mismatch"


class IllegalTransitionError(DomainError):
    """The lifecycle table has no such transition from the current state."""

    code = "illegal_transition"


class ImmutableVersionError(DomainError):
    """Approved contract versions and published rate-card versions never change."""

    code = "immutable_version"


class NoTermsInForceError(DomainError):
    """No approved contract or rate-card version covers the date asked about."""

    code = "no_terms_in_force"


class RateNotFoundError(DomainError):
    """The rate card in force has no rate for the role (and no override for the resource)."""

    code = "rate_not_found"


class InvalidTermsError(DomainError):
    """The terms themselves are inconsistent (negative fee, percentages over 100 %, ...)."""

    code = "invalid_terms"


class CapExceededError(DomainError):
    """A not-to-exceed cap with the `block` policy refuses the entry that would cross it."""

    code = "cap_exceeded"


class OverCreditError(DomainError):
    """A credit can never exceed what its invoice line billed and has not yet credited."""

    code = "over_credit"


class MakerCheckerError(DomainError):
    """Whoever created a document cannot approve it."""

    code = "maker_checker"


class PeriodClosedError(DomainError):
    """Nothing may be posted, voided or credited in a closed accounting period."""

    code = "period_closed"


class UnbalancedJournalError(DomainError):
    """Every journal entry balances exactly in minor units."""

    code = "unbalanced_journal"
