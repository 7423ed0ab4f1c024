"""What a billing run keeps for its answer, compactly (ADR 0060): the diff rows and the drafts'
names come back equal, value and exponent, to what the run computed, in its order."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from application.billing_answer import SEPARATOR, DiffRows, DraftNames
from domain.billing_run import ObligationDiff
from domain.ids import ContractId, InvoiceId, ObligationId
from domain.money import Currency, Money

EUR, JPY, BHD = Currency.of("EUR"), Currency.of("JPY"), Currency.of("BHD")


def row(
    contract: str, obligation: str, before: str, proposed: str, currency: Currency = EUR
) -> ObligationDiff:
    return ObligationDiff(
        ContractId(contract),
        ObligationId(obligation),
        Money(Decimal(before), currency),
        Money(Decimal(proposed), currency),
        3,
    )


def exactly(rows: tuple[ObligationDiff, ...]) -> list[tuple[object, ...]]:
    """Each row as text and exponents, so Decimal('1.0') is not Decimal('1.00')."""
    return [
        (r.contract_id, r.obligation_id, repr(r.already_invoiced), repr(r.proposed), r.sources)
        for r in rows
    ]


def test_diff_rows_come_back_as_computed_chunk_after_chunk() -> None:
    chunks = [
        [row("C1", "OB-1", "0.00", "1234.50"), row("C1", "OB-2", "10.00", "-0.05")],
        [],
        [row("C2", "OB-3", "0", "700", JPY), row("C3", "OB-4", "0.000", "1.125", BHD)],
    ]
    kept = DiffRows()
    for chunk in chunks:
        kept.add(chunk)
    computed = tuple(r for chunk in chunks for r in chunk)
    assert kept.rows() == computed
    assert exactly(kept.rows()) == exactly(computed)


def test_a_chunk_whose_amounts_or_ids_would_not_come_back_is_kept_as_it_came() -> None:
    odd = [row("C1", "OB-1", "0.00", "12.5"), row("C1", "OB-2", "-0.00", "1.00")]
    named = [row(f"C{SEPARATOR}9", "OB-9", "0.00", "1.00")]
    usual = [row("C2", "OB-3", "5.00", "1.00")]
    kept = DiffRows()
    for chunk in (odd, named, usual):
        kept.add(chunk)
    assert exactly(kept.rows()) == exactly((*odd, *named, *usual))


@given(
    st.lists(
        st.tuples(
            st.integers(-(10**15), 10**15),
            st.integers(-(10**15), 10**15),
            st.sampled_from([EUR, JPY, BHD]),
            st.text(min_size=1, max_size=6),
        ),
        max_size=8,
    )
)
def test_any_amount_in_minor_units_comes_back_exactly(
    values: list[tuple[int, int, Currency, str]],
) -> None:
    rows = [
        ObligationDiff(
            ContractId(f"C{name}"),
            ObligationId(name),
            Money(Decimal(before).scaleb(-cur.minor_units), cur),
            Money(Decimal(added).scaleb(-cur.minor_units), cur),
            abs(before) % 50,
        )
        for before, added, cur, name in values
    ]
    kept = DiffRows()
    kept.add(rows[: len(rows) // 2])
    kept.add(rows[len(rows) // 2 :])
    assert exactly(kept.rows()) == exactly(tuple(rows))


def test_draft_names_give_each_draft_its_key_invoices_before_adjustments() -> None:
    names = DraftNames()
    names.add(
        [InvoiceId("INV-1"), InvoiceId("INV-2"), InvoiceId("ADJ-1")], ["C1/m", "C2/m", "C1/a"], 2
    )
    names.add([], [], 0)
    names.add([InvoiceId(f"INV{SEPARATOR}3")], ["C3/m"], 1)
    assert names.count == 4
    assert names.counts == (3, 1)
    assert names.ids() == ("INV-1", "INV-2", "ADJ-1", f"INV{SEPARATOR}3")
    assert names.invoices() == (("INV-1", "C1/m"), ("INV-2", "C2/m"), (f"INV{SEPARATOR}3", "C3/m"))
    assert names.adjustments() == (("ADJ-1", "C1/a"),)
