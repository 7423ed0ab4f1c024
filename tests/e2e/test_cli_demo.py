"""The `throughline demo` command, run for real in a subprocess, and the demo's results.

Every figure asserted here is worked out by hand from the scenario's terms (the arithmetic is in
the comment beside it), not read back from the code under test. The report runs each scenario
through the application on a database of its own, so each scenario's documents are numbered by
the application's sequences from the first (INV-2026-000001, CN-2026-000001, ...).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from domain.ledger import Account
from domain.money import Currency, Money, money_sum
from entrypoints.demo.result import DocumentType, ScenarioResult
from entrypoints.demo.runner import DemoResult, run_demo, run_scenario
from entrypoints.demo.steps import StepKind
from tests.support.engagement_paths import THROUGH_A_BLOCKED_SETUP

ROOT = Path(__file__).resolve().parents[2]


def command() -> list[str]:
    """The installed console script next to this interpreter, else the module itself."""
    script = shutil.which("throughline", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "entrypoints.cli"]


def throughline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command(), *args], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def report() -> str:
    done = throughline("demo", "--plain")
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def demo() -> DemoResult:
    return run_demo()


def _line_start(text: str, marker: str, after: int = 0) -> int:
    found = text.find(marker, after)
    return -1 if found < 0 else text.rfind("\n", 0, found) + 1


def section(report: str, number: int) -> str:
    """One scenario's part of the full report, from its heading rule to the next one."""
    start = _line_start(report, f" Scenario {number} · ")
    ends = [_line_start(report, f" Scenario {number + 1} · ", start), report.find("Summary:")]
    return report[start : min(i for i in ends if i > start)]


def document(text: str, title: str) -> str:
    """The block of one document: its title, lines, totals and status lines."""
    start = text.index(f"{title} ·")
    drafted = text.index("Drafted by", start)
    return text[start : text.find("\n\n", drafted)]


def amount(block: str, label: str) -> str:
    """The last figure on the first line of a block that contains `label`."""
    for line in block.splitlines():
        if label in line:
            return line.split()[-1]
    raise AssertionError(f"no line with {label!r} in:\n{block}")


def flat(text: str) -> str:
    """Text with every run of whitespace as one space, so wrapped table cells read as one line
    (the steps table has nothing but spaces to the left of a wrapped cell)."""
    return " ".join(text.split())


def eur(text: str) -> Money:
    return Money(Decimal(text), Currency.of("EUR"))


# The command line --------------------------------------------------------------------------


