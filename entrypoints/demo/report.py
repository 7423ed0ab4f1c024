"""The report of the four reference scenarios (`throughline demo --report`), as the
application left each scenario's books (`entrypoints.demo.runner`).

Per scenario: what happened, the documents with their lines and totals, what was not billed
and why, the revenue positions, the journal and the trial balance. Rendered with rich; the
CLI's `--plain` gives a colourless console 120 columns wide, for logs and tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from domain.ledger import Account, JournalEntry
from domain.money import Money
from entrypoints.demo.result import DocumentType, DocumentView, ScenarioResult
from entrypoints.demo.runner import DemoResult
from entrypoints.demo.steps import Step, StepKind

# Rendering ---------------------------------------------------------------------------------

STEP_STYLES = {
    StepKind.REFUSED: "bold red",
    StepKind.BLOCKED: "bold red",
    StepKind.DISPUTE: "yellow",
    StepKind.CREDIT: "magenta",
    StepKind.INVOICE: "cyan",
    StepKind.PAYMENT: "green",
    StepKind.REVENUE: "blue",
    StepKind.CLOSE: "dim",
    StepKind.MASTER_DATA: "bold green",
}
ACCOUNT_NAMES = {
    Account.RECEIVABLES.value: "Receivables",
    Account.UNBILLED_WIP.value: "Unbilled WIP (contract asset)",
    Account.DEFERRED_REVENUE.value: "Deferred revenue (contract liability)",
    Account.REVENUE.value: "Revenue",
    Account.TAX_PAYABLE.value: "Tax payable",
    Account.CASH.value: "Cash",
}

JOURNAL_NAMES = {
    Account.RECEIVABLES.value: "Receivables",
    Account.UNBILLED_WIP.value: "Unbilled WIP",
    Account.DEFERRED_REVENUE.value: "Deferred revenue",
    Account.REVENUE.value: "Revenue",
    Account.TAX_PAYABLE.value: "Tax payable",
    Account.CASH.value: "Cash",
}


def money(amount: Money) -> str:
    """An amount at its currency's minor units, with thousands separators, no code."""
    return f"{amount.amount:,.{amount.currency.minor_units}f}"


def quantity(value: Decimal) -> str:
    return f"{value.normalize():f}"


def render(console: Console, result: DemoResult) -> None:
    """The whole report: one section per scenario, then a one-line summary."""
    for scenario in result.scenarios:
        render_scenario(console, scenario)
    console.print(summary_line(result.scenarios), soft_wrap=True)


def render_scenario(console: Console, scenario: ScenarioResult) -> None:
    console.rule(f"[bold]Scenario {scenario.number} · {scenario.title}[/bold]")
    console.print(scenario.summary)
    console.print(f"Books as of {scenario.as_of.isoformat()}.")
    _engagements(console, scenario)
    render_steps(console, scenario.steps)
    for document in scenario.documents:
        _document(console, document)
    _exclusions(console, scenario)
    _blocked(console, scenario)
    _exceptions_raised(console, scenario)
    if scenario.retainer_months:
        _retainer(console, scenario)
    _positions(console, scenario)
    _journal(console, scenario.journal)
    for trial in scenario.trial_balances:
        table = titled_table(f"Trial balance ({trial.currency})", "Account", "Debit", "Credit")
        for row in trial.rows:
            name = ACCOUNT_NAMES.get(row.account, row.account)
            table.add_row(name, money(row.debit), money(row.credit))
        table.add_section()
        table.add_row("Total", money(trial.total_debit), money(trial.total_credit), style="bold")
        console.print(table)
    console.print()


def titled_table(title: str, *columns: str, expand: bool = False) -> Table:
    table = Table(
        title=title, title_justify="left", box=box.SIMPLE_HEAD, title_style="bold", expand=expand
    )
    for name in columns:
        numeric = name in {"Qty", "Unit price", "Amount", "Debit", "Credit", "Hours", "Value"}
        table.add_column(name, justify="right" if numeric else "left", no_wrap=numeric)
    return table


