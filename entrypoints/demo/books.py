"""The report of one scenario, read back from the database it ran on.

Nothing here computes a figure the application has not: documents are the issued invoices and
credit memos as stored, positions are the application's engagement balances (from the posted
journal), the journal and its trial balances are the posted entries, and the retainer ledger is
the domain's drawdown of the recorded time. The database holds this one scenario's books only
(`entrypoints.demo.runner` gives each scenario its own).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import attrs

from application.balances import engagement_balances
from application.unit_of_work import UnitOfWork
from domain.credit_memo import CreditMemo
from domain.invoice import Invoice
from domain.ledger import JournalEntry, trial_balance
from domain.money import Money, dsum
from domain.retainer import RetainerTerms, retainer_ledger
from entrypoints.demo.result import (
    DocumentType,
    DocumentView,
    EngagementView,
    ExceptionView,
    LineView,
    PositionView,
    RetainerMonthView,
    ScenarioResult,
    TaxView,
    TrialBalanceRow,
    TrialBalanceView,
)
from entrypoints.demo.run import ScenarioRun
from entrypoints.demo.scenarios import Scenario


def scenario_result(uow: UnitOfWork, scenario: Scenario, run: ScenarioRun) -> ScenarioResult:
    """The scenario as its books stand at the end of its last month."""
    load = run.result()
    as_of = scenario.as_of
    invoices = sorted((i for i in uow.invoices.all() if i.number), key=_issued)
    memos = sorted((m for m in uow.credit_memos.all() if m.number), key=_issued)
    journal = sorted(uow.journal.all(), key=lambda e: (e.posted_on, e.entry_id))
    posted_as = {e.source_document: e.entry_id for e in journal}
    by_id = {i.invoice_id: i for i in invoices}
    documents = [_invoice_view(i, run, posted_as) for i in invoices]
    documents += [_credit_view(m, by_id[m.invoice_id], run, posted_as) for m in memos]
    documents.sort(key=lambda d: (d.issued_on, d.type is DocumentType.CREDIT_MEMO, d.number))
    contracts: dict[str, str] = {e.engagement_id: e.contract_id for e in uow.engagements.all()}
    return ScenarioResult(
        number=scenario.number,
        title=scenario.title,
        summary=scenario.summary,
        as_of=as_of,
        steps=load.steps,
        engagements=tuple(
            EngagementView(eid, contracts[eid], customer, path)
            for eid, customer, path in load.engagements
        ),
        documents=tuple(documents),
        exclusions=tuple(run.exclusions),
        blocked=tuple(run.blocked),
        positions=_positions(uow, sorted(contracts, key=contracts.__getitem__), as_of),
        journal=tuple(journal),
        trial_balances=_trial_balances(journal),
        retainer_months=_retainer_months(uow, as_of),
        exceptions=_exceptions(uow),
    )


def _exceptions(uow: UnitOfWork) -> tuple[ExceptionView, ...]:
    """The finance exception queue, oldest first, resolved items included."""
    items = sorted(uow.exceptions.all(), key=lambda x: (x.created_at, x.exception_id))
    return tuple(
        ExceptionView(
            x.exception_id,
            x.created_at.date(),
            x.subject,
            x.kind.value,
            x.reason_code,
            x.detail,
            x.state.value,
            x.resolved_by,
            None if x.resolved_at is None else x.resolved_at.date(),
        )
        for x in items
    )


def _issued(document: Invoice | CreditMemo) -> tuple[date, str]:
    return (_issue_date(document), document.number or "")


def _issue_date(document: Invoice | CreditMemo) -> date:
    if document.issue_date is None:
        raise RuntimeError(f"{document!r} has not been issued")
    return document.issue_date


def _invoice_view(invoice: Invoice, run: ScenarioRun, posted_as: dict[str, str]) -> DocumentView:
    return _document_view(
        DocumentType.INVOICE,
        invoice.invoice_id,
        invoice,
        invoice,
        run,
        posted_as,
        paid=invoice.amount_paid,
        credited=invoice.amount_credited,
        outstanding=invoice.outstanding,
    )


def _credit_view(
    memo: CreditMemo, invoice: Invoice, run: ScenarioRun, posted_as: dict[str, str]
) -> DocumentView:
    zero = Money.zero(memo.totals.net.currency)
    return _document_view(
        DocumentType.CREDIT_MEMO,
        memo.credit_memo_id,
        memo,
        invoice,
        run,
        posted_as,
        paid=zero,
        credited=zero,
        outstanding=zero,
        references=invoice.number,
        reason=memo.reason,
        write_off=memo.write_off,
    )


def _document_view(
    kind: DocumentType,
    document_id: str,
    document: Invoice | CreditMemo,
    invoice: Invoice,
    run: ScenarioRun,
    posted_as: dict[str, str],
    **amounts_and_references: Any,
) -> DocumentView:
    """What an issued document prints; `invoice` is the document itself or the one credited."""
    number = document.number or ""
    return DocumentView(
        type=kind,
        number=number,
        document_id=document_id,
        issued_on=_issue_date(document),
        customer=run.loader.customer(invoice.customer_id),
        contract_id=invoice.contract_id,
        currency=invoice.currency.code,
        lines=tuple(_line_view(line) for line in document.lines),
        net=document.totals.net,
        taxes=_tax_views(document.totals.tax_lines),
        tax=document.totals.tax,
        gross=document.totals.gross,
        drafted_by=document.created_by,
        approved_by=document.approved_by or "",
        state=document.state.value,
        journal_entry=posted_as.get(number, ""),
        **amounts_and_references,
    )


def _line_view(line: Any) -> LineView:
    return LineView(
        line.line_no,
        line.obligation_id,
        line.kind.value,
        line.description,
        line.quantity,
        line.unit_price,
        line.amount,
        tuple(str(a.source) for a in line.allocations),
        line.credits_line,
    )


def _tax_views(lines: Iterable[Any]) -> tuple[TaxView, ...]:
    return tuple(TaxView(t.tax_code, t.base, t.rate, t.amount, t.note) for t in lines)


def _positions(
    uow: UnitOfWork, engagements: Sequence[str], as_of: date
) -> tuple[PositionView, ...]:
    """Each obligation's position, as the application's engagement balances give it."""
    out = []
    for engagement_id in engagements:
        balances = engagement_balances(uow, engagement_id, as_of)
        for row in balances.obligations:
            fields = attrs.asdict(row, recurse=False)
            out.append(PositionView(**fields, contract_id=balances.contract_id))
    return tuple(out)


def _trial_balances(journal: Sequence[JournalEntry]) -> tuple[TrialBalanceView, ...]:
    by_currency: dict[str, list[JournalEntry]] = {}
    for entry in journal:
        by_currency.setdefault(entry.currency.code, []).append(entry)
    views = []
    for code, entries in sorted(by_currency.items()):
        rows = []
        for account, balance in trial_balance(entries).items():
            zero = Money.zero(balance.currency)
            debit = balance if balance.is_positive() else zero
            credit = -balance if balance.is_negative() else zero
            rows.append(TrialBalanceRow(account.value, debit, credit))
        views.append(TrialBalanceView(code, tuple(rows)))
    return tuple(views)


def _retainer_months(uow: UnitOfWork, as_of: date) -> tuple[RetainerMonthView, ...]:
    """The drawdown of every retainer in the books, month by month, from its recorded time."""
    months = []
    for contract in sorted(uow.contracts.all(), key=lambda c: c.contract_id):
        for oid in contract.obligation_ids():
            terms = contract.obligation_history(oid).latest_by(as_of).terms
            if not isinstance(terms, RetainerTerms):
                continue
            entries = uow.delivery.time_entries_for([oid])
            for b in retainer_ledger(terms, entries, as_of):
                expired = dsum(c.hours for c in b.broken if c.origin != b.period)
                months.append(
                    RetainerMonthView(
                        b.period.key,
                        b.closed,
                        b.purchased,
                        b.carried_in_hours,
                        b.used_from_carry_hours,
                        b.used_from_current,
                        b.overage_hours,
                        b.carried_out_hours,
                        b.broken_hours - expired,
                        expired,
                    )
                )
    return tuple(months)
