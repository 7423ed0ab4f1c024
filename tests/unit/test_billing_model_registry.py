"""Every registered billing model has every piece docs/adr/0009 asks of it.

The tests walk `registered_models()`, so a model added later (its module and its one import
line in `domain/billing_models.py`) is checked without editing this file: its example drafts
through the converter, its ADR exists, it earns revenue and states a contract value in the
contract's currency, its lines and sources carry the kinds it declares, a re-run of what it
billed proposes nothing, and the docs that list the models list it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

import domain.billing_models  # noqa: F401  (registers every billing model)
from adapters.serialization import structure_obligations
from domain.billing import BilledLedger, LineKind, SourceKind
from domain.billing_run import BillingProposal, run_billing
from domain.builders import approved_contract, approved_time, billing_input
from domain.contract import Contract
from domain.delivery_kinds import delivery_kinds
from domain.money import Currency, Money
from domain.obligation import BillingModel, registered_models
from domain.period import Period
from domain.revenue import recognised_to_date
from domain.tax import TaxRate
from tests.support.model_inputs import revenue_context

ROOT = Path(__file__).resolve().parents[2]
EUR = Currency.of("EUR")
AT = datetime(2026, 1, 1, 9, tzinfo=UTC)
ZERO_RATED = TaxRate("Z", date(2020, 1, 1), Decimal(0))
#: The models the product ships (a model a test registers for itself lives outside `domain`).
MODELS = [m for m in registered_models() if m.terms_type.__module__.startswith("domain.")]
#: The months a model's example is billed over: every example is dated within them.
MONTHS = [Period.parse_month(f"2026-{month:02d}") for month in range(1, 13)]


def by_name(model: BillingModel) -> str:
    return model.name


def example_terms(model: BillingModel) -> Any:
    """The model's example, structured by the project's one converter, as the API does."""
    (terms,) = structure_obligations([{"model": model.name, "currency": "EUR", **model.example}])
    return terms


def example_contract(model: BillingModel) -> Contract:
    return approved_contract(
        "C-EXAMPLE", "acme", "tl-uk", [example_terms(model)], date(2026, 1, 1), "legal", AT
    )


def bill_the_year(contract: Contract) -> tuple[BilledLedger, list[BillingProposal]]:
    """Each month of the year billed and committed in turn, the ledger growing."""
    ledger, proposals = BilledLedger(), []
    for month in MONTHS:
        run = billing_input(month, contract, ledger=ledger, tax=ZERO_RATED)
        proposal = run_billing(run).raise_if_blocked()
        proposals.append(proposal)
        ledger = ledger.plus(proposal.ledger_entries())
    return ledger, proposals


@pytest.mark.parametrize("model", MODELS, ids=by_name)
def test_a_model_is_registered_under_a_name_the_api_can_carry(model: BillingModel) -> None:
    assert re.fullmatch(r"[a-z][a-z0-9_]*", model.name)
    assert model.summary.strip()
    fields = attrs.fields_dict(model.terms_type)
    assert {"obligation_id", "name", "currency"} <= set(fields)


@pytest.mark.parametrize("model", MODELS, ids=by_name)
def test_a_models_example_drafts_into_its_terms_through_the_converter(
    model: BillingModel,
) -> None:
    assert "model" not in model.example
    assert type(example_terms(model)) is model.terms_type


@pytest.mark.parametrize("model", MODELS, ids=by_name)
def test_a_models_semantics_are_recorded_in_an_adr_that_exists(model: BillingModel) -> None:
    assert re.fullmatch(r"docs/adr/\d{4}-[a-z0-9-]+\.md", model.adr)
    adr = ROOT / model.adr
    assert adr.is_file(), f"{model.name}: {model.adr} does not exist"
    assert "Status:" in adr.read_text(encoding="utf-8")


@pytest.mark.parametrize("model", MODELS, ids=by_name)
def test_a_model_earns_revenue_in_whole_minor_units_of_the_contracts_currency(
    model: BillingModel,
) -> None:
    contract = example_contract(model)
    (oid,) = contract.obligation_ids()
    for as_of in (date(2026, 1, 1), date(2026, 6, 30), date(2027, 1, 31)):
        ctx = revenue_context(as_of, EUR)
        earned = recognised_to_date(contract.obligation_history(oid), ctx)  # checks the units
        assert earned.currency == EUR


@pytest.mark.parametrize("model", MODELS, ids=by_name)
def test_a_model_states_its_contract_value_or_that_it_fixes_none(model: BillingModel) -> None:
    contract = example_contract(model)
    (oid,) = contract.obligation_ids()
    value = model.contract_value(contract.obligation_history(oid), date(2026, 6, 30))
    assert value is None or (isinstance(value, Money) and value.currency == EUR)
    assert value is None or value == value.quantized()


@pytest.mark.parametrize("model", MODELS, ids=by_name)
def test_a_model_declares_the_kinds_it_bills_and_consumes(model: BillingModel) -> None:
    assert set(model.source_kinds) <= set(SourceKind.members())
    assert set(model.line_kinds) <= set(LineKind.members())
    assert set(model.consumes) <= set(delivery_kinds())
    _, proposals = bill_the_year(example_contract(model))
    lines = [line for p in proposals for invoice in p.invoices for line in invoice.lines]
    assert {line.kind for line in lines} <= set(model.line_kinds)
    sources = {a.source.kind for line in lines for a in line.allocations}
    assert sources <= set(model.source_kinds)


@pytest.mark.parametrize("model", MODELS, ids=by_name)
def test_a_re_run_of_a_models_example_on_its_committed_ledger_proposes_nothing(
    model: BillingModel,
) -> None:
    contract = example_contract(model)
    ledger, _ = bill_the_year(contract)
    for month in MONTHS:
        again = run_billing(billing_input(month, contract, ledger=ledger, tax=ZERO_RATED))
        assert again.is_empty, f"{model.name} bills {month.key} again"
        assert again.blocked == ()


@pytest.mark.parametrize("model", MODELS, ids=by_name)
def test_billed_values_never_exceed_a_models_stated_contract_value(model: BillingModel) -> None:
    contract = example_contract(model)
    (oid,) = contract.obligation_ids()
    ledger, _ = bill_the_year(contract)
    value = model.contract_value(contract.obligation_history(oid), date(2026, 12, 31))
    billed = ledger.obligation_billed_amount(oid, EUR).quantized()
    assert value is None or billed <= value


@pytest.mark.parametrize("model", [m for m in MODELS if not m.reads_time_entries], ids=by_name)
def test_a_model_that_reads_no_time_entries_bills_the_same_without_them(
    model: BillingModel,
) -> None:
    """A run reads no entries for such a model (ADR 0060): what it bills, month after month
    on its own committed ledger, is what it bills with its obligation's hours in front of it."""
    contract = example_contract(model)
    (oid,) = contract.obligation_ids()
    hours = [
        approved_time(f"E{n}", oid, "r1", "consultant", date(2026, n % 12 + 1, 9), "7.5", "psa", AT)
        for n in range(24)
    ]
    with_hours, without = BilledLedger(), BilledLedger()
    for month in MONTHS:
        seen = run_billing(
            billing_input(month, contract, ledger=with_hours, time_entries=hours, tax=ZERO_RATED)
        )
        blind = run_billing(billing_input(month, contract, ledger=without, tax=ZERO_RATED))
        assert seen == blind, f"{model.name} bills {month.key} from hours it says it never reads"
        with_hours = with_hours.plus(seen.ledger_entries())
        without = without.plus(blind.ledger_entries())


# The docs that list the models --------------------------------------------------------------


def test_the_webhook_guide_lists_the_terms_of_exactly_the_registered_models() -> None:
    text = (ROOT / "docs" / "webhooks.md").read_text(encoding="utf-8")
    table = text[text.index("| `model` | Fields |") :].split("\n\n", 1)[0]
    rows = table.split("\n")[2:]  # below the header and its rule
    listed = [row.split("`")[1] for row in rows]
    assert sorted(listed) == sorted(model.name for model in MODELS)


def test_the_readme_lists_the_module_of_every_registered_model() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("\nBilling models\n") :].split("\nBilling run and documents\n")[0]
    for model in MODELS:
        module = model.terms_type.__module__.rsplit(".", 1)[-1]
        assert f"`{module}.py`" in section, f"README's billing models omit {module}.py"