def figures_right(
    table: Table, first: int, last: int | None = None, *, no_wrap: bool = False
) -> None:
    """The columns of figures from `first` (up to `last`) aligned on their last digit, and,
    with `no_wrap`, never broken across lines."""
    for column in table.columns[first:last]:
        column.justify = "right"
        if no_wrap:
            column.no_wrap = True


def print_listing(console: Console, table: Table, notes: Iterable[str]) -> None:
    """A listing whose rows are ids and states: the table unwrapped (an id never breaks),
    then the notes on its rows, as they are (an error text may hold brackets)."""
    for column in table.columns:
        column.no_wrap = True
    console.print(table)
    for note in notes:
        console.print(note, markup=False)


def _engagements(console: Console, scenario: ScenarioResult) -> None:
    for engagement in scenario.engagements:
        console.print(
            f"Engagement {engagement.engagement_id} · contract {engagement.contract_id} · "
            f"{engagement.customer}"
        )
        console.print(f"  lifecycle: {' -> '.join(engagement.path)}")
    console.print()


def render_steps(console: Console, steps: Iterable[Step]) -> None:
    """What happened in a scenario, dated, each step styled by its kind."""
    table = titled_table("What happened", "Date", "Who", "What")
    table.columns[0].no_wrap = True
    for step in steps:
        style = STEP_STYLES.get(step.kind, "")
        table.add_row(step.on.isoformat(), step.actor, Text(step.text, style=style))
    console.print(table)


def _document(console: Console, document: DocumentView) -> None:
    is_credit = document.type is DocumentType.CREDIT_MEMO
    title = (
        f"{'Credit memo' if is_credit else 'Invoice'} {document.number} · {document.customer} · "
        f"contract {document.contract_id} · issued {document.issued_on.isoformat()} · "
        f"{document.currency}"
    )
    table = titled_table(title, "#", "Description", "Qty", "Unit price", "Amount", expand=True)
    for line in document.lines:
        table.add_row(
            str(line.line_no),
            line.description,
            quantity(line.quantity),
            money(line.unit_price),
            money(line.amount),
        )
    table.add_section()
    table.add_row("", "Net", "", "", money(document.net))
    for tax in document.taxes:
        rate = f"{(tax.rate * 100).normalize():f} %"
        label = f"Tax {tax.tax_code} at {rate} on {money(tax.base)}"
        table.add_row("", label, "", "", money(tax.amount))
    table.add_row("", f"Gross ({document.currency})", "", "", money(document.gross), style="bold")
    console.print(table)
    for tax in document.taxes:
        if tax.note:
            console.print(f"  Note: {tax.note}")
    if is_credit:
        console.print(f"  Credits invoice {document.references}: {document.reason}")
        console.print(
            "  Write-off credit: the credited quantities are settled for good, never billed again"
            if document.write_off
            else "  The credited quantities return to unbilled and can be billed again"
        )
    console.print(
        f"  Drafted by {document.drafted_by}, approved by {document.approved_by}; "
        f"posted as {document.journal_entry}; status {document.state}"
    )
    if not is_credit:
        console.print(
            f"  Paid {money(document.paid)} · credited {money(document.credited)} · "
            f"open {money(document.outstanding)} {document.currency}"
        )
    console.print()


def _exclusions(console: Console, scenario: ScenarioResult) -> None:
    if not scenario.exclusions:
        console.print("Exclusions: none (every approved quantity was billed).")
        return
    table = titled_table(
        "Exclusions (not billed)", "Run", "Obligation", "Source", "Hours", "Value", "Why"
    )
    for x in scenario.exclusions:
        table.add_row(
            x.run_on.isoformat(),
            x.obligation_id,
            x.source,
            quantity(x.quantity),
            f"{money(x.value)} {x.value.currency}",
            f"{x.disposition}: {x.reason}",
        )
    console.print(table)


def _blocked(console: Console, scenario: ScenarioResult) -> None:
    if not scenario.blocked:
        console.print("Blocked contracts: none.")
        return
    table = titled_table("Blocked contracts", "Run", "Contract", "Reason", "What to fix")
    for b in scenario.blocked:
        table.add_row(b.run_on.isoformat(), b.contract_id, b.reason, b.detail)
    console.print(table)