def test_the_console_script_is_installed_and_reports_its_version() -> None:
    script = shutil.which("throughline", path=str(Path(sys.executable).parent))
    assert script is not None, "the project is installed editable: `throughline` must exist"
    done = subprocess.run([script, "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert re.fullmatch(r"throughline \d+\.\d+\.\d+\S*\n", done.stdout)


def test_the_module_runs_as_a_program_too() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "--version"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.startswith("throughline ")


def test_the_plain_report_has_a_section_per_scenario_and_a_one_line_summary(report: str) -> None:
    for number, title in enumerate(
        [
            "Global transformation program",
            "Multi-country engagement",
            "Blocked setup",
            "Retainer",
            "Metered platform usage",
        ],
        1,
    ):
        assert f"Scenario {number} · {title}" in report
    assert "\x1b[" not in report  # no colour codes in --plain
    assert max(len(line) for line in report.splitlines()[:-1]) <= 120
    summary = report.rstrip("\n").splitlines()[-1]
    # 4 + 5 + 2 + 6 + 3 invoices; open: 157,080.00 + 32,000.00 + 3,487.50 + 7,200.00 EUR, and
    # 12,500.00 + 1,000.00 + 1,270.00 + 1,000.00 USD; scenario 5 posts 3 recognitions, 3 issues.
    assert summary == (
        "Summary: 5 scenarios · 20 invoices · 1 credit memo · 54 journal entries, all balanced"
        " · open receivables 199,767.50 EUR, 15,770.00 USD"
    )


def test_the_first_milestone_invoice_bills_a_quarter_of_the_fee_less_retention(
    report: str,
) -> None:
    block = document(section(report, 1), "Invoice INV-2026-000001")
    assert amount(block, "program: M1 Discovery") == "100,000.00"  # 25 % of 400,000
    assert amount(block, "retention withheld on M1") == "-10,000.00"  # 10 % of 100,000
    assert amount(block, "Net") == "90,000.00"
    assert amount(block, "Tax FR-VAT-20 at 20 %") == "18,000.00"  # 20 % of 90,000
    assert amount(block, "Gross (EUR)") == "108,000.00"
    assert "Drafted by s.laurent, approved by m.girard" in block


def test_the_disputed_invoice_is_resolved_by_a_partial_write_off_credit(report: str) -> None:
    text = section(report, 1)
    march = document(text, "Invoice INV-2026-000002")
    # M2 100,000 - 10,000 retention + T&M 7.5 h x 135 + 27.5 h x 180 + 4 h x 250 (6,962.50)
    assert amount(march, "Net") == "96,962.50"
    assert amount(march, "Gross (EUR)") == "116,355.00"  # 96,962.50 x 1.2
    credit = document(text, "Credit memo CN-2026-000001")
    assert "Credits invoice INV-2026-000002" in credit
    assert amount(credit, "Net") == "2,160.00"  # the 12 disputed hours x 180
    assert amount(credit, "Tax FR-VAT-20") == "432.00"
    assert amount(credit, "Gross (EUR)") == "2,592.00"
    assert "never billed again" in credit
    assert "Drafted by a.petit, approved by m.girard" in credit
    # the client then pays the rest: 116,355.00 - 2,592.00
    assert "Payment PAY-1002 of 113,763.00 EUR" in flat(text)
    assert "Paid 113,763.00 · credited 2,592.00 · open 0.00 EUR" in march


def test_the_final_milestone_releases_all_four_retentions(report: str) -> None:
    text = section(report, 1)
    final = document(text, "Invoice INV-2026-000004")
    assert len(re.findall(r"retention on M\d", final)) == 4  # M1 to M4, released at the end
    # 100,000 - 10,000 + 4 x 10,000 + 5 h x 180 = 130,900.00; VAT 26,180.00
    assert amount(final, "Net") == "130,900.00"
    assert amount(final, "Gross (EUR)") == "157,080.00"
    trial = text[text.index("Trial balance (EUR)") :]
    assert re.search(r"Receivables\s+157,080\.00\s+0\.00", trial)  # only INV-2026-000004 is open
    # 400,000 program + (39 + 17.75 + 5 - 12 h written off) of change-request time
    assert re.search(r"Revenue\s+0\.00\s+408,861\.25", trial)


def test_the_first_month_of_managed_service_is_prorated_by_days(report: str) -> None:
    text = section(report, 2)
    usd = document(text, "Invoice INV-2026-000001")
    assert "(16/31 days)" in usd
    assert amount(usd, "Gross (USD)") == "6,451.61"  # 12,500 x 16 / 31 = 6,451.6129
    eur_p2 = document(text, "Invoice INV-2026-000004")
    assert amount(eur_p2, "Gross (EUR)") == "72,000.00"  # 60,000 + 20 % VAT
    assert "open 32,000.00 EUR" in eur_p2  # 72,000 - the 40,000 paid
    assert "CRM account open: 32,000.00 EUR, 12,500.00 USD" in flat(text)
    assert "Trial balance (USD)" in text
    assert "Trial balance (EUR)" in text


def test_metered_usage_bills_the_minimum_shortfall_and_then_the_tiers(report: str) -> None:
    text = section(report, 5)
    march = document(text, "Invoice INV-2026-000001")
    # 30,000 + 12,000 calls (31 March recounted from 9,000) x 0.0200 = 840.00; minimum 1,000.00.
    assert "42000 calls, 2026-03" in march
    assert amount(march, "Gross (USD)") == "1,000.00"  # 840.00 + the 160.00 shortfall
    april = document(text, "Invoice INV-2026-000002")
    assert amount(april, "Gross (USD)") == "1,270.00"  # 50,000 x 0.0200 + 18,000 x 0.0150
    may = document(text, "Invoice INV-2026-000003")
    assert amount(may, "Gross (USD)") == "1,000.00"  # 45,000 x 0.0200 = 900.00 + 100.00 short
    assert "The metering system recounts 31 March: 1 corrected" in flat(text)


def test_the_blocked_setup_refuses_time_then_accepts_it_after_the_replay(report: str) -> None:
    text = section(report, 3)
    lifecycle = "proposed -> contracted -> provisioning -> setup_blocked -> provisioning -> active"
    assert f"lifecycle: {lifecycle}" in text
    queue = text[text.index("Exceptions (finance queue)") : text.index("Revenue positions")]
    # the table wraps its cells: each fact is checked on its own
    for fact in ("EXC-000001", "missing_master_data", "tax_profile", "2026-03-11", "n.bernard"):
        assert fact in queue
    steps = flat(text[text.index("What happened") : text.index("Invoice INV-2026-000001")])
    assert steps.count("refused [engagement_not_accepting_time]") == 2
    assert "is 'setup_blocked' and accepts no time" in steps
    assert "2 time entries accepted and approved (replay of the time refused" in steps
    march = document(text, "Invoice INV-2026-000001")
    # 16 h x 135 + 2 h x 320 + 13.75 h x 180 + 7 h x 250; reverse charged: no VAT
    assert amount(march, "Net") == "7,025.00"
    assert amount(march, "Tax VAT-AE at 0 %") == "0.00"
    assert amount(march, "Gross (EUR)") == "7,025.00"
    assert "Article 196" in march
    exclusions = text[text.index("Exclusions (not billed)") :]
    # cap 60 h: 38.75 h in March + 8 + 7.5 in April leaves 5.75 of S3-T09's 8 h
    assert re.search(r"time_entry:S3-T09\s+2\.25\s+405\.00 EUR\s+held: over_cap_hold", exclusions)


def test_the_retainer_bills_overage_in_arrears_and_breaks_expired_hours(report: str) -> None:
    text = section(report, 4)
    april = document(text, "Invoice INV-2026-000004")
    # March: 40 h + 8 h carried from February, 55 h used -> 7 h over, at 170.00
    assert re.search(r"overage 2026-03 at 170\.00 EUR per hour\s+7\s+170\.00\s+1,190\.00", april)
    assert amount(april, "Net") == "7,190.00"
    ledger = text[text.index("Retainer ledger (hours)") : text.index("Revenue positions")]
    rows = {line.split()[0]: line.split()[1:] for line in ledger.splitlines() if "2026-0" in line}
    # columns: bought, carried in, used (carried), used (month), overage, carried out,
    # not carried, expired, breakage
    assert rows["2026-03"][4] == "7"
    assert rows["2026-05"][6:] == ["20", "0", "20"]  # 40 unused, only 20 may carry
    assert rows["2026-06"][6:] == ["20", "7", "27"]  # and April's last 7 carried hours expire
    # deferred: May's and June's 20 carried hours each, at 6,000 / 40 = 150.00 an hour
    assert re.search(r"BEL-RETAINER .*31,190\.00\s+37,190\.00\s+0\.00\s+6,000\.00", text)


def test_one_scenario_alone_prints_exactly_its_section_of_the_full_report(report: str) -> None:
    done = throughline("demo", "--plain", "--scenario", "2")
    assert done.returncode == 0, done.stderr
    body, summary = done.stdout.rstrip("\n").rsplit("\n", 1)
    assert body.strip() == section(report, 2).strip()
    assert summary.startswith("Summary: scenario 2 · 5 invoices · 0 credit memos")


def test_the_report_is_the_same_every_time(report: str) -> None:
    again = throughline("demo", "--plain")
    assert again.returncode == 0
    assert again.stdout == report


@pytest.mark.parametrize("bad", ["7", "0", "-1"])
def test_an_unknown_scenario_is_refused_with_a_clear_message(bad: str) -> None:
    done = throughline("demo", "--plain", "--scenario", bad)
    assert done.returncode != 0
    assert f"there is no scenario {bad}; the demo has scenarios 1, 2, 3, 4, 5" in done.stderr
    assert done.stdout == ""


def test_a_scenario_that_is_not_a_number_is_refused() -> None:
    done = throughline("demo", "--scenario", "two")
    assert done.returncode != 0
    assert "--scenario" in done.stderr


# The demo's results ------------------------------------------------------------------------


def test_every_journal_entry_balances(demo: DemoResult) -> None:
    for scenario in demo.scenarios:
        assert scenario.journal
        for entry in scenario.journal:
            debits = money_sum((line.debit for line in entry.lines), entry.currency)
            credits = money_sum((line.credit for line in entry.lines), entry.currency)
            assert debits == credits, entry.entry_id
            assert debits.is_positive(), entry.entry_id


def test_each_trial_balance_sums_to_zero(demo: DemoResult) -> None:
    for scenario in demo.scenarios:
        for trial in scenario.trial_balances:
            assert trial.total_debit == trial.total_credit


def _billed_by_documents(scenario: ScenarioResult) -> dict[str, Money]:
    billed: dict[str, Money] = {}
    for doc in scenario.documents:
        sign = -1 if doc.type is DocumentType.CREDIT_MEMO else 1
        for oid, net in doc.net_by_obligation().items():
            zero = Money.zero(net.currency)
            billed[oid] = billed.get(oid, zero) + net.times(sign)
    return billed


def test_billed_per_obligation_is_the_issued_invoices_less_the_credits(demo: DemoResult) -> None:
    for scenario in demo.scenarios:
        by_documents = _billed_by_documents(scenario)
        for position in scenario.positions:
            zero = Money.zero(position.billed.currency)
            assert position.billed == by_documents.get(position.obligation_id, zero)
    scenario_1 = demo.scenario(1)
    billed = {p.obligation_id: p.billed for p in scenario_1.positions}
    assert billed["LUM-PROGRAM"] == eur("400000.00")  # the whole fee, retention released
    # (39 + 17.75 + 5) billable hours less the 12 credited: 8,861.25
    assert billed["LUM-CR01"] == eur("8861.25")


def test_the_ledger_agrees_with_the_revenue_positions(demo: DemoResult) -> None:
    for scenario in demo.scenarios:
        for trial in scenario.trial_balances:
            mine = [p for p in scenario.positions if p.recognised.currency.code == trial.currency]
            currency = Currency.of(trial.currency)
            wip = money_sum((p.unbilled_wip for p in mine), currency)
            deferred = money_sum((p.deferred for p in mine), currency)
            recognised = money_sum((p.recognised for p in mine), currency)
            assert trial.balance(Account.UNBILLED_WIP) == wip
            assert trial.balance(Account.DEFERRED_REVENUE) == -deferred
            assert trial.balance(Account.REVENUE) == -recognised


def test_receivables_and_cash_agree_with_the_invoices(demo: DemoResult) -> None:
    for scenario in demo.scenarios:
        open_by: defaultdict[str, Decimal] = defaultdict(Decimal)
        paid_by: defaultdict[str, Decimal] = defaultdict(Decimal)
        for invoice in scenario.invoices:
            open_by[invoice.currency] += invoice.outstanding.amount
            paid_by[invoice.currency] += invoice.paid.amount
        for trial in scenario.trial_balances:
            assert trial.balance(Account.RECEIVABLES).amount == open_by[trial.currency]
            assert trial.balance(Account.CASH).amount == paid_by[trial.currency]


def test_whoever_drafts_a_document_never_approves_it(demo: DemoResult) -> None:
    for scenario in demo.scenarios:
        for doc in scenario.documents:
            assert doc.drafted_by
            assert doc.approved_by
            assert doc.drafted_by != doc.approved_by, doc.number


def test_documents_are_numbered_in_sequence_per_scenario(demo: DemoResult) -> None:
    for scenario in demo.scenarios:
        numbers = [d.number for d in scenario.invoices]
        assert numbers == [f"INV-2026-{i:06d}" for i in range(1, len(numbers) + 1)]
    assert [d.number for d in demo.scenario(1).credit_memos] == ["CN-2026-000001"]


def test_the_blocked_scenario_went_through_setup_blocked(demo: DemoResult) -> None:
    scenario = demo.scenario(3)
    (engagement,) = scenario.engagements
    assert engagement.path == THROUGH_A_BLOCKED_SETUP
    (raised,) = scenario.exceptions
    assert (raised.subject, raised.reason_code) == ("engagement:ENG-VER-01", "missing_master_data")
    assert (raised.state, raised.resolved_on) == ("resolved", date(2026, 3, 11))
    refused = [s for s in scenario.steps if s.kind is StepKind.REFUSED]
    fixed = next(s for s in scenario.steps if "adds the missing tax profile" in s.text)
    assert [s.text.split()[2] for s in refused] == ["S3-T01", "S3-T02"]
    assert all(s.on < fixed.on for s in refused)
    # the refused entries are accepted after the replay and billed on the first invoice
    first = scenario.invoices[0]
    sources = {source for line in first.lines for source in line.sources}
    assert {"time_entry:S3-T01", "time_entry:S3-T02"} <= sources


def test_hours_credited_with_a_write_off_are_never_billed_again(demo: DemoResult) -> None:
    scenario = demo.scenario(1)
    disputed = {"time_entry:S1-T06", "time_entry:S1-T07"}
    (credit,) = scenario.credit_memos
    assert {s for line in credit.lines for s in line.sources} == disputed
    later = [i for i in scenario.invoices if i.issued_on > credit.issued_on]
    assert later
    assert not disputed & {s for i in later for line in i.lines for s in line.sources}


def test_the_retainer_ledger_shows_carry_overage_and_breakage(demo: DemoResult) -> None:
    months = {m.period: m for m in demo.scenario(4).retainer_months}
    assert [months[p].carried_out for p in ("2026-01", "2026-02")] == [Decimal(6), Decimal(8)]
    assert months["2026-03"].overage == Decimal(7)
    assert sum(m.breakage for m in months.values()) == Decimal(47)  # 20 in May, 27 in June
    assert months["2026-06"].breakage_expired == Decimal(7)


def test_running_the_demo_twice_gives_identical_results(demo: DemoResult) -> None:
    assert run_demo() == demo


def test_an_unknown_scenario_number_is_refused_by_the_demo_module() -> None:
    with pytest.raises(ValueError, match="there is no scenario 7"):
        run_scenario(7)
