"""The posting path to the ERP's general ledger (ADR 0034).

A handler that posts a journal entry calls `post_entry` inside its own unit of work: the entry
goes into our journal and, mapped to the legal entity's accounts with its dimensions, into the
outbox as a `journal_entry.posted` event whose id is derived from the entry id. Both are written
in the transaction of the change, or neither is. The relay later hands the event to the ERP's
`LedgerPosting` port (idempotent by the entry id) and records the document number the ERP
answers with: `ErpPostingPublisher` does that between the relay and the other subscribers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from application.context import RequestContext
from application.messagebus import UnitOfWorkFactory
from application.ports import Clock, EventPublisher, LedgerPosting
from application.records import OutboxEvent, PostedEntry
from application.unit_of_work import UnitOfWork
from domain.chart_of_accounts import (
    ChartOfAccounts,
    ChartsOfAccounts,
    GlEntry,
    PostingScope,
    UnmappedLegalEntityError,
    map_entry,
)
from domain.contract import Contract
from domain.document import DocumentTotals
from domain.invoice import Invoice
from domain.ledger import JournalEntry
from domain.money import Money, dsum, money_sum
from domain.obligation import billing_model_for
from domain.period import Period

#: How the outbox names the event (CloudEvents type com.throughline.journal_entry.posted).
AGGREGATE_TYPE = "JournalEntry"
EVENT_TYPE = "JournalEntryPosted"


@attrs.frozen
class SetChartOfAccounts:
    """Finance sets or replaces one legal entity's chart of accounts (audited)."""

    chart: ChartOfAccounts


def charts_in_force(uow: UnitOfWork, charts: ChartsOfAccounts | None) -> list[ChartOfAccounts]:
    """Per legal entity, the chart finance set over the API, else the one read at start-up."""
    chosen = {chart.legal_entity_id: chart for chart in (charts.charts if charts else ())}
    chosen.update({chart.legal_entity_id: chart for chart in uow.journal.charts()})
    return [chosen[key] for key in sorted(chosen)]


def posting_event_id(entry_id: str) -> str:
    """One event per journal entry: its id is the entry's, so a replay cannot add a second."""
    return f"EVT-{entry_id}-posted"


@attrs.frozen
class ErpAcknowledgement:
    """The ERP's answer to a posting: its own document number, and when we recorded it."""

    entry_id: str
    erp_document: str
    acknowledged_at: datetime


def gl_entry_payload(entry: GlEntry) -> dict[str, Any]:
    """The posting as the ERP receives it: amounts as strings with the currency's minor
    digits, every line with its account, role and dimensions."""

    def amount(value: Money) -> str:
        return f"{value.quantized().amount:.{entry.currency.minor_units}f}"

    total = Money.from_minor(sum(line.debit.minor for line in entry.lines), entry.currency)
    return {
        "entry_id": entry.entry_id,
        "legal_entity_id": entry.legal_entity_id,
        "posted_on": entry.posted_on.isoformat(),
        "description": entry.description,
        "source_document": entry.source_document,
        "currency": entry.currency.code,
        "total": amount(total),
        "lines": [
            {
                "line_no": line.line_no,
                "gl_account": line.gl_account,
                "posting_role": line.role.value,
                "debit": amount(line.debit),
                "credit": amount(line.credit),
                "memo": line.memo,
                "tax_code": line.tax_code,
                "dimensions": dict(line.dimensions),
            }
            for line in entry.lines
        ],
    }


def scope_for_contract(uow: UnitOfWork, contract: Contract) -> PostingScope:
    """The dimensions of an entry about one contract: its legal entity and customer, the
    engagement that runs it and the PSA's code of its project, and the billing model of each
    of its obligations."""
    engagement = uow.engagements.find_by_contract(contract.contract_id)
    types: dict[str, str] = {}
    for version in contract.versions:
        for terms in version.obligations:
            types.setdefault(terms.obligation_id, billing_model_for(terms).name)
    return PostingScope(
        contract.legal_entity_id,
        customer_id=contract.customer_id,
        contract_id=contract.contract_id,
        engagement_id=None if engagement is None else engagement.engagement_id,
        project_code=None if engagement is None else engagement.project_code,
        obligation_types=tuple(sorted(types.items())),
    )


