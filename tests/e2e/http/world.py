"""Two customers with a little of everything, seeded through the application's commands: the
world the cross-cutting HTTP suites (authorization, scoping, schemathesis) read from.

acme and globex each get a contract with a time-and-materials and a milestone obligation, an
active engagement, two time entries with a cost rate and an expense, an issued invoice with a
payment, an issued credit memo on it (a client viewer sees issued documents only), and a second
invoice still in draft. No id is shared between the two, so a response can be searched for the
other customer's ids.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import attrs

from application import commands as c
from application.customer_master import PostalAddress
from application.legal_entities import LegalEntityRecord, PaymentAccount
from application.ports import CustomerRecord
from domain import ids
from domain.billing import SourceKind, SourceRef
from domain.milestone_billing import MilestoneSpec, MilestoneTerms
from domain.money import Money
from domain.period import Period
from domain.ratecard import RateCardVersion
from domain.tax import TaxRate, TaxRateTable
from domain.time_and_materials import TimeAndMaterialsTerms
from tests.support.metered import UNITS
from tests.unit.application.conftest import ENTITY, EUR, App, time_entry

MARCH = Period.month(2026, 3)
RATE_CARD = "RC-UK"
COST_RATE = Decimal("60")


@attrs.frozen
class Tenant:
    """One customer's seeded objects, by the path parameter name that addresses each kind."""

    customer_id: str
    contract_id: str
    engagement_id: str
    tm_obligation: str
    milestone_obligation: str
    milestone_id: str
    entries: tuple[str, str, str]
    expense_id: str
    issued_invoice: str
    invoice_number: str
    draft_invoice: str
    payment_id: str
    credit_memo_id: str

    def by_param(self) -> dict[str, str]:
        """A value for each path parameter naming one of this customer's objects."""
        return {
            "customer_id": self.customer_id,
            "contract_id": self.contract_id,
            "engagement_id": self.engagement_id,
            "obligation_id": self.tm_obligation,
            "milestone_id": self.milestone_id,
            "entry_id": self.entries[0],
            "time_entry_id": self.entries[0],
            "item_id": self.entries[0],
            "expense_id": self.expense_id,
            "invoice_id": self.issued_invoice,
            "payment_id": self.payment_id,
            "credit_memo_id": self.credit_memo_id,
            "memo_id": self.credit_memo_id,
        }

    @property
    def ids(self) -> frozenset[str]:
        """Every identifier of this customer's objects (none of them is another's)."""
        return frozenset(
            {
                self.customer_id,
                self.contract_id,
                self.engagement_id,
                self.tm_obligation,
                self.milestone_obligation,
                self.milestone_id,
                *self.entries,
                self.expense_id,
                self.issued_invoice,
                self.invoice_number,
                self.draft_invoice,
                self.payment_id,
                self.credit_memo_id,
            }
        )


#: Path and query parameters that name nothing of a customer's (see `World.unscoped`).
UNSCOPED_PARAMS = frozenset(
    {
        "rate_card_id",
        "version",
        "month",
        "period",
        "line_no",
        "exception_id",
        "event_id",
        "legal_entity_id",
        "kind",  # a declared delivery kind (ADR 0050): the test-only one
    }
)


@attrs.frozen
class World:
    acme: Tenant
    globex: Tenant
    exception_id: str
    event_id: str

    def unscoped(self) -> dict[str, str]:
        """A value that exists for each of `UNSCOPED_PARAMS`."""
        return {
            "rate_card_id": RATE_CARD,
            "version": "1",
            "month": "2026-03",
            "period": "2026-03",
            "line_no": "1",
            "exception_id": self.exception_id,
            "event_id": self.event_id,
            "legal_entity_id": ENTITY,
            "kind": UNITS.name,
        }

    def values(self, customer_id: str) -> dict[str, str]:
        """Values for every known parameter, naming `customer_id`'s objects."""
        return {**self.unscoped(), **self.of(customer_id).by_param()}

    def of(self, customer_id: str) -> Tenant:
        return self.acme if customer_id == self.acme.customer_id else self.globex

    def other(self, customer_id: str) -> Tenant:
        return self.globex if customer_id == self.acme.customer_id else self.acme


