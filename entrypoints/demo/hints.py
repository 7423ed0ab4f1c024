"""What `serve --demo-keys` prints after the keys: where to fetch an issued invoice's e-invoice
and PDF, a credit note, and the journal as a Beancount file, with ids read from the database
(none printed when it holds no issued document)."""

from __future__ import annotations

from application.records import PostedEntry
from application.unit_of_work import UnitOfWork
from domain.credit_memo import CreditMemo
from domain.invoice import Invoice


def _issued_pair(uow: UnitOfWork) -> tuple[Invoice, CreditMemo | None] | None:
    """An issued invoice, preferring one a credit note was issued against (both are shown)."""
    issued = {i.invoice_id: i for i in uow.invoices.all() if i.number is not None}
    memos = sorted(
        (m for m in uow.credit_memos.all() if m.number is not None and m.invoice_id in issued),
        key=lambda m: m.number or "",
    )
    if memos:
        return issued[memos[0].invoice_id], memos[0]
    if issued:
        return min(issued.values(), key=lambda i: i.number or ""), None
    return None


def _months(postings: list[PostedEntry]) -> tuple[str, str] | None:
    if not postings:
        return None
    days = sorted(p.posted_on for p in postings)
    return days[0].strftime("%Y-%m"), days[-1].strftime("%Y-%m")


def document_hints(uow: UnitOfWork, base: str, key: str) -> list[str]:
    """curl lines for the documents of the database, with the finance key given."""
    lines: list[str] = []
    found = _issued_pair(uow)
    if found is not None:
        invoice, memo = found
        get = f'curl -s -H "X-API-Key: {key}"'
        url = f"{base}/invoices/{invoice.invoice_id}"
        lines += [
            f"e-invoice (UBL 2.1) of {invoice.number}:",
            f'  {get} -H "Accept: application/xml" {url} -o {invoice.number}.xml',
            f"printable invoice (PDF) of {invoice.number}:",
            f'  {get} -H "Accept: application/pdf" {url} -o {invoice.number}.pdf',
        ]
        if memo is not None:
            memo_url = f"{base}/credit-memos/{memo.credit_memo_id}"
            lines += [
                f"credit note {memo.number} (UBL 2.1 or PDF):",
                f'  {get} -H "Accept: application/pdf" {memo_url} -o {memo.number}.pdf',
            ]
    months = _months(uow.journal.postings())
    if months is not None:
        first, last = months
        export = f"{base}/journal-entries/export?format=beancount&from={first}&to={last}"
        lines += [
            "the journal as a Beancount ledger (format=csv for the ERP import):",
            f'  curl -s -H "X-API-Key: {key}" "{export}" -o journal.beancount',
        ]
    return lines
