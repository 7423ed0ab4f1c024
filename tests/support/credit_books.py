"""A tiny set of books for credit tests: bill a run, issue its drafts, credit them, and keep
the billed ledger as the application would (only assembles domain objects)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import attrs

from domain.billing import BilledLedger
from domain.billing_run import BillingProposal
from domain.contract import Contract
from domain.credit_memo import CreditMemo, CreditRequest
from domain.ids import CreditMemoId
from domain.invoice import Invoice
from domain.milestone import Milestone
from domain.period import Period
from domain.ratecard import RateCard
from domain.time_entry import TimeEntry
from tests.support.builders import AT, OPEN, issued_invoice, run


@attrs.define
class Books:
    """Every document issued so far and the ledger they make."""

    ledger: BilledLedger = attrs.field(factory=BilledLedger)
    invoices: list[Invoice] = attrs.field(factory=list)
    memos: list[CreditMemo] = attrs.field(factory=list)

    def preview(
        self,
        period: Period,
        contracts: Sequence[Contract],
        milestones: Iterable[Milestone] = (),
        cards: Iterable[RateCard] = (),
        entries: Iterable[TimeEntry] = (),
    ) -> BillingProposal:
        return run(period, contracts, cards, entries, milestones=milestones, ledger=self.ledger)

    def bill(
        self,
        period: Period,
        contracts: Sequence[Contract],
        milestones: Iterable[Milestone] = (),
        cards: Iterable[RateCard] = (),
        entries: Iterable[TimeEntry] = (),
    ) -> list[Invoice]:
        """Run billing and issue every draft it proposes."""
        proposal = self.preview(period, contracts, milestones, cards, entries)
        assert not proposal.blocked, proposal.blocked
        issued = []
        for draft in proposal.invoices:
            n = len(self.invoices) + 1
            invoice = issued_invoice(draft, f"INV-{n}", f"2026-{n:04d}", period.end)
            self.invoices.append(invoice)
            self.ledger = self.ledger.plus(invoice.ledger_entries())
            issued.append(invoice)
        return issued

    def credit(
        self,
        invoice: Invoice,
        requests: Sequence[CreditRequest],
        write_off: bool = False,
        on: date = date(2026, 12, 31),
    ) -> CreditMemo:
        """Draft, approve and issue a credit memo; its entries join the ledger."""
        n = len(self.memos) + 1
        memo = CreditMemo.against(
            CreditMemoId(f"CM-{n}"), invoice, requests, "correction", "ar-clerk", write_off
        )
        memo.approve("finance-lead", AT)
        memo.issue(invoice, f"CN-{n:04d}", on, AT, OPEN)
        self.memos.append(memo)
        self.ledger = self.ledger.plus(memo.ledger_entries())
        return memo
