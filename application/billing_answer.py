"""What a billing run keeps for its answer while it runs, kept compact (ADR 0060, amendment of
what a run holds per document): the diff row of every obligation it bills and the id and key
of every draft a commit stores.

The answer names each of them, so the run holds one entry per obligation and per document to
its end. As objects (a diff row with two `Money` and their `Decimal`s, each id and key a
string in a tuple) they cost about 350 and 170 bytes each, and the bench's run grew with them.
Here a chunk's ids are one string, its amounts whole minor units in an array, and the rows
are built again, equal to those the run computed, when the answer is shown. A chunk whose
values cannot be written so exactly (an amount with another exponent, an id holding the
separator) keeps its rows as they came.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

import attrs

from domain.billing_run import ObligationDiff
from domain.ids import ContractId, InvoiceId, ObligationId
from domain.money import Currency, Money

#: Between the ids a chunk joins into one string; an id holding it keeps its chunk as tuples.
SEPARATOR = "\x1f"


def joined(texts: Sequence[str]) -> str | tuple[str, ...]:
    """The texts as one string, or as a tuple when one of them holds the separator."""
    text = SEPARATOR.join(texts)
    return text if text.count(SEPARATOR) == max(len(texts) - 1, 0) else tuple(texts)


def split(held: str | tuple[str, ...], count: int) -> Sequence[str]:
    """The `count` texts `joined` kept."""
    if isinstance(held, tuple):
        return held
    return held.split(SEPARATOR) if count else ()


@attrs.frozen
class _Compact:
    """A chunk's diff rows as `DiffRows` holds them: how many, and their ids joined."""

    count: int
    ids: str | tuple[str, ...]


class DiffRows:
    """The diff of a run, a chunk at a time: per chunk its ids as one string, its currencies,
    and in arrays its amounts (already invoiced and proposed, minor units) and sources."""

    def __init__(self) -> None:
        self._chunks: list[_Compact | tuple[ObligationDiff, ...]] = []
        self._currencies: list[Currency] = []
        self._minor = array("q")
        self._sources = array("q")

    def add(self, rows: Sequence[ObligationDiff]) -> None:
        """One chunk's rows, in the diff's order."""
        minor = [units for row in rows for units in _minor_units(row)]
        ids = joined([text for row in rows for text in (row.contract_id, row.obligation_id)])
        if isinstance(ids, tuple) or any(units is None for units in minor):
            self._chunks.append(tuple(rows))
            return
        self._chunks.append(_Compact(len(rows), ids))
        self._currencies += (row.proposed.currency for row in rows)
        self._minor.extend(units for units in minor if units is not None)
        self._sources.extend(row.sources for row in rows)

    def rows(self) -> tuple[ObligationDiff, ...]:
        """Every row, equal to the one the run computed."""
        return tuple(self._rows())

    def _rows(self) -> Iterator[ObligationDiff]:
        at = 0
        for chunk in self._chunks:
            if not isinstance(chunk, _Compact):
                yield from chunk
                continue
            texts = split(chunk.ids, 2 * chunk.count)
            for n in range(chunk.count):
                i, currency = at + n, self._currencies[at + n]
                yield ObligationDiff(
                    ContractId(texts[2 * n]),
                    ObligationId(texts[2 * n + 1]),
                    _money(self._minor[2 * i], currency),
                    _money(self._minor[2 * i + 1], currency),
                    self._sources[i],
                )
            at += chunk.count


def _minor_units(row: ObligationDiff) -> tuple[int | None, int | None]:
    """The row's two amounts in whole minor units of the proposal's currency; None for one
    that would not come back as the very same `Money`."""
    return _units(row.already_invoiced, row.proposed.currency), _units(
        row.proposed, row.proposed.currency
    )


_LIMIT = 2**63


def _units(money: Money, currency: Currency) -> int | None:
    if money.currency != currency:
        return None
    units = int(money.amount.scaleb(currency.minor_units))
    if not -_LIMIT < units < _LIMIT:
        return None
    back = Decimal(units).scaleb(-currency.minor_units)
    return units if back.as_tuple() == money.amount.as_tuple() else None


def _money(units: int, currency: Currency) -> Money:
    return Money(Decimal(units).scaleb(-currency.minor_units), currency)


class DraftNames:
    """The drafts a commit stored, a chunk at a time: per chunk the ids and the keys each as
    one string, and how many of them are invoices (the adjustments follow)."""

    def __init__(self) -> None:
        self._chunks: list[tuple[int, int, str | tuple[str, ...], str | tuple[str, ...]]] = []
        self.count = 0

    def add(self, ids: Sequence[InvoiceId], keys: Sequence[str], invoices: int) -> None:
        """One chunk's drafts, its invoices first, with the key of each."""
        self._chunks.append((len(ids), invoices, joined(ids), joined(keys)))
        self.count += len(ids)

    @property
    def counts(self) -> tuple[int, int]:
        """How many invoices and adjustments were stored."""
        invoices = sum(x[1] for x in self._chunks)
        return invoices, self.count - invoices

    def ids(self) -> tuple[InvoiceId, ...]:
        """Every draft's id in the order stored."""
        return tuple(i for chunk in self._named() for i, _ in chunk[0] + chunk[1])

    def invoices(self) -> tuple[tuple[InvoiceId, str], ...]:
        """The (id, key) of every invoice, in the order stored."""
        return tuple(pair for chunk in self._named() for pair in chunk[0])

    def adjustments(self) -> tuple[tuple[InvoiceId, str], ...]:
        """The (id, key) of every adjustment, in the order stored."""
        return tuple(pair for chunk in self._named() for pair in chunk[1])

    def _named(self) -> Iterable[tuple[list[tuple[InvoiceId, str]], list[tuple[InvoiceId, str]]]]:
        for count, invoices, ids, keys in self._chunks:
            pairs = list(zip(map(InvoiceId, split(ids, count)), split(keys, count), strict=True))
            yield pairs[:invoices], pairs[invoices:]
