"""What every billing document shares: numbered lines with a tax code and provenance, and
totals computed the one way the guide states (Σ rounded line nets = net; tax per category =
round(base x rate); gross = net + tax).

`DocumentTax` is how a billing run taxes a document: each line takes the tax code of its tax
category for the payer, and a reverse-charged payer's legal note is printed once on the
document as well as on its tax lines."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from domain.billing import Allocation, LedgerEntry, LineKind, ProposedLine, SourceKind
from domain.ids import ObligationId
from domain.money import Currency, Money, money_sum
from domain.period import Period
from domain.tax import (
    SERVICES,
    TaxLine,
    TaxProfile,
    TaxTreatment,
    TaxTreatmentConflictError,
    TaxTreatments,
    compute_tax,
    expense_category,
)

if TYPE_CHECKING:
    from domain.time_entry import ExpenseItem


@attrs.frozen
class DocumentLine:
    """A numbered line of an invoice, credit memo or debit memo."""

    line_no: int
    obligation_id: ObligationId
    kind: LineKind
    description: str
    quantity: Decimal
    unit_price: Money
    amount: Money
    tax_code: str
    allocations: tuple[Allocation, ...]
    service_period: Period | None = None
    flags: tuple[str, ...] = ()
    credits_line: int | None = None

    @classmethod
    def numbered(
        cls, lines: Iterable[ProposedLine], tax_code: str, start: int = 1
    ) -> tuple[DocumentLine, ...]:
        """Number proposed lines in order, all under one tax code."""
        return tuple(
            cls(
                n,
                p.obligation_id,
                p.kind,
                p.description,
                p.quantity,
                p.unit_price,
                p.amount,
                tax_code,
                p.allocations,
                p.service_period,
                p.flags,
            )
            for n, p in enumerate(lines, start)
        )

    @classmethod
    def numbered_by_code(
        cls, lines: Sequence[ProposedLine], tax_codes: Sequence[str], start: int = 1
    ) -> tuple[DocumentLine, ...]:
        """Number proposed lines in order, each under its own tax code."""
        return tuple(
            line
            for n, (p, code) in enumerate(zip(lines, tax_codes, strict=True), start)
            for line in cls.numbered((p,), code, n)
        )


@attrs.frozen
class DocumentTotals:
    """Net, tax per category and gross of a document, all in minor units."""

    net: Money
    tax_lines: tuple[TaxLine, ...]
    tax: Money
    gross: Money
    #: Printed once on the document: the legal note of a reverse-charged payer.
    note: str = ""

    @classmethod
    def of(
        cls,
        lines: Sequence[DocumentLine],
        currency: Currency,
        rates: Mapping[str, Decimal],
        notes: Mapping[str, str] | None = None,
        note: str = "",
    ) -> DocumentTotals:
        net = money_sum((line.amount for line in lines), currency)
        tax_lines = compute_tax(
            ((line.tax_code, line.amount) for line in lines),
            currency,
            dict(rates),
            dict(notes or {}),
        )
        tax = money_sum((t.amount for t in tax_lines), currency)
        return cls(net, tax_lines, tax, net + tax, note)

    def net_by_obligation(self, lines: Sequence[DocumentLine]) -> dict[ObligationId, Money]:
        """Net amount per obligation (for revenue and ledger postings)."""
        out: dict[ObligationId, Money] = {}
        for line in lines:
            current = out.get(line.obligation_id, Money.zero(self.net.currency))
            out[line.obligation_id] = current + line.amount
        return out

    @property
    def rates(self) -> dict[str, Decimal]:
        return {t.tax_code: t.rate for t in self.tax_lines}


def billed_by(document_id: str, lines: Iterable[DocumentLine]) -> list[LedgerEntry]:
    """What a document's lines billed, as ledger entries (one per allocation)."""
    return [
        LedgerEntry(
            document_id, line.obligation_id, a.source, a.quantity, a.amount, a.terms, payer=a.payer
        )
        for line in lines
        for a in line.allocations
    ]


@attrs.frozen
class DocumentTax:
    """How a billing run taxes its documents: the treatments resolved for its tax date, and
    the expense category of each expense (an expense line is taxed by its category)."""

    treatments: TaxTreatments
    expense_categories: Mapping[str, str] = attrs.field(factory=dict)

    @classmethod
    def for_run(cls, treatments: TaxTreatments, expenses: Iterable[ExpenseItem]) -> DocumentTax:
        """The run's treatments, with the category of every expense it may bill."""
        return cls(treatments, {x.expense_id: x.category for x in expenses})

    def category_of(self, line: ProposedLine) -> str:
        """Expense lines are expenses of their expense category; everything else is services."""
        if line.kind is not LineKind.EXPENSE:
            return SERVICES
        categories = {
            self.expense_categories.get(a.source.source_id, "")
            for a in line.allocations
            if a.source.kind is SourceKind.EXPENSE
        }
        return expense_category(categories.pop() if len(categories) == 1 else "")

    def document(
        self, lines: Sequence[ProposedLine], currency: Currency, payer: TaxProfile
    ) -> tuple[tuple[DocumentLine, ...], DocumentTotals]:
        """Number the lines under the tax code of each one's category for the payer, then tax
        per code: round(base x rate); a reverse charge puts its legal note on the document."""
        chosen = [self.treatments.of(payer, self.category_of(line)) for line in lines]
        by_code: dict[str, TaxTreatment] = {}
        for treatment in chosen:
            known = by_code.setdefault(treatment.tax_code, treatment)
            if (known.rate, known.note) != (treatment.rate, treatment.note):
                raise TaxTreatmentConflictError(
                    f"tax code {treatment.tax_code!r} resolves to two treatments for customer "
                    f"{payer.customer_id}: {known.rate} and {treatment.rate}"
                )
        numbered = DocumentLine.numbered_by_code(lines, [t.tax_code for t in chosen])
        notes = dict.fromkeys(t.note for t in chosen if t.reverse_charge and t.note)
        totals = DocumentTotals.of(
            numbered,
            currency,
            {code: t.rate for code, t in by_code.items()},
            {code: t.note for code, t in by_code.items()},
            " ".join(notes),
        )
        return numbered, totals