def _record(customer: str, name: str) -> CustomerRecord:
    return CustomerRecord(
        ids.CustomerId(customer), ENTITY, name, "EUR", "VAT20", False, f"1 {name} Street"
    )


#: The legal entity that bills both customers, as its documents present it.
SELLER = LegalEntityRecord(
    ENTITY,
    "Throughline Consulting UK Ltd",
    PostalAddress(("1 Finsbury Avenue",), "London", "EC2M 2PF", "GB"),
    vat_id="GB123456782",
    registration_id="09876543",
    electronic_address="billing@throughline.example",
    payment_account=PaymentAccount(iban="GB33BUKB20201555555555", bic="BUKBGB22"),
)


def seed(app: App) -> World:
    """Both customers, acme first (so acme's first invoice is `INV-000001`, the id the OpenAPI
    examples use)."""
    app.master.records[(ids.CustomerId("acme"), ENTITY)] = _record("acme", "Acme Ltd")
    app.master.records[(ids.CustomerId("globex"), ENTITY)] = _record("globex", "Globex plc")
    app.do(c.SetTaxRates(TaxRateTable((TaxRate("VAT20", date(2020, 1, 1), Decimal("0.20")),))))
    app.do(c.PutLegalEntity(SELLER))
    app.do(c.CreateRateCard(ids.RateCardId(RATE_CARD), "UK rates", "EUR"))
    app.do(
        c.PublishRateCardVersion(
            ids.RateCardId(RATE_CARD),
            RateCardVersion(1, date(2026, 1, 1), EUR, {ids.Role("consultant"): Decimal("100")}),
        )
    )
    acme = _billed(app, _contract(app, NAMES["acme"]))
    app.handover.available = False  # globex's hand-over to the ERP fails: an exception to read
    globex = _billed(app, _contract(app, NAMES["globex"]))
    app.handover.available = True
    (exception_id,) = app.data.exceptions
    return World(acme, globex, exception_id, app.data.outbox[0].event_id)


#: The ids of each customer's objects; acme's are the ones the OpenAPI examples use, so the
#: examples schemathesis sends first name objects that exist.
NAMES: dict[str, dict[str, str]] = {
    "acme": {
        "customer_id": "acme",
        "tag": "ACME",
        "contract_id": "C-ACME-2026",
        "engagement_id": "E-ACME-1",
        "tm": "tm",
        "ms": "ms",
        "milestone_id": "M1",
        "milestone_2": "M2",
        "entry_1": "PSA-88231",
        "entry_2": "PSA-88232",
        "entry_3": "PSA-88233",
        "expense_id": "X-ACME-1",
        "payment_id": "PAY-ACME-1",
        "credit_memo_id": "CM-000001",
    },
    "globex": {
        "customer_id": "globex",
        "tag": "GLOBEX",
        "contract_id": "C-GLOBEX-2026",
        "engagement_id": "E-GLOBEX-1",
        "tm": "tm-globex",
        "ms": "ms-globex",
        "milestone_id": "M-GLOBEX-1",
        "milestone_2": "M-GLOBEX-2",
        "entry_1": "T-GLOBEX-1",
        "entry_2": "T-GLOBEX-2",
        "entry_3": "T-GLOBEX-3",
        "expense_id": "X-GLOBEX-1",
        "payment_id": "PAY-GLOBEX-1",
        "credit_memo_id": "CM-GLOBEX-1",
    },
}


