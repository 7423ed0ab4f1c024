"""What every billing document shares: numbered lines with a tax code and provenance, and
totals computed the one way the guide states (Σ rounded line nets = net; tax per category =
round(base x rate); gross = net + tax)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

import attrs

from domain.billing import Allocation, LedgerEntry, LineKind, ProposedLine
from domain.ids import ObligationId
from domain.money import Currency, Money, money_sum
from domain.period import Period
from domain.tax import TaxLine, compute_tax


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


@attrs.frozen
class DocumentTotals:
    """Net, tax per category and gross of a document, all in minor units."""

    net: Money
    tax_lines: tuple[TaxLine, ...]
    tax: Money
    gross: Money

    @classmethod
    def of(
        cls,
        lines: Sequence[DocumentLine],
        currency: Currency,
        rates: Mapping[str, Decimal],
        notes: Mapping[str, str] | None = None,
    ) -> DocumentTotals:
        net = money_sum((line.amount for line in lines), currency)
        tax_lines = compute_tax(
            ((line.tax_code, line.amount) for line in lines),
            currency,
            dict(rates),
            dict(notes or {}),
        )
        tax = money_sum((t.amount for t in tax_lines), currency)
        return cls(net, tax_lines, tax, net + tax)

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
