"""How the CLI prints what the application answered: rich tables, one function per answer."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Generic, TypeVar

import attrs
from rich.console import Console
from rich.table import Table
from rich.text import Text

from application.audit import ChainReport
from application.handlers.billing import BillingRunResult, fingerprint
from application.reconciliation import ReconciliationReport
from application.records import ExceptionState, IntegrationException
from domain.billing_run import AdjustmentProposal, InvoiceProposal
from domain.document import DocumentLine, DocumentTotals
from domain.money import Money
from entrypoints.cli.time_import import RowRejection
from entrypoints.demo.bus import ScenarioLoad
from entrypoints.demo.firm import MONTH_ENDS
from entrypoints.demo.loader import DemoLoad
from entrypoints.demo.report import (
    figures_right,
    money,
    print_listing,
    quantity,
    render_steps,
    titled_table,
)

# The demo, loaded through the bus ------------------------------------------------------------


def render_demo_load(console: Console, load: DemoLoad, database: str) -> None:
    for scenario in load.scenarios:
        _scenario(console, scenario)
    console.rule("[bold]The books in the database[/bold]")
    _documents(console, load)
    render_exceptions(console, load.exceptions, title="Exception queue (resolved ones included)")
    console.print(audit_line(load.audit))
    books = load.books
    console.print(
        f"Loaded into {database}: {load.commands} commands through the message bus · "
        f"{len(books.invoices)} invoices · {len(books.credit_memos)} credit memo"
        f"{'s' if len(books.credit_memos) != 1 else ''} · {len(books.journal)} journal entries · "
        f"{books.audit_records} audit records · {books.outbox_pending} outbox events pending",
        soft_wrap=True,
    )
    _journal_exports(console)


def _journal_exports(console: Console) -> None:
    """Where a finance team fetches the demo's journal as a file (ADR 0039)."""
    first, last = MONTH_ENDS[0].key, MONTH_ENDS[-1].key
    console.print(
        f"The journal as a Beancount ledger: throughline export beancount --from {first} "
        f"--to {last} (or csv), or GET /journal-entries/export?format=beancount&from={first}"
        f"&to={last}",
        soft_wrap=True,
    )


def _scenario(console: Console, scenario: ScenarioLoad) -> None:
    console.rule(f"[bold]Scenario {scenario.number} · {scenario.title}[/bold]")
    console.print(scenario.summary)
    for engagement_id, customer, path in scenario.engagements:
        console.print(f"Engagement {engagement_id} · {customer}")
        console.print(f"  lifecycle (from the audit trail): {' -> '.join(path)}")
    render_steps(console, scenario.steps)


def _documents(console: Console, load: DemoLoad) -> None:
    table = titled_table(
        "Invoices", "Number", "Customer", "Contract", "Issued", "Gross", "Open", "State"
    )
    for invoice in sorted(load.books.invoices, key=lambda i: i.number or i.invoice_id):
        table.add_row(
            invoice.number or invoice.invoice_id,
            invoice.customer_id,
            invoice.contract_id,
            invoice.issue_date.isoformat() if invoice.issue_date else "",
            _amount(invoice.totals.gross),
            _amount(invoice.outstanding),
            invoice.state.value,
        )
    figures_right(table, 4, 6)
    console.print(table)
    numbers = {i.invoice_id: i.number for i in load.books.invoices}
    for memo in load.books.credit_memos:
        console.print(
            f"Credit memo {memo.number} against invoice {numbers.get(memo.invoice_id)}: gross "
            f"{_amount(memo.totals.gross)}, {memo.state.value}; {memo.reason}"
        )


def _amount(value: Money) -> str:
    return f"{money(value)} {value.currency}"


# Billing runs ----------------------------------------------------------------------------


def render_billing_run(console: Console, result: BillingRunResult, *, dry_run: bool) -> None:
    proposal = result.proposal
    mode = "dry run: nothing is stored" if dry_run else "committed as drafts"
    console.rule(f"[bold]Billing run {proposal.period.key} ({mode})[/bold]")
    if not proposal.invoices and not proposal.adjustments:
        console.print(f"Nothing to bill for {proposal.period.key}.")
    for draft in proposal.invoices:
        billed_to = draft.payer_id or draft.customer_id
        _proposed(console, f"Invoice to {billed_to} · contract {draft.contract_id}", draft)
    for adjustment in proposal.adjustments:
        title = (
            f"{adjustment.kind.value.replace('_', ' ').capitalize()} re-rating "
            f"{adjustment.references} · contract {adjustment.contract_id}"
        )
        _proposed(console, title, adjustment)
    if proposal.exclusions:
        table = titled_table(
            "Exclusions (not billed)", "Obligation", "Source", "Qty", "Value", "Why"
        )
        for x in proposal.exclusions:
            table.add_row(
                x.obligation_id,
                str(x.source),
                quantity(x.quantity),
                _amount(x.value.quantized()),
                f"{x.disposition.value}: {x.reason}",
            )
        console.print(table)
    if proposal.blocked:
        table = titled_table("Blocked contracts", "Contract", "Reason", "What to fix")
        for b in proposal.blocked:
            table.add_row(b.contract_id, b.reason, b.detail)
        console.print(table)
    if result.diff:
        table = titled_table(
            "Against what is already invoiced",
            "Contract",
            "Obligation",
            "Invoiced",
            "Proposed",
            "After",
            "Sources",
        )
        for d in result.diff:
            table.add_row(
                d.contract_id,
                d.obligation_id,
                _amount(d.already_invoiced),
                _amount(d.proposed),
                _amount(d.after),
                str(d.sources),
            )
        figures_right(table, 2)
        console.print(table)
    # A commit reports no fingerprint unless asked to check one; print what it stored anyway.
    console.print(f"Proposal fingerprint: {result.fingerprint or fingerprint(result.proposal)}")
    if result.invoice_ids:
        console.print(
            f"Stored {len(result.invoice_ids)} draft document"
            f"{'s' if len(result.invoice_ids) != 1 else ''}: {', '.join(result.invoice_ids)}; "
            "each awaits approval by someone other than who ran the billing."
        )