def scope_for_invoice(uow: UnitOfWork, invoice: Invoice) -> PostingScope:
    """The dimensions of an entry about one issued invoice (a payment, a credit memo, a
    write-off): its contract's, billed to its payer by its legal entity."""
    contract_scope = scope_for_contract(uow, uow.contracts.get(invoice.contract_id))
    return attrs.evolve(
        contract_scope, legal_entity_id=invoice.legal_entity_id, customer_id=invoice.payer
    )


def document_tax_by_code(totals: DocumentTotals, sign: int = 1) -> dict[str, Money]:
    """A document's tax per tax code (times `sign`: −1 turns a credit adjustment's negative
    tax into the amounts its credit posting takes); each code books its own tax payable line
    (ADR 0040)."""
    by_code: dict[str, list[Money]] = {}
    for line in totals.tax_lines:
        by_code.setdefault(line.tax_code, []).append(line.amount.times(sign))
    return {
        code: money_sum(amounts, totals.tax.currency) for code, amounts in sorted(by_code.items())
    }


def posting_chart(
    uow: UnitOfWork, charts: ChartsOfAccounts | None, legal_entity_id: str
) -> ChartOfAccounts | None:
    """The chart a legal entity's entries are booked on: the one finance set over the API, else
    the one read at start-up; None where the deployment books on no charts at all. A legal
    entity the charts leave out is refused (`UnmappedLegalEntityError`), before anything is
    added, so a caller may leave that entity out and go on."""
    chart = uow.journal.chart(legal_entity_id)
    if chart is None and charts is not None:
        return charts.for_entity(legal_entity_id)
    return chart


def legal_entity_gap(
    uow: UnitOfWork, charts: ChartsOfAccounts | None, legal_entity_id: str
) -> str | None:
    """What keeps a legal entity from billing, said for the finance queue, or None: once the
    deployment keeps a register of legal entities (one was put), an entity must be in it, for
    it names the seller on every invoice; once it books on charts of accounts, the entity must
    have one, or none of its entries could be posted."""
    master = uow.master_data
    if master.legal_entity(legal_entity_id) is None and master.legal_entities():
        return (
            f"legal entity {legal_entity_id} is not in the register of legal entities: its "
            "record (name, address, tax ids) names the seller on every invoice it issues"
        )
    try:
        posting_chart(uow, charts, legal_entity_id)
    except UnmappedLegalEntityError as gap:
        return str(gap)
    return None


def post_entry(
    uow: UnitOfWork,
    ctx: RequestContext,
    now: datetime,
    charts: ChartsOfAccounts | None,
    entry: JournalEntry,
    scope: PostingScope,
) -> bool:
    """Add the entry to the journal and, where the deployment books on charts of accounts, its
    posting to the outbox, both in this unit of work; an entry already posted is not posted
    again. The chart finance set over the API wins over the one read at start-up. True when
    it was posted now."""
    if uow.journal.find(entry.entry_id) is not None:
        return False
    chart = posting_chart(uow, charts, scope.legal_entity_id)
    uow.journal.add(entry)
    if chart is None:
        return True
    mapped = map_entry(entry, chart, scope)
    payload = gl_entry_payload(mapped)
    uow.journal.add_posting(
        PostedEntry(
            entry.entry_id, mapped.legal_entity_id, entry.posted_on, entry.source_document, payload
        )
    )
    uow.outbox.add(
        [
            OutboxEvent(
                posting_event_id(entry.entry_id),
                EVENT_TYPE,
                AGGREGATE_TYPE,
                entry.entry_id,
                payload,
                ctx.correlation_id,
                now,
                traceparent=ctx.traceparent,
                tracestate=ctx.tracestate,
            )
        ]
    )
    return True