def _contract(app: App, names: dict[str, str]) -> dict[str, str]:
    customer, tag = names["customer_id"], names["tag"]
    contract, engagement = (
        ids.ContractId(names["contract_id"]),
        ids.EngagementId(names["engagement_id"]),
    )
    app.do(c.ProposeEngagement(engagement, ids.CustomerId(customer), contract), actor="crm")
    app.do(c.RegisterContract(contract, ids.CustomerId(customer), ENTITY, "EUR", f"{tag} advisory"))
    tm = TimeAndMaterialsTerms(
        ids.ObligationId(names["tm"]), "Advisory", EUR, ids.RateCardId(RATE_CARD)
    )
    milestones = MilestoneTerms(
        ids.ObligationId(names["ms"]),
        "Programme",
        EUR,
        Decimal("1000.00"),
        (
            MilestoneSpec(
                ids.MilestoneId(names["milestone_id"]), "Design", percentage=Decimal("40")
            ),
            MilestoneSpec(
                ids.MilestoneId(names["milestone_2"]), "Build", percentage=Decimal("60"), final=True
            ),
        ),
    )
    app.do(c.DraftContractVersion(contract, date(2026, 1, 1), (tm, milestones)), actor="clm")
    app.do(c.ApproveContractVersion(contract, 1), actor="legal")
    # an amendment from April: the milestone fee goes up
    amended = attrs.evolve(milestones, fee=Decimal("1200.00"))
    app.do(c.DraftContractVersion(contract, date(2026, 4, 1), (tm, amended)), actor="clm")
    app.do(c.ApproveContractVersion(contract, 2), actor="legal")
    return names


def _billed(app: App, names: dict[str, str]) -> Tenant:
    engagement, tm = ids.EngagementId(names["engagement_id"]), ids.ObligationId(names["tm"])
    entries = (names["entry_1"], names["entry_2"], names["entry_3"])
    worked = (
        time_entry(entries[0], date(2026, 3, 2), "8", cost_rate=COST_RATE),
        time_entry(entries[1], date(2026, 3, 3), "4", cost_rate=COST_RATE),
    )
    app.do(
        c.RecordTimeEntries(
            tuple(attrs.evolve(e, engagement_id=engagement, obligation_id=tm) for e in worked)
        )
    )
    expense = names["expense_id"]
    app.do(
        c.RecordExpenses(
            (
                c.ExpenseInput(
                    ids.ExpenseId(expense),
                    engagement,
                    tm,
                    ids.ResourceId("r1"),
                    "travel",
                    date(2026, 3, 4),
                    Money(Decimal("120.00"), EUR),
                ),
            )
        )
    )
    contract = ids.ContractId(names["contract_id"])
    run = app.do(c.RunBilling(MARCH, dry_run=False, contract_ids=(contract,)), actor="clerk")
    (issued,) = run.invoice_ids
    invoice = ids.InvoiceId(issued)
    app.do(c.ApproveInvoice(invoice), actor="controller")
    number = app.do(c.IssueInvoice(invoice, date(2026, 3, 31)), actor="controller")
    payment = names["payment_id"]
    app.do(
        c.RecordPayment(invoice, ids.PaymentId(payment), Money(Decimal("100.00"), EUR), MARCH.end)
    )
    memo = names["credit_memo_id"]
    app.do(
        c.DraftCreditMemo(
            ids.CreditMemoId(memo),
            invoice,
            (c.CreditRequestInput(1, SourceRef(SourceKind.TIME_ENTRY, entries[1])),),
            "4 h not delivered",
        ),
        actor="clerk",
    )
    app.do(c.ApproveCreditMemo(ids.CreditMemoId(memo)), actor="controller")
    app.do(c.IssueCreditMemo(ids.CreditMemoId(memo), MARCH.end), actor="clerk")
    # a second month of work, left as a draft invoice
    later = time_entry(entries[2], date(2026, 4, 6), "2", cost_rate=COST_RATE)
    app.do(c.RecordTimeEntries((attrs.evolve(later, engagement_id=engagement, obligation_id=tm),)))
    # a run bills only a period that has begun (ADR 0025): it is April now
    app.clock.current = max(app.clock.current, datetime(2026, 4, 7, 9, tzinfo=UTC))
    april = app.do(
        c.RunBilling(Period.month(2026, 4), dry_run=False, contract_ids=(contract,)),
        actor="clerk",
    )
    (draft,) = april.invoice_ids
    return Tenant(
        customer_id=names["customer_id"],
        contract_id=names["contract_id"],
        engagement_id=names["engagement_id"],
        tm_obligation=names["tm"],
        milestone_obligation=names["ms"],
        milestone_id=names["milestone_id"],
        entries=entries,
        expense_id=expense,
        issued_invoice=issued,
        invoice_number=number,
        draft_invoice=draft,
        payment_id=payment,
        credit_memo_id=memo,
    )
