"""The README's "Embedding the domain" example runs as written, within its 25 lines, and prints
the figures a person works out by hand, so the example can never drift from the code."""

from __future__ import annotations

import contextlib
import io
import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[2] / "README.md"
HEADING = "## Embedding the domain"
MAX_LINES = 25


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


def run_example() -> tuple[str, dict[str, Any]]:
    """Execute the example in a fresh namespace; what it printed, and its names."""
    code = compile(fenced("python"), f"{README.name} ({HEADING})", "exec")
    printed = io.StringIO()
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    with contextlib.redirect_stdout(printed):
        exec(code, namespace)
    return printed.getvalue(), namespace


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def eur(value: Decimal) -> str:
    return f"{value:,.2f} EUR"


def test_the_example_bills_issues_and_credits_a_month_in_at_most_25_lines() -> None:
    lines = fenced("python").splitlines()
    assert len(lines) <= MAX_LINES, f"the example has {len(lines)} lines, at most {MAX_LINES}"
    assert all(len(line) <= 100 for line in lines), "every line fits in 100 columns"
    code = fenced("python")
    for step in ("run_billing(", "Invoice.from_proposal(", ".issue(", "CreditMemo.against("):
        assert step in code, f"the example no longer calls {step}"


def test_the_example_imports_only_the_public_domain_api() -> None:
    imports = [line for line in fenced("python").splitlines() if "import" in line]
    assert [line for line in imports if "domain" in line] == ["import domain as tl"]


def test_the_readme_example_prints_the_invoice_and_credit_worked_out_by_hand() -> None:
    printed, names = run_example()
    # Consultant at 120.00: 7.5 h, and 6.1 h rounded up to the next quarter hour, 6.25 h.
    consultant_hours = Decimal("7.50") + Decimal("6.25")
    assert consultant_hours == Decimal("13.75")
    consultant = cents(consultant_hours * Decimal("120.00"))
    assert consultant == Decimal("1650.00")
    # Manager at 165.50: 1.75 h = 289.625, rounded half-up once on the line to 289.63.
    manager = cents(Decimal("1.75") * Decimal("165.50"))
    assert manager == Decimal("289.63")
    net = consultant + manager
    # VAT at 19 % on the document's net: 368.5297, rounded half-up to 368.53.
    gross = net + cents(net * Decimal("0.19"))
    assert gross == Decimal("2308.16")
    # The credit takes back line 2 and its tax: 289.63 + 55.0297 rounded, 55.03.
    credited = manager + cents(manager * Decimal("0.19"))
    assert credited == Decimal("344.66")
    owed = gross - credited
    assert owed == Decimal("1963.50")

    assert printed == (
        f"1. Change request 1: consultant: 13.75 h = {eur(consultant)}\n"
        f"2. Change request 1: manager: 1.75 h = {eur(manager)}\n"
        f"gross {eur(gross)}, credited {eur(credited)}, owed {eur(owed)}\n"
    )
    invoice, credit = names["invoice"], names["credit"]
    assert (invoice.state.value, invoice.number) == ("issued", "2026-0001")
    assert (credit.state.value, credit.number) == ("issued", "CN-0001")


def test_the_credit_in_the_example_releases_the_managers_hours_to_the_next_run() -> None:
    _, names = run_example()
    tl, run, invoice, credit = names["tl"], names["run"], names["invoice"], names["credit"]
    ledger = run.ledger.plus([*invoice.ledger_entries(), *credit.ledger_entries()])
    again = tl.run_billing(
        tl.billing_input(
            run.period,
            run.contracts,
            rate_cards=run.rate_cards,
            time_entries=run.time_entries,
            ledger=ledger,
            tax=names["vat"],
        )
    )
    (rebilled,) = again.invoices
    assert [(line.description, line.quantity) for line in rebilled.lines] == [
        ("Change request 1: manager", Decimal("1.75"))
    ]


def test_the_output_shown_in_the_readme_is_what_the_example_prints() -> None:
    assert fenced("text") == run_example()[0]
