"""The chart-of-accounts mapping: which general-ledger account of the ERP each posting role of a
legal entity uses, and the dimensions every line handed to the ERP carries (ADR 0033).

The postings of `domain.ledger` speak of roles (receivables, revenue, unbilled WIP...); an ERP
books on its own account numbers, which differ per legal entity, per obligation type for
revenue and per tax code for tax payable. The mapping is data: it is validated as a whole when
it is built, so a line can never reach the ERP without an account.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date

import attrs

from domain.errors import DomainError
from domain.ids import LegalEntityId
from domain.ledger import Account, JournalEntry
from domain.money import Currency, Money


class InvalidChartOfAccountsError(DomainError):
    """A mapping names an account for every posting role, in the ERP's account syntax."""

    code = "invalid_chart_of_accounts"


class UnmappedLegalEntityError(DomainError):
    """A journal entry is handed to the ERP only for a legal entity the mapping covers."""

    code = "unmapped_legal_entity"


#: Posting roles: the ledger's accounts, by their stable names (ADR 0033).
POSTING_ROLES: tuple[str, ...] = tuple(account.value for account in Account)

#: An ERP account number: letters, digits, dots and dashes, up to 32 characters.
_ACCOUNT_SYNTAX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,31}$")
#: A dimension name the mapping adds: snake_case, not one of the fixed ones.
_DIMENSION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

FIXED_DIMENSIONS: tuple[str, ...] = (
    "legal_entity_id",
    "customer_id",
    "contract_id",
    "engagement_id",
    "obligation_id",
    "project_code",
)


def _account(value: object, where: str) -> str:
    if not isinstance(value, str) or not _ACCOUNT_SYNTAX.match(value):
        raise InvalidChartOfAccountsError(
            f"{where}: {value!r} is not an account number (letters, digits, '.', '-', "
            "at most 32 characters)"
        )
    return value


