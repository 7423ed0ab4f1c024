"""The public domain API: `import domain` offers the names an embedding program needs, loads
nothing until one is used, and no module of the package goes through it; the builders default
what a caller need not spell."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

import domain as tl
from domain.billing import BilledLedger
from domain.errors import InvalidTermsError

DOMAIN = Path(tl.__file__).resolve().parent
NOW = datetime(2026, 3, 31, 17, 0, tzinfo=UTC)
JAN = date(2026, 1, 1)


def test_every_public_name_is_the_object_of_its_home_module() -> None:
    homes = tl._HOMES
    assert sorted(homes) == sorted(tl.__all__)
    for name in tl.__all__:
        assert getattr(tl, name) is getattr(importlib.import_module(homes[name]), name), name


def test_the_names_type_checkers_see_are_the_names_offered() -> None:
    tree = ast.parse((DOMAIN / "__init__.py").read_text(encoding="utf-8"))
    guarded = next(node for node in tree.body if isinstance(node, ast.If))
    seen = {
        alias.name: node.module
        for node in guarded.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert seen == tl._HOMES


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nonesuch'"):
        _ = tl.Nonesuch  # type: ignore[attr-defined]


def test_importing_domain_loads_no_module_until_a_name_is_used() -> None:
    script = (
        "import sys, domain\n"
        "print(sorted(m for m in sys.modules if m.startswith('domain')))\n"
        "from domain import *\n"
        "print(run_billing.__module__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == ["['domain']", "domain.billing_run"]


def test_no_module_of_the_package_imports_through_the_public_api() -> None:
    offenders = []
    for path in sorted(DOMAIN.glob("*.py")):
        if path.name == "__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            # `from domain import fixed_fee` names a module: that is importing by module path.
            if isinstance(node, ast.ImportFrom) and node.module == "domain":
                names = [a.name for a in node.names if not (DOMAIN / f"{a.name}.py").exists()]
                offenders += [f"{path.name}: {name}" for name in names]
            if isinstance(node, ast.Import) and any(a.name == "domain" for a in node.names):
                offenders.append(f"{path.name}: import domain")
    assert offenders == []


def test_a_billing_input_leaves_out_what_the_caller_has_no_use_for() -> None:
    card = tl.RateCard.with_rates("emea", "EUR", JAN, {"consultant": "100.00"})
    terms = tl.time_and_materials_terms("tm", "Advisory", card, billing_increment="0.25")
    contract = tl.approved_contract("C-1", "acme", "tl-de", [terms], JAN, "legal", NOW)
    run = tl.billing_input("2026-03", contract, rate_cards=[card])
    assert run.period == tl.Period.month(2026, 3)
    assert (run.contracts, dict(run.rate_cards)) == ((contract,), {card.rate_card_id: card})
    assert (run.time_entries, run.expenses, run.milestones) == ((), (), ())
    assert run.ledger == BilledLedger()
    assert (dict(run.tax_profiles), run.tax_rates.rates, run.invoice_date) == ({}, (), None)
    assert contract.currency == card.currency
    assert terms.billing_increment == Decimal("0.25")


def test_one_tax_rate_gives_each_customer_without_a_profile_that_code() -> None:
    card = tl.RateCard.with_rates("emea", "EUR", JAN, {"consultant": "100.00"})
    terms = tl.time_and_materials_terms("tm", "Advisory", card)
    acme = tl.approved_contract("C-1", "acme", "tl-de", [terms], JAN, "legal", NOW)
    globex = tl.approved_contract("C-2", "globex", "tl-de", [terms], JAN, "legal", NOW)
    exempt = tl.TaxProfile(globex.customer_id, globex.legal_entity_id, "EXEMPT")
    vat = tl.TaxRate("VAT", JAN, Decimal("0.19"))
    run = tl.billing_input(
        "2026-03",
        [acme, globex],
        tax=vat,
        tax_profiles={(globex.customer_id, globex.legal_entity_id): exempt},
        tax_rates=tl.TaxRateTable((tl.TaxRate("EXEMPT", JAN, Decimal(0)),)),
    )
    assert run.tax_profiles[(acme.customer_id, acme.legal_entity_id)].tax_code == "VAT"
    assert run.tax_profiles[(globex.customer_id, globex.legal_entity_id)] is exempt
    assert run.tax_rates.rate_on("VAT", date(2026, 3, 31)) == Decimal("0.19")
    assert run.tax_rates.rate_on("EXEMPT", date(2026, 3, 31)) == Decimal(0)


def test_approved_builders_record_what_the_long_forms_record() -> None:
    card = tl.RateCard.with_rates("emea", "EUR", JAN, {"consultant": "100.00"}, name="EMEA")
    assert (card.name, len(card.versions), card.versions[0].version) == ("EMEA", 1, 1)
    terms = tl.time_and_materials_terms("tm", "Advisory", card)
    contract = tl.approved_contract("C-1", "acme", "tl-de", [terms], JAN, "legal", NOW)
    (version,) = contract.versions
    assert (version.state.value, version.approved_by, version.label) == ("approved", "legal", "SOW")
    entry = tl.approved_time("t-1", "tm", "ana", "consultant", JAN, "7.5", "lead", NOW)
    assert (entry.state.value, entry.hours, entry.billable) == ("approved", Decimal("7.5"), True)
    assert len(entry.events) == 1


def test_a_contract_whose_obligations_disagree_on_currency_must_name_its_own() -> None:
    eur = tl.RateCard.with_rates("emea", "EUR", JAN, {"consultant": "100.00"})
    usd = tl.RateCard.with_rates("us", "USD", JAN, {"consultant": "100.00"})
    both = [
        tl.time_and_materials_terms("a", "A", eur),
        tl.time_and_materials_terms("b", "B", usd),
    ]
    with pytest.raises(InvalidTermsError, match="pass its currency"):
        tl.approved_contract("C-1", "acme", "tl-de", both, JAN, "legal", NOW)
