"""The README's "Embedding the domain" example runs as written and prints the figures a person
works out by hand, so the example can never drift from the code."""

from __future__ import annotations

import contextlib
import io
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
HEADING = "## Embedding the domain"


def section() -> str:
    """The README text under the embedding heading, up to the next second-level heading."""
    text = README.read_text(encoding="utf-8")
    assert f"\n{HEADING}\n" in text, f"README.md has no '{HEADING}' section"
    body = text.split(f"\n{HEADING}\n", 1)[1]
    return body.split("\n## ", 1)[0]


def fenced(language: str) -> str:
    """The first fenced block of that language in the section."""
    found = re.search(rf"^```{language}\n(.*?)^```$", section(), re.DOTALL | re.MULTILINE)
    assert found, f"the '{HEADING}' section has no ```{language} block"
    return found.group(1)


def run_example() -> str:
    """Execute the example in a fresh namespace and return what it printed."""
    code = compile(fenced("python"), f"{README.name} ({HEADING})", "exec")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(code, {"__name__": "readme_example"})
    return printed.getvalue()


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def eur(value: Decimal) -> str:
    return f"{value:,.2f} EUR"


def test_the_readme_example_prints_the_invoice_worked_out_by_hand() -> None:
    printed = run_example()
    # Consultant at 120.00: 7.5 h, and 6.1 h rounded up to the next quarter hour, 6.25 h.
    consultant_hours = Decimal("7.50") + Decimal("6.25")
    assert consultant_hours == Decimal("13.75")
    consultant = cents(consultant_hours * Decimal("120.00"))
    assert consultant == Decimal("1650.00")
    # Manager at 165.50: 1.75 h = 289.625, rounded half-up once on the line to 289.63.
    manager = cents(Decimal("1.75") * Decimal("165.50"))
    assert manager == Decimal("289.63")
    net = consultant + manager
    assert net == Decimal("1939.63")
    # VAT at 19 % on the document's net: 368.5297, rounded half-up to 368.53.
    tax = cents(net * Decimal("0.19"))
    assert tax == Decimal("368.53")
    gross = net + tax
    assert gross == Decimal("2308.16")

    assert "1. Change request 1: consultant: 13.75 h x 120.00 EUR\n" in printed
    assert "     time_entry:t-1: 7.50 h\n     time_entry:t-2: 6.25 h\n" in printed
    assert f"   = {eur(consultant)}\n" in printed
    assert "2. Change request 1: manager: 1.75 h x 165.50 EUR\n" in printed
    assert "     time_entry:t-3: 1.75 h\n" in printed
    assert f"   = {eur(manager)}\n" in printed
    assert f"net   {eur(net)}\n" in printed
    assert f"tax   {eur(tax)}\n" in printed
    assert f"gross {eur(gross)}\n" in printed


def test_the_readme_example_shows_that_a_rerun_on_the_committed_ledger_proposes_nothing() -> None:
    assert run_example().endswith("re-run proposes nothing: True\n")


def test_the_output_shown_in_the_readme_is_what_the_example_prints() -> None:
    assert fenced("text") == run_example()