def _accounts_by_key(values: Mapping[str, str], where: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for key in sorted(values):
        if not key.strip():
            raise InvalidChartOfAccountsError(f"{where}: an empty key")
        pairs.append((key, _account(values[key], f"{where}.{key}")))
    return tuple(pairs)


@attrs.frozen
class ChartOfAccounts:
    """One legal entity's mapping of posting roles to its ERP accounts. Build it with `of`."""

    legal_entity_id: LegalEntityId
    accounts: tuple[tuple[str, str], ...]
    revenue_by_obligation_type: tuple[tuple[str, str], ...] = ()
    tax_payable_by_tax_code: tuple[tuple[str, str], ...] = ()
    dimensions: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(
        cls,
        legal_entity_id: str,
        accounts: Mapping[str, str],
        revenue_by_obligation_type: Mapping[str, str] | None = None,
        tax_payable_by_tax_code: Mapping[str, str] | None = None,
        dimensions: Mapping[str, str] | None = None,
    ) -> ChartOfAccounts:
        """A mapping that names a well-formed account for every posting role and nothing
        else; revenue and tax payable may be refined per obligation type and tax code, and
        extra dimensions (name → value) are added to every line."""
        where = f"chart of accounts of {legal_entity_id or '(no legal entity)'}"
        if not legal_entity_id or not legal_entity_id.strip():
            raise InvalidChartOfAccountsError(f"{where}: the legal entity is missing")
        unknown = sorted(set(accounts) - set(POSTING_ROLES))
        if unknown:
            raise InvalidChartOfAccountsError(
                f"{where}: unknown posting roles {', '.join(unknown)}; "
                f"the roles are {', '.join(POSTING_ROLES)}"
            )
        missing = [role for role in POSTING_ROLES if role not in accounts]
        if missing:
            raise InvalidChartOfAccountsError(
                f"{where}: no account for the posting roles {', '.join(missing)}"
            )
        extra = dict(dimensions or {})
        for name, value in extra.items():
            if name in FIXED_DIMENSIONS or not _DIMENSION_NAME.match(name):
                raise InvalidChartOfAccountsError(
                    f"{where}: {name!r} cannot name an extra dimension (snake_case, not one of "
                    f"{', '.join(FIXED_DIMENSIONS)})"
                )
            if not isinstance(value, str) or not value.strip():
                raise InvalidChartOfAccountsError(f"{where}: dimension {name} has no value")
        return cls(
            LegalEntityId(legal_entity_id),
            tuple((role, _account(accounts[role], f"{where}: {role}")) for role in POSTING_ROLES),
            _accounts_by_key(revenue_by_obligation_type or {}, f"{where}: revenue"),
            _accounts_by_key(tax_payable_by_tax_code or {}, f"{where}: tax_payable"),
            tuple(sorted(extra.items())),
        )

    def check_billing_models(self, names: Iterable[str]) -> None:
        """Revenue is refined only for billing models that exist: a misspelt one
        (`time_and_material`) would never match, and its revenue would post to the default
        account without a word."""
        known = sorted(set(names))
        unknown = [kind for kind, _ in self.revenue_by_obligation_type if kind not in known]
        if unknown:
            raise InvalidChartOfAccountsError(
                f"chart of accounts of {self.legal_entity_id}: revenue_by_obligation_type names "
                f"no billing model {', '.join(unknown)}; the billing models are {', '.join(known)}"
            )

    def account_for(
        self, role: Account, obligation_type: str | None = None, tax_code: str | None = None
    ) -> str:
        """Revenue uses its obligation type's account and tax payable its tax code's, where
        the mapping refines them; every other role, and an unrefined one, its own account."""
        if role is Account.REVENUE and obligation_type is not None:
            refined = dict(self.revenue_by_obligation_type).get(obligation_type)
            if refined is not None:
                return refined
        if role is Account.TAX_PAYABLE and tax_code is not None:
            refined = dict(self.tax_payable_by_tax_code).get(tax_code)
            if refined is not None:
                return refined
        return dict(self.accounts)[role.value]


@attrs.frozen
class ChartsOfAccounts:
    """The mapping of every legal entity the deployment books for."""

    charts: tuple[ChartOfAccounts, ...]

    @classmethod
    def of(cls, charts: Iterable[ChartOfAccounts]) -> ChartsOfAccounts:
        """At most one mapping per legal entity."""
        by_entity: dict[str, ChartOfAccounts] = {}
        for chart in charts:
            if chart.legal_entity_id in by_entity:
                raise InvalidChartOfAccountsError(
                    f"two charts of accounts for legal entity {chart.legal_entity_id}"
                )
            by_entity[chart.legal_entity_id] = chart
        return cls(tuple(by_entity[key] for key in sorted(by_entity)))

    def for_entity(self, legal_entity_id: str) -> ChartOfAccounts:
        """A legal entity's mapping, or a refusal naming it."""
        for chart in self.charts:
            if chart.legal_entity_id == legal_entity_id:
                return chart
        raise UnmappedLegalEntityError(
            f"legal entity {legal_entity_id} has no chart of accounts; add one before posting"
        )

    def replaced(self, chart: ChartOfAccounts) -> ChartsOfAccounts:
        """The mappings with one legal entity's mapping set or replaced."""
        others = [c for c in self.charts if c.legal_entity_id != chart.legal_entity_id]
        return ChartsOfAccounts.of([*others, chart])


# Lines as the ERP books them ------------------------------------------------------------------


@attrs.frozen
class PostingScope:
    """What a journal entry is about, for its dimensions: the document's contract, customer and
    engagement, and per obligation its type and project code."""

    legal_entity_id: LegalEntityId
    customer_id: str | None = None
    contract_id: str | None = None
    engagement_id: str | None = None
    project_code: str | None = None
    tax_code: str | None = None
    obligation_types: tuple[tuple[str, str], ...] = ()

    def obligation_type(self, obligation_id: str | None) -> str | None:
        """The billing model of an obligation the entry touches, if known."""
        if obligation_id is None:
            return None
        return dict(self.obligation_types).get(obligation_id)


@attrs.frozen
class GlLine:
    """One line as the ERP books it: its account, the role behind it, and its dimensions."""

    line_no: int
    role: Account
    gl_account: str
    debit: Money
    credit: Money
    dimensions: tuple[tuple[str, str | None], ...]
    memo: str = ""
    #: The tax code a tax payable line books (None on every other line, ADR 0040).
    tax_code: str | None = None

    def dimension(self, name: str) -> str | None:
        """The value of one dimension (None where the line has none)."""
        return dict(self.dimensions).get(name)


@attrs.frozen
class GlEntry:
    """A balanced journal entry mapped to one legal entity's accounts."""

    entry_id: str
    legal_entity_id: LegalEntityId
    posted_on: date
    description: str
    source_document: str
    currency: Currency
    lines: tuple[GlLine, ...]


def map_entry(entry: JournalEntry, chart: ChartOfAccounts, scope: PostingScope) -> GlEntry:
    """Every line gets its legal entity's account for its role and the same dimensions: legal
    entity, customer, contract, engagement, obligation, project code, then the mapping's own;
    a tax payable line books its own tax code's account (else the scope's, else the role's)."""
    if scope.legal_entity_id != chart.legal_entity_id:
        raise UnmappedLegalEntityError(
            f"journal entry {entry.entry_id} is booked by {scope.legal_entity_id}, "
            f"not by {chart.legal_entity_id} whose chart was given"
        )
    lines = []
    for number, line in enumerate(entry.lines, start=1):
        oid = line.obligation_id
        dimensions: list[tuple[str, str | None]] = [
            ("legal_entity_id", scope.legal_entity_id),
            ("customer_id", scope.customer_id),
            ("contract_id", scope.contract_id),
            ("engagement_id", scope.engagement_id),
            ("obligation_id", oid),
            ("project_code", scope.project_code),
            *chart.dimensions,
        ]
        tax_code = line.tax_code or scope.tax_code
        account = chart.account_for(line.account, scope.obligation_type(oid), tax_code)
        lines.append(
            GlLine(
                number,
                line.account,
                account,
                line.debit,
                line.credit,
                tuple(dimensions),
                line.memo,
                tax_code if line.account is Account.TAX_PAYABLE else None,
            )
        )
    return GlEntry(
        entry.entry_id,
        scope.legal_entity_id,
        entry.posted_on,
        entry.description,
        entry.source_document,
        entry.currency,
        tuple(lines),
    )


def gl_trial_balance(entries: Iterable[GlEntry]) -> dict[tuple[str, Currency], Money]:
    """Per ERP account and currency, the debit-positive balance (credit balances negative)."""
    totals: dict[tuple[str, Currency], Money] = {}
    for entry in entries:
        for line in entry.lines:
            key = (line.gl_account, entry.currency)
            movement = line.debit - line.credit
            totals[key] = movement if key not in totals else totals[key] + movement
    return dict(sorted(totals.items()))
