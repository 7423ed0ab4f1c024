"""Tax: a profile per customer and legal entity gives a tax code per tax category; an
effective-dated table gives its rate; tax is computed per tax code on the document as
round(base x rate).

Each line falls in a tax category by what it supplies: `services` (time, fees, milestones,
retainers, recurring fees, re-ratings) or `expenses`, optionally narrowed to one expense
category (`expenses:travel`). The profile maps a category to a tax code, the most specific
mapping first, its default code for anything unmapped. A category the profile marks exempt
bills at rate 0 and carries its exemption reason. A reverse-charged payer is billed at rate 0
with the legal note, on each tax line and once on the document.

What a category costs on a tax date (a `TaxTreatment`) is resolved before the run, by a tax
engine behind a port in the application layer, or from the table here (`table_treatment`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

import attrs

from domain.errors import DomainError, InvalidTermsError
from domain.ids import CustomerId, LegalEntityId
from domain.money import Currency, Money, money_sum

REVERSE_CHARGE_NOTE = "Reverse charge: the recipient accounts for the tax on this supply."

#: The tax category of time, fees, milestones, retainers and recurring fees.
SERVICES = "services"
#: The tax category of re-billed expenses (`expenses:<expense category>` narrows it).
EXPENSES = "expenses"


class TaxRateNotFoundError(DomainError):
    """The tax table has no rate for the code on the tax date."""

    code = "tax_rate_not_found"


class TaxTreatmentMissingError(DomainError):
    """The tax engine did not say how a category is taxed for a payer."""

    code = "tax_treatment_missing"


class TaxTreatmentConflictError(DomainError):
    """One tax code on one document resolved to two different rates or notes."""

    code = "tax_treatment_conflict"


def expense_category(category: str) -> str:
    """The tax category of expenses of one expense category (`expenses` when it has none)."""
    return f"{EXPENSES}:{category}" if category else EXPENSES


def _broader(category: str) -> str | None:
    return EXPENSES if category.startswith(f"{EXPENSES}:") else None


def _valid_category(category: str) -> bool:
    if category in (SERVICES, EXPENSES):
        return True
    return category.startswith(f"{EXPENSES}:") and len(category) > len(EXPENSES) + 1


@attrs.frozen
class CategoryCode:
    """The tax code a profile gives one tax category; an exempt category names its reason."""

    category: str
    tax_code: str
    exemption_reason: str = ""

    def __attrs_post_init__(self) -> None:
        if not _valid_category(self.category):
            raise InvalidTermsError(
                f"a tax category is 'services', 'expenses' or 'expenses:<expense category>', "
                f"not {self.category!r}"
            )
        if not self.tax_code:
            raise InvalidTermsError(f"the tax category {self.category!r} needs a tax code")

    @property
    def exempt(self) -> bool:
        """A category with an exemption reason is exempt: billed at rate 0."""
        return bool(self.exemption_reason)


@attrs.frozen
class TaxProfile:
    """How one customer is taxed when billed by one of our legal entities (ERP master data)."""

    customer_id: CustomerId
    legal_entity_id: LegalEntityId
    tax_code: str
    reverse_charge: bool = False
    legal_note: str = ""
    #: Tax codes per category where they differ from `tax_code`, the default.
    categories: tuple[CategoryCode, ...] = ()

    def __attrs_post_init__(self) -> None:
        seen = [c.category for c in self.categories]
        twice = sorted({c for c in seen if seen.count(c) > 1})
        if twice:
            raise InvalidTermsError(f"the tax category {twice[0]!r} is mapped twice")

    @property
    def note(self) -> str:
        return self.legal_note or (REVERSE_CHARGE_NOTE if self.reverse_charge else "")

    def code_for(self, category: str) -> CategoryCode:
        """A category takes its own mapping, else its broader category's, else the default."""
        mapped = {c.category: c for c in self.categories}
        broader = _broader(category)
        found = mapped.get(category) or (mapped.get(broader) if broader else None)
        return found or CategoryCode(SERVICES, self.tax_code)


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
        """The rate in force on the day: the latest one effective on or before it."""
        found = [r for r in self.rates if r.tax_code == tax_code and r.effective_from <= day]
        if not found:
            raise TaxRateNotFoundError(f"no rate for tax code {tax_code!r} on {day}")
        return max(found, key=lambda r: r.effective_from).rate


@attrs.frozen
class TaxTreatment:
    """How one tax category is taxed for one payer on a tax date: the code, its rate, and the
    note printed with it (an exemption reason, a reverse-charge legal note)."""

    tax_code: str
    rate: Decimal
    note: str = ""
    reverse_charge: bool = False