class ErpPostingPublisher:
    """Hands `journal_entry.posted` events to the ERP general ledger, records its document
    number through `acknowledge`, then tells the other subscribers like any event.

    The ERP call is keyed by the entry id, so an event delivered again after a crash posts
    nothing twice; a failure of the ERP raises, and the relay retries the event."""

    def __init__(
        self,
        inner: EventPublisher,
        general_ledger: LedgerPosting,
        acknowledge: Callable[[str, str], None],
    ) -> None:
        self._inner = inner
        self._general_ledger = general_ledger
        self._acknowledge = acknowledge

    def publish(self, event: OutboxEvent) -> None:
        if event.event_type == EVENT_TYPE and event.aggregate_type == AGGREGATE_TYPE:
            entry_id = event.aggregate_id
            document = self._general_ledger.post(entry_id, dict(event.payload))
            self._acknowledge(entry_id, document)
        self._inner.publish(event)


def acknowledger(
    uow: UnitOfWorkFactory, clock: Clock, ctx: RequestContext
) -> Callable[[str, str], None]:
    """Records each ERP answer in its own short unit of work (the relay holds none while it
    publishes); an entry keeps the first document number the ERP gave it."""

    def acknowledge(entry_id: str, erp_document: str) -> None:
        with uow(ctx) as recording:
            recording.journal.acknowledge(entry_id, erp_document, clock.now())
            recording.commit()

    return acknowledge


# Reading the posted journal ------------------------------------------------------------------


@attrs.frozen
class JournalFilter:
    """Which posted entries to show: any of a period, a legal entity, an ERP account (an entry
    with at least one line on it) and a source document."""

    period: Period | None = None
    legal_entity_id: str | None = None
    account: str | None = None
    source_document: str | None = None

    def admits(self, posting: PostedEntry) -> bool:
        """Whether the entry passes every filter that is set."""
        if self.period is not None and not self.period.contains(posting.posted_on):
            return False
        if self.legal_entity_id is not None and posting.legal_entity_id != self.legal_entity_id:
            return False
        if self.source_document is not None and posting.source_document != self.source_document:
            return False
        if self.account is not None:
            return any(line["gl_account"] == self.account for line in posting.payload["lines"])
        return True


def posted_entries(uow: UnitOfWork, wanted: JournalFilter) -> list[PostedEntry]:
    """The posted entries the filter admits, by date, then in posting order."""
    chosen = [p for p in uow.journal.postings() if wanted.admits(p)]
    return sorted(chosen, key=lambda p: p.posted_on)


@attrs.frozen
class TrialBalanceRow:
    """One ERP account in one currency over a period: its debits, credits and balance
    (debit-positive), each exact in the currency's minor units."""

    gl_account: str
    currency: str
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        return self.debit - self.credit


def trial_balance(uow: UnitOfWork, period: Period, legal_entity_id: str) -> list[TrialBalanceRow]:
    """Per ERP account and currency, what a legal entity's entries of the period moved; the
    balances of each currency sum to zero, since every entry balances."""
    debits: dict[tuple[str, str], list[Decimal]] = {}
    credits: dict[tuple[str, str], list[Decimal]] = {}
    for posting in posted_entries(uow, JournalFilter(period, legal_entity_id)):
        currency = posting.payload["currency"]
        for line in posting.payload["lines"]:
            key = (line["gl_account"], currency)
            debits.setdefault(key, []).append(Decimal(line["debit"]))
            credits.setdefault(key, []).append(Decimal(line["credit"]))
    return [
        TrialBalanceRow(account, currency, dsum(debits[key]), dsum(credits[key]))
        for key in sorted(debits)
        for account, currency in [key]
    ]