def _exceptions_raised(console: Console, scenario: ScenarioResult) -> None:
    if not scenario.exceptions:
        console.print("Exceptions: none (nothing landed in the finance queue).")
        return
    table = titled_table(
        "Exceptions (finance queue)", "Raised", "Id", "Subject", "Reason", "What", "Outcome"
    )
    table.columns[0].no_wrap = True
    for column in table.columns[1:]:
        column.overflow = "fold"
    for x in scenario.exceptions:
        outcome = x.state
        if x.resolved_on is not None:
            outcome += f" on {x.resolved_on.isoformat()} by {x.resolved_by}"
        table.add_row(
            x.raised_on.isoformat(),
            x.exception_id,
            x.subject,
            f"{x.kind} / {x.reason_code}",
            x.detail,
            outcome,
        )
    console.print(table)


def _retainer(console: Console, scenario: ScenarioResult) -> None:
    table = titled_table(
        "Retainer ledger (hours)",
        "Month",
        "Bought",
        "Carried in",
        "Used (carried)",
        "Used (month)",
        "Overage",
        "Carried out",
        "Not carried",
        "Expired",
        "Breakage",
    )
    for month in scenario.retainer_months:
        table.add_row(
            month.period,
            *(
                quantity(v)
                for v in (
                    month.purchased,
                    month.carried_in,
                    month.used_from_carry,
                    month.used_from_current,
                    month.overage,
                    month.carried_out,
                    month.breakage_not_carried,
                    month.breakage_expired,
                    month.breakage,
                )
            ),
        )
    figures_right(table, 1)
    console.print(table)


def _positions(console: Console, scenario: ScenarioResult) -> None:
    table = titled_table(
        "Revenue positions per obligation",
        "Obligation",
        "Name",
        "Model",
        "Currency",
        "Recognised",
        "Billed",
        "Unbilled WIP",
        "Deferred",
    )
    for p in scenario.positions:
        table.add_row(
            p.obligation_id,
            p.name,
            p.model,
            p.recognised.currency.code,
            money(p.recognised),
            money(p.billed),
            money(p.unbilled_wip),
            money(p.deferred),
        )
    figures_right(table, 4, no_wrap=True)
    console.print(table)


def _journal(console: Console, entries: Iterable[JournalEntry]) -> None:
    table = titled_table("Journal", "Entry", "Date", "Account", "Obligation", "Debit", "Credit")
    table.columns[1].no_wrap = True
    table.columns[2].no_wrap = True
    for entry in entries:
        table.add_row(entry.entry_id, entry.posted_on.isoformat(), Text(entry.description, "bold"))
        for line in entry.lines:
            name = JOURNAL_NAMES[line.account.value]
            table.add_row(
                "",
                "",
                f"  Dr {name}" if line.is_debit else f"      Cr {name}",
                line.obligation_id or "",
                money(line.debit) if line.is_debit else "",
                "" if line.is_debit else money(line.credit),
            )
    console.print(table)


def summary_line(scenarios: Iterable[ScenarioResult]) -> str:
    """One line for the whole run: documents, journal, and what is still to collect."""
    listed = list(scenarios)
    invoices = sum(len(s.invoices) for s in listed)
    credits = sum(len(s.credit_memos) for s in listed)
    entries = [e for s in listed for e in s.journal]
    balanced = all(e.total_debits == e.total_credits for e in entries)
    receivables: dict[str, Money] = {}
    for s in listed:
        for trial in s.trial_balances:
            owed = trial.balance(Account.RECEIVABLES)
            so_far = receivables.get(trial.currency, Money.zero(owed.currency))
            receivables[trial.currency] = so_far + owed
    open_text = ", ".join(f"{money(m)} {code}" for code, m in sorted(receivables.items()))
    which = f"scenario {listed[0].number}" if len(listed) == 1 else f"{len(listed)} scenarios"
    return (
        f"Summary: {which} · {invoices} invoice{'s' if invoices != 1 else ''} · "
        f"{credits} credit memo{'s' if credits != 1 else ''} · {len(entries)} journal entries, "
        f"{'all balanced' if balanced else 'NOT ALL BALANCED'} · open receivables {open_text}"
    )
