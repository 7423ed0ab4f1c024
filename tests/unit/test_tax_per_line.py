"""Tax per line (ADR 0030): each line falls in a tax category (services or expenses, optionally
per expense category), the payer's profile maps the category to a tax code, and tax is
round(base x rate) per code on the document. Worked by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.billing import BilledLedger, LineKind
from domain.billing_run import BillingProposal, BillingRunInput, run_billing
from domain.credit_memo import CreditMemo, CreditRequest
from domain.errors import InvalidTermsError
from domain.ids import CreditMemoId, ExpenseId, RateCardId, ResourceId
from domain.money import Money
from domain.tax import (
    REVERSE_CHARGE_NOTE,
    CategoryCode,
    TaxProfile,
    TaxQuestion,
    TaxRate,
    TaxRateTable,
    TaxTreatment,
    tax_questions,
)
from domain.time_and_materials import ExpensePolicy, TimeAndMaterialsTerms
from domain.time_entry import ExpenseItem
from tests.support.builders import (
    AT,
    CUSTOMER,
    ENTITY,
    EUR,
    MARCH,
    OPEN,
    TM,
    contract,
    d,
    entry,
    issued_invoice,
    rate_card,
)

TRAINING_EXEMPTION = "Exempt: vocational training (art. 261-4-4 CGI)"
TABLE = TaxRateTable(
    (
        TaxRate("VAT20", date(2020, 1, 1), d("0.20")),
        TaxRate("VAT20", date(2026, 3, 15), d("0.21")),
        TaxRate("ZERO", date(2020, 1, 1), d("0")),
    )
)
#: Time at the standard rate, expenses zero-rated, training expenses exempt.
PROFILE = TaxProfile(
    CUSTOMER,
    ENTITY,
    "VAT20",
    categories=(
        CategoryCode("expenses", "ZERO"),
        CategoryCode("expenses:training", "EXEMPT", TRAINING_EXEMPTION),
    ),
)


def money(text: str) -> Money:
    return Money(Decimal(text), EUR)


def expense(expense_id: str, category: str, cost: str) -> ExpenseItem:
    x = ExpenseItem.submit(
        ExpenseId(expense_id), TM, ResourceId("r1"), category, date(2026, 3, 4), money(cost)
    )
    x.approve("psa", AT)
    return x


def billed(
    profile: TaxProfile = PROFILE,
    invoice_date: date | None = date(2026, 3, 14),
    expenses: tuple[ExpenseItem, ...] = (expense("x1", "travel", "212.43"),),
    answers: dict[TaxQuestion, TaxTreatment] | None = None,
) -> BillingProposal:
    terms = TimeAndMaterialsTerms(TM, "Advisory", EUR, RateCardId("RC"), expenses=ExpensePolicy())
    c = contract([terms])
    hours = (entry("e1", date(2026, 3, 2), "8"), entry("e2", date(2026, 3, 3), "2.35"))
    return run_billing(
        BillingRunInput(
            period=MARCH,
            contracts=(c,),
            rate_cards={RateCardId("RC"): rate_card()},
            time_entries=hours,
            expenses=expenses,
            milestones=(),
            ledger=BilledLedger(),
            tax_profiles={(CUSTOMER, ENTITY): profile},
            tax_rates=TABLE,
            invoice_date=invoice_date,
            tax_answers=answers,
        )
    )


def test_time_at_the_standard_rate_and_zero_rated_expenses_make_two_tax_lines() -> None:
    (invoice,) = billed().invoices
    assert [(line.kind, line.tax_code) for line in invoice.lines] == [
        (LineKind.TIME, "VAT20"),
        (LineKind.EXPENSE, "ZERO"),
    ]
    # 10.35 h x 100 = 1,035.00 at 20 % = 207.00; travel 212.43 at 0 % = 0.00
    assert [(t.tax_code, t.base, t.rate, t.amount) for t in invoice.totals.tax_lines] == [
        ("VAT20", money("1035.00"), d("0.20"), money("207.00")),
        ("ZERO", money("212.43"), d("0"), money("0.00")),
    ]
    assert invoice.totals.tax == money("207.00")
    assert invoice.totals.gross == money("1454.43")
    assert invoice.totals.note == ""


def test_an_exempt_expense_category_carries_its_exemption_reason() -> None:
    expenses = (expense("x1", "travel", "212.43"), expense("x2", "training", "500.00"))
    (invoice,) = billed(expenses=expenses).invoices
    codes = {line.description: line.tax_code for line in invoice.lines}
    assert codes == {
        "Advisory: consultant": "VAT20",
        "Expenses: training": "EXEMPT",
        "Expenses: travel": "ZERO",
    }
    exempt = next(t for t in invoice.totals.tax_lines if t.tax_code == "EXEMPT")
    assert (exempt.base, exempt.rate, exempt.amount) == (money("500.00"), d("0"), money("0.00"))
    assert exempt.note == TRAINING_EXEMPTION


def test_a_reverse_charged_payer_gets_the_legal_note_once_on_the_document() -> None:
    profile = TaxProfile(CUSTOMER, ENTITY, "VAT20", reverse_charge=True)
    (invoice,) = billed(profile).invoices
    assert invoice.totals.note == REVERSE_CHARGE_NOTE
    assert invoice.totals.tax == money("0.00")
    assert invoice.totals.gross == invoice.totals.net == money("1247.43")
    assert [t.note for t in invoice.totals.tax_lines] == [REVERSE_CHARGE_NOTE]


def test_the_rate_in_force_on_the_tax_date_applies_to_the_whole_document() -> None:
    before = billed(invoice_date=date(2026, 3, 14)).invoices[0].totals.tax_lines[0]
    after = billed(invoice_date=None).invoices[0].totals.tax_lines[0]  # dated March 31
    # 1,035.00 x 20 % = 207.00 before the change on 15 March; x 21 % = 217.35 from it
    assert (before.rate, before.amount) == (d("0.20"), money("207.00"))
    assert (after.rate, after.amount) == (d("0.21"), money("217.35"))


def test_treatments_a_tax_engine_resolved_replace_the_table() -> None:
    day = date(2026, 3, 14)
    answers = {
        TaxQuestion(CUSTOMER, ENTITY, "services", day): TaxTreatment("GST", d("0.15")),
        TaxQuestion(CUSTOMER, ENTITY, "expenses", day): TaxTreatment("GST", d("0.15")),
        TaxQuestion(CUSTOMER, ENTITY, "expenses:travel", day): TaxTreatment("GST", d("0.15")),
    }
    (invoice,) = billed(answers=answers).invoices
    # (1,035.00 + 212.43) x 15 % = 187.1145 -> 187.11, one tax code on every line
    ((code, tax),) = [(t.tax_code, t.amount) for t in invoice.totals.tax_lines]
    assert (code, tax) == ("GST", money("187.11"))
    assert {line.tax_code for line in invoice.lines} == {"GST"}


def test_a_category_the_engine_did_not_answer_blocks_the_contract() -> None:
    answers = {
        TaxQuestion(CUSTOMER, ENTITY, "services", date(2026, 3, 14)): TaxTreatment("GST", d("0.15"))
    }
    proposal = billed(answers=answers)
    assert proposal.invoices == ()
    assert [b.reason for b in proposal.blocked] == ["tax_treatment_missing"]


def test_one_tax_code_with_two_treatments_on_a_document_blocks_the_contract() -> None:
    profile = TaxProfile(
        CUSTOMER, ENTITY, "VAT20", categories=(CategoryCode("expenses", "VAT20", "Exempt"),)
    )
    assert [b.reason for b in billed(profile).blocked] == ["tax_treatment_conflict"]


def test_a_run_asks_for_services_expenses_and_each_expense_category_per_payer() -> None:
    day = date(2026, 3, 31)
    questions = tax_questions([(CUSTOMER, ENTITY)] * 2, ["travel", "meals", "travel"], day)
    assert [q.category for q in questions] == [
        "services",
        "expenses",
        "expenses:meals",
        "expenses:travel",
    ]


def test_a_category_takes_its_own_code_then_its_broader_one_then_the_default() -> None:
    assert PROFILE.code_for("expenses:training").tax_code == "EXEMPT"
    assert PROFILE.code_for("expenses:travel").tax_code == "ZERO"
    assert PROFILE.code_for("services").tax_code == "VAT20"


def test_a_profile_maps_each_category_once() -> None:
    categories = (CategoryCode("expenses", "ZERO"), CategoryCode("expenses", "VAT20"))
    with pytest.raises(InvalidTermsError, match="mapped twice"):
        TaxProfile(CUSTOMER, ENTITY, "VAT20", categories=categories)


@pytest.mark.parametrize("category", ["time", "expenses:", "", "fees"])
def test_a_tax_category_is_services_or_expenses(category: str) -> None:
    with pytest.raises(InvalidTermsError, match="tax category"):
        CategoryCode(category, "VAT20")


def test_a_full_credit_of_an_invoice_with_several_tax_codes_nets_to_exactly_zero() -> None:
    expenses = (expense("x1", "travel", "212.43"), expense("x2", "training", "500.00"))
    (draft,) = billed(PROFILE, None, expenses).invoices
    invoice = issued_invoice(draft, "INV-1", "2026-0001")
    # credit line by line, so each tax code is recomputed from cumulative credited bases
    for n, line in enumerate(invoice.lines, 1):
        memo = CreditMemo.against(
            CreditMemoId(f"CM-{n}"), invoice, [CreditRequest(line.line_no)], "wrong", "ar"
        )
        memo.approve("finance-lead", AT)
        memo.issue(invoice, f"CN-{n}", date(2026, 4, 2), AT, OPEN)
    assert len(invoice.totals.tax_lines) == 3
    assert invoice.outstanding == money("0.00")


def test_a_credit_note_on_a_reverse_charged_invoice_repeats_the_legal_note() -> None:
    profile = TaxProfile(CUSTOMER, ENTITY, "VAT20", reverse_charge=True)
    (draft,) = billed(profile).invoices
    invoice = issued_invoice(draft, "INV-1", "2026-0001")
    memo = CreditMemo.against(CreditMemoId("CM-1"), invoice, [CreditRequest(1)], "wrong rate", "ar")
    assert memo.totals.note == REVERSE_CHARGE_NOTE
    memo.approve("finance-lead", AT)
    memo.issue(invoice, "CN-1", date(2026, 4, 2), AT, OPEN)
    assert memo.totals.note == REVERSE_CHARGE_NOTE