def _proposed(console: Console, title: str, document: InvoiceProposal | AdjustmentProposal) -> None:
    table = titled_table(
        f"{title} · {document.currency}",
        "#",
        "Obligation",
        "Description",
        "Qty",
        "Unit price",
        "Amount",
        expand=True,
    )
    _lines(table, document.lines)
    _totals(table, document.totals, document.currency.code)
    console.print(table)


def _lines(table: Table, lines: Sequence[DocumentLine]) -> None:
    for line in lines:
        table.add_row(
            str(line.line_no),
            line.obligation_id,
            line.description,
            quantity(line.quantity),
            money(line.unit_price),
            money(line.amount),
        )


def _totals(table: Table, totals: DocumentTotals, currency: str) -> None:
    table.add_section()
    table.add_row("", "", "Net", "", "", money(totals.net))
    for tax in totals.tax_lines:
        rate = f"{(tax.rate * 100).normalize():f} %"
        table.add_row("", "", f"Tax {tax.tax_code} at {rate}", "", "", money(tax.amount))
    table.add_row("", "", f"Gross ({currency})", "", "", money(totals.gross), style="bold")
    if totals.note:
        table.add_row("", "", Text(totals.note, "italic"), "", "", "")


# Imports from files ----------------------------------------------------------------------

DuplicateRow = TypeVar("DuplicateRow")


@attrs.define
class RowsImported(Generic[DuplicateRow]):
    """What an import did with each row of a file, by line: accepted, a duplicate of what
    was already recorded (nothing changed), or rejected with its reason."""

    rows: int
    accepted: list[int] = attrs.field(factory=list)
    duplicates: list[DuplicateRow] = attrs.field(factory=list)
    rejected: list[RowRejection] = attrs.field(factory=list)

    def summary(self, file: Path, *others: str) -> str:
        """One line of counts; `others` are the fates of a kind of import (`3 corrected`)."""
        rows, duplicates = self.rows, len(self.duplicates)
        return " · ".join(
            (
                f"Imported {file}: {rows} row{'s' if rows != 1 else ''}",
                f"{len(self.accepted)} accepted",
                *others,
                f"{duplicates} duplicate{'s' if duplicates != 1 else ''} (no change)",
                f"{len(self.rejected)} rejected",
            )
        )


def render_rejections(console: Console, rejections: Sequence[RowRejection]) -> None:
    table = titled_table("Rejected rows", "Line", "Entry", "Reason", "Detail")
    for r in sorted(rejections, key=lambda r: r.line):
        table.add_row(str(r.line), r.entry_id or "-", Text(r.reason_code, "bold red"), r.detail)
    console.print(table)


# Exceptions, reconciliation, audit ---------------------------------------------------------


def render_exceptions(
    console: Console, items: Sequence[IntegrationException], *, title: str = "Exception queue"
) -> None:
    if not items:
        console.print(f"{title}: empty.")
        return
    table = titled_table(title, "Id", "Kind", "Workflow", "Subject", "Reason", "State", "Tries")
    for x in items:
        style = "green" if x.state is ExceptionState.RESOLVED else "bold red"
        table.add_row(
            x.exception_id,
            x.kind.value,
            x.workflow,
            x.subject,
            x.reason_code,
            Text(x.state.value, style),
            str(x.attempts),
        )
    print_listing(console, table, (note for x in items for note in _exception_notes(x)))
    console.print()


def _exception_notes(x: IntegrationException) -> Iterator[str]:
    """What the queue's table has no room for: the detail, the last error, who resolved it."""
    yield (
        f"  {x.exception_id}: {x.detail} (raised {x.created_at:%Y-%m-%d %H:%M} UTC, "
        f"correlation id {x.correlation_id})"
    )
    indent = " " * len(x.exception_id)
    if x.last_error and x.last_error != x.detail:
        yield f"  {indent}  last error: {x.last_error}"
    if x.resolved_by:
        yield f"  {indent}  resolved by {x.resolved_by} on {x.resolved_at:%Y-%m-%d %H:%M}"


def render_reconciliation(console: Console, report: ReconciliationReport) -> None:
    totals = report.totals
    console.rule(f"[bold]Reconciliation {report.period.key}[/bold]")
    table = titled_table("Control totals", "Measure", "Value")
    table.add_row("PSA approved hours", quantity(totals.psa_hours))
    table.add_row("Throughline approved hours", quantity(totals.approved_hours))
    table.add_row("Billed hours", quantity(totals.billed_hours))
    table.add_row("Issued invoices (gross)", _amounts(totals.issued_gross))
    table.add_row("ERP receivables (gross)", _amounts(totals.erp_gross))
    table.columns[1].justify = "right"
    console.print(table)
    if report.clean:
        console.print("No exceptions: everything reconciles.")
        return
    table = titled_table(
        f"Exceptions ({len(report.exceptions)})", "Area", "Kind", "Subject", "Expected", "Actual"
    )
    for x in report.exceptions:
        table.add_row(x.area, Text(x.kind, "bold red"), x.subject, x.expected, x.actual)
    console.print(table)


def _amounts(values: Sequence[Money]) -> str:
    return ", ".join(_amount(v) for v in values) or "none"


def audit_line(report: ChainReport) -> str:
    if report.intact:
        return f"Audit trail intact: {report.records} records, every hash chained to the last."
    return (
        f"Audit trail BROKEN at record {report.first_broken} of {report.records}: {report.problem}"
    )
