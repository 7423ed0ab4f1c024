"""Tax per line (ADR 0030), for random lines, categories, mappings and rates: each line takes
the code its category maps to; tax per code = round(Σ rounded line nets of the code x rate);
net = Σ line nets; gross = net + tax; a reverse-charged payer pays no tax and gets one note."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given
from hypothesis import strategies as st

from domain.billing import Allocation, LineKind, ProposedLine, SourceKind, SourceRef
from domain.document import DocumentTax
from domain.ids import CustomerId, LegalEntityId, ObligationId
from domain.money import Currency, Money
from domain.tax import (
    REVERSE_CHARGE_NOTE,
    CategoryCode,
    TaxProfile,
    TaxRate,
    TaxRateTable,
    TaxTreatments,
)

EUR = Currency.of("EUR")
PAYER = (CustomerId("acme"), LegalEntityId("tl-uk"))
CODES = ("VAT20", "VAT7", "ZERO", "RED5")
EXPENSE_CATEGORIES = ("travel", "meals", "training")
TAX_DATE = date(2026, 3, 31)

rates = st.decimals(min_value=0, max_value=Decimal("0.99"), places=3)
cents = st.integers(min_value=-50_000, max_value=5_000_000)


@st.composite
def lines(draw: st.DrawFn) -> tuple[list[ProposedLine], dict[str, str]]:
    out, categories = [], {}
    for n in range(draw(st.integers(min_value=1, max_value=12))):
        amount = Money(Decimal(draw(cents)).scaleb(-2), EUR)
        kind = draw(st.sampled_from([LineKind.TIME, LineKind.EXPENSE, LineKind.MILESTONE]))
        source = SourceRef(
            SourceKind.EXPENSE if kind is LineKind.EXPENSE else SourceKind.TIME_ENTRY, f"s{n}"
        )
        if kind is LineKind.EXPENSE:
            categories[f"s{n}"] = draw(st.sampled_from(EXPENSE_CATEGORIES))
        allocation = Allocation(source, Decimal(1), amount)
        out.append(
            ProposedLine(ObligationId("ob"), kind, f"line {n}", Decimal(1), amount, amount,
                         (allocation,))
        )  # fmt: skip
    return out, categories


@st.composite
def profiles(draw: st.DrawFn) -> TaxProfile:
    mappable = ["services", "expenses", *(f"expenses:{c}" for c in EXPENSE_CATEGORIES)]
    chosen = draw(st.lists(st.sampled_from(mappable), unique=True, max_size=4))
    return TaxProfile(
        *PAYER,
        draw(st.sampled_from(CODES)),
        draw(st.booleans()),
        categories=tuple(CategoryCode(c, draw(st.sampled_from(CODES))) for c in chosen),
    )


def half_up(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@given(lines(), profiles(), st.lists(rates, min_size=len(CODES), max_size=len(CODES)))
def test_tax_per_code_is_the_rounded_base_of_its_lines_times_the_rate(
    drawn: tuple[list[ProposedLine], dict[str, str]],
    profile: TaxProfile,
    drawn_rates: list[Decimal],
) -> None:
    proposed, categories = drawn
    rate_of = dict(zip(CODES, drawn_rates, strict=True))
    table = TaxRateTable(tuple(TaxRate(c, date(2020, 1, 1), r) for c, r in rate_of.items()))
    tax = DocumentTax(TaxTreatments(TAX_DATE, {}, table), categories)
    numbered, totals = tax.document(proposed, EUR, profile)

    for line, p in zip(numbered, proposed, strict=True):
        assert line.tax_code == profile.code_for(tax.category_of(p)).tax_code
    for tax_line in totals.tax_lines:
        base = sum(
            (x.amount.amount for x in numbered if x.tax_code == tax_line.tax_code), Decimal(0)
        )
        rate = Decimal(0) if profile.reverse_charge else rate_of[tax_line.tax_code]
        assert tax_line.base.amount == base
        assert tax_line.amount.amount == half_up(base * rate)
    assert totals.net.amount == sum((x.amount.amount for x in numbered), Decimal(0))
    assert totals.tax.amount == sum((t.amount.amount for t in totals.tax_lines), Decimal(0))
    assert totals.gross == totals.net + totals.tax
    assert totals.note == (REVERSE_CHARGE_NOTE if profile.reverse_charge else "")
