"""Issued invoices and credit memos made directly from the domain into an in-memory store, with
a seller and a buyer on record, so a test can ask for their document view and UBL without a
billing run: any currency, any tax codes (rates, exemption reasons, reverse charge), any lines,
a split payer, a partial credit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

import attrs

from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from application.context import RequestContext
from application.customer_master import PostalAddress
from application.document_view import DocumentView
from application.documents import document_for_credit_memo, document_for_invoice
from application.legal_entities import LegalEntityRecord, PaymentAccount
from application.ports import CustomerRecord
from domain.accounting_period import PeriodLock
from domain.billing import Allocation, LineKind, SourceKind, SourceRef
from domain.credit_memo import CreditMemo, CreditRequest
from domain.document import DocumentLine, DocumentTotals
from domain.ids import CreditMemoId, CustomerId, LegalEntityId, ObligationId
from domain.invoice import DocumentKind
from domain.money import Currency, Money
from domain.period import Period
from tests.support.invoices import Parties, drafted_invoice

AT = datetime(2026, 4, 1, 12, 0, tzinfo=UTC)
ISSUED_ON = date(2026, 4, 1)
APRIL = Period.month(2026, 4)

SELLER = LegalEntityRecord(
    "tl-fr",
    "Throughline Conseil SAS",
    PostalAddress(("10 rue de la Paix",), "Paris", "75002", "FR"),
    vat_id="FR40303265045",
    registration_id="303265045",
    electronic_address="billing@throughline.example",
    payment_account=PaymentAccount(iban="FR7630006000011234567890189", bic="AGRIFRPP"),
)
#: A seller registered for no VAT (a US company): zero-rated lines are "not subject" (O).
US_SELLER = LegalEntityRecord(
    "tl-us",
    "Throughline Consulting Inc.",
    PostalAddress(("1 Main Street",), "Boston", "02110", "US"),
    registration_id="12-3456789",
    payment_account=PaymentAccount(account_number="000123456789", bic="CHASUS33"),
)


@attrs.frozen
class TaxCode:
    """A tax code on a document: its rate and note, and whether it is a reverse charge."""

    code: str
    rate: Decimal
    note: str = ""
    reverse_charge: bool = False


STANDARD = TaxCode("VAT20", Decimal("0.20"))
REDUCED = TaxCode("VAT5.5", Decimal("0.055"))
EXEMPT = TaxCode("EXEMPT-TRAINING", Decimal(0), "Exempt: vocational training (art. 261-4-4)")
REVERSE = TaxCode(
    "EU-RC", Decimal(0), "Reverse charge: the recipient accounts for the tax.", reverse_charge=True
)
ZERO = TaxCode("ZERO", Decimal(0))


@attrs.frozen
class LineSpec:
    """One line: quantity at unit price, its kind, its tax code."""

    quantity: Decimal
    unit_price: Decimal
    tax: TaxCode = STANDARD
    kind: LineKind = LineKind.TIME


def buyer(
    customer_id: str, entity: str, country: str = "DE", vat_id: str | None = None
) -> CustomerRecord:
    return CustomerRecord(
        CustomerId(customer_id),
        LegalEntityId(entity),
        f"{customer_id.title()} GmbH",
        "EUR",
        "VAT20",
        billing_address="Hauptstrasse 1, 10115 Berlin",
        address=PostalAddress(("Hauptstrasse 1",), "Berlin", "10115", country),
        vat_id=vat_id,
        payment_terms_days=45,
        version=1,
    )


def document_lines(
    specs: Sequence[LineSpec], currency: Currency
) -> tuple[tuple[DocumentLine, ...], DocumentTotals]:
    """Numbered lines (amount = quantity x price, rounded half-up) and their totals."""
    lines = []
    for n, spec in enumerate(specs, 1):
        price = Money(spec.unit_price, currency)
        exact = price.times(spec.quantity)
        source = SourceRef(SourceKind.MILESTONE, f"S{n}")
        lines.append(
            DocumentLine(
                n,
                ObligationId(f"OB{n}"),
                spec.kind,
                f"Line {n}",
                spec.quantity,
                price,
                exact.quantized(),
                spec.tax.code,
                (Allocation(source, spec.quantity, exact),),
                APRIL,
            )
        )
    codes = {s.tax.code: s.tax for s in specs}
    notes = " ".join(dict.fromkeys(t.note for t in codes.values() if t.reverse_charge))
    totals = DocumentTotals.of(
        lines,
        currency,
        {code: t.rate for code, t in codes.items()},
        {code: t.note for code, t in codes.items()},
        notes,
    )
    return tuple(lines), totals


@attrs.define
class Books:
    """An in-memory store holding sellers, buyers and the documents issued into it."""

    store: InMemoryStore = attrs.field(factory=InMemoryStore)
    numbers: int = 0

    def uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.store, RequestContext("test", "test"), lambda: AT)

    def keep(self, *records: LegalEntityRecord | CustomerRecord) -> None:
        with self.uow() as uow:
            for record in records:
                if isinstance(record, LegalEntityRecord):
                    uow.master_data.add_legal_entity(attrs.evolve(record, version=1))
                else:
                    uow.master_data.add_customer_record(attrs.evolve(record, version=1))
            uow.commit()

    def issue(
        self,
        specs: Sequence[LineSpec],
        currency: str = "EUR",
        seller: LegalEntityRecord = SELLER,
        customer: str = "acme",
        payer: str | None = None,
        terms: int = 45,
        kind: DocumentKind = DocumentKind.INVOICE,
        references: str | None = None,
    ) -> str:
        """An issued invoice of these lines; returns its id."""
        self.numbers += 1
        lines, totals = document_lines(specs, Currency.of(currency))
        invoice = drafted_invoice(
            f"INV-{self.numbers}",
            lines,
            totals,
            "maker",
            AT,
            parties=Parties(customer, "C-1", seller.legal_entity_id),
            period=APRIL,
            kind=kind,
            references=references,
            payer=payer,
        )
        invoice.approve("checker", AT)
        invoice.issue(f"INV-2026-{self.numbers:04d}", ISSUED_ON, AT, PeriodLock(), terms)
        with self.uow() as uow:
            uow.invoices.add(invoice)
            uow.commit()
        return str(invoice.invoice_id)

    def credit(self, invoice_id: str, requests: Sequence[CreditRequest], reason: str) -> str:
        """An issued credit memo taking back `requests` of the invoice; returns its id."""
        self.numbers += 1
        memo_id = CreditMemoId(f"CM-{self.numbers}")
        with self.uow() as uow:
            invoice = uow.invoices.get(invoice_id)
            memo = CreditMemo.against(memo_id, invoice, requests, reason, "maker")
            memo.approve("checker", AT)
            memo.issue(invoice, f"CN-2026-{self.numbers:04d}", date(2026, 4, 20), AT, PeriodLock())
            uow.credit_memos.add(memo)
            uow.invoices.save(invoice)
            uow.commit()
        return str(memo_id)

    def invoice_view(self, invoice_id: str) -> DocumentView:
        with self.uow() as uow:
            return document_for_invoice(uow, invoice_id)

    def credit_view(self, credit_memo_id: str) -> DocumentView:
        with self.uow() as uow:
            return document_for_credit_memo(uow, credit_memo_id)