@attrs.frozen
class TaxUnresolved:
    """An engine's answer that it cannot tax a category: a reason code (`tax_rate_not_found`
    or `tax_treatment_missing`) and what to fix; the run blocks the payer's contract."""

    reason: str
    detail: str

    def error(self) -> DomainError:
        """The refusal the run reports for the contract."""
        if self.reason == TaxRateNotFoundError.code:
            return TaxRateNotFoundError(self.detail)
        return TaxTreatmentMissingError(self.detail)


@attrs.frozen
class TaxQuestion:
    """What a billing run needs to know: how a category is taxed for a payer on a date."""

    customer_id: CustomerId
    legal_entity_id: LegalEntityId
    category: str
    tax_date: date


def table_treatment(
    profile: TaxProfile, category: str, table: TaxRateTable, tax_date: date
) -> TaxTreatment:
    """An exempt category is rate 0 with its reason; otherwise a reverse-charged payer is rate
    0 with the legal note; otherwise the code's rate in force on the tax date."""
    code = profile.code_for(category)
    if code.exempt:
        return TaxTreatment(code.tax_code, Decimal(0), code.exemption_reason)
    if profile.reverse_charge:
        return TaxTreatment(code.tax_code, Decimal(0), profile.note, reverse_charge=True)
    return TaxTreatment(code.tax_code, table.rate_on(code.tax_code, tax_date), profile.note)


def tax_questions(
    payers: Iterable[tuple[CustomerId, LegalEntityId]],
    expense_categories: Iterable[str],
    tax_date: date,
) -> list[TaxQuestion]:
    """Every category a run may bill to each payer: services, expenses, and expenses of each
    expense category among the items."""
    narrowed = sorted({expense_category(c) for c in expense_categories} - {EXPENSES})
    categories = [SERVICES, EXPENSES, *narrowed]
    return [TaxQuestion(c, e, cat, tax_date) for c, e in sorted(set(payers)) for cat in categories]


@attrs.frozen
class TaxTreatments:
    """The treatments resolved for one run's tax date. A question the answers lack is answered
    from the table when there is one (the default for a caller with no tax engine), and is an
    error otherwise (an engine that was asked must have answered)."""

    tax_date: date
    answers: Mapping[TaxQuestion, TaxTreatment | TaxUnresolved] = attrs.field(factory=dict)
    table: TaxRateTable | None = None

    def of(self, profile: TaxProfile, category: str) -> TaxTreatment:
        """How the category is taxed for the profile's payer on the run's tax date."""
        payer = (profile.customer_id, profile.legal_entity_id)
        question = TaxQuestion(*payer, category, self.tax_date)
        answer = self.answers.get(question)
        if answer is None and _broader(category) is not None:
            answer = self.answers.get(attrs.evolve(question, category=EXPENSES))
        if isinstance(answer, TaxUnresolved):
            raise answer.error()
        if answer is not None:
            return answer
        if self.table is None:
            raise TaxTreatmentMissingError(
                f"the tax engine gave no treatment of {category!r} for customer "
                f"{profile.customer_id} with legal entity {profile.legal_entity_id} on "
                f"{self.tax_date}"
            )
        return table_treatment(profile, category, self.table, self.tax_date)


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


class TaxCodeInUseError(DomainError):
    """A new rate table would take a rate away from a tax code a customer is billed under."""

    code = "tax_code_in_use"


def _rated_codes(profile: TaxProfile) -> set[str]:
    """The codes whose rate a run reads for the profile (none when it is reverse-charged)."""
    if profile.reverse_charge:
        return set()
    return {profile.tax_code} | {c.tax_code for c in profile.categories if not c.exempt}


def check_replacement(old: TaxRateTable, new: TaxRateTable, profiles: Iterable[TaxProfile]) -> None:
    """A replacement may change rates and add codes, but a code a tax profile bills under keeps
    a rate from the first day the old table gave it one: otherwise every unbilled period of
    those customers would stop billing (`tax_rate_not_found`) until the rows were sent again."""
    first_old = _first_days(old)
    first_new = _first_days(new)
    for profile in sorted(profiles, key=lambda p: (p.customer_id, p.legal_entity_id)):
        for code in sorted(_rated_codes(profile) & first_old.keys()):
            if first_new.get(code, date.max) > first_old[code]:
                raise TaxCodeInUseError(
                    f"tax code {code!r} is billed to customer {profile.customer_id} by legal "
                    f"entity {profile.legal_entity_id}: the table must keep a rate for it from "
                    f"{first_old[code]} (send the whole table, its earlier rows included)"
                )


def _first_days(table: TaxRateTable) -> dict[str, date]:
    first: dict[str, date] = {}
    for rate in table.rates:
        first[rate.tax_code] = min(rate.effective_from, first.get(rate.tax_code, date.max))
    return first
