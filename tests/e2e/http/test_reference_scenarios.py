"""The four reference scenarios of the domain guide (section 9), played end to end through the
HTTP API and nothing else.

Every change of state is a POST with an Idempotency-Key, sent by the role that owns it: the
CRM connector wins the deal, the contract system registers, drafts and approves the SOW and
its amendments, finance proposes the rate card and a finance approver approves it, the PSA
sends approved time, delivery completes milestones and the client's acceptance arrives through
the PSA, finance previews and commits billing runs, issues invoices and credit memos, records
payments and disputes, recognises revenue and closes each month; a finance approver approves
every invoice and credit memo (never the person who drafted it).

The only things done outside HTTP: the FakeClock is moved from step to step, and the fake ERP
customer master (the external system of record) is given the customers' records, one of them
without a tax profile.

The figures are those of the guide's worked examples (the scenarios in `entrypoints/demo/`,
whose arithmetic is spelled out in tests/e2e/test_cli_demo.py); each one asserted here is worked
out in the comment beside it. The firm, each scenario's ids and the time its people log are the
demo's own (`entrypoints/demo/firm.py` and `scenarios/`): one story, played by the demo through
the application and here through the API.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import attrs

from application.ports import CustomerRecord
from domain.ids import CustomerId, LegalEntityId
from entrypoints.demo import firm as halden_rowe
from entrypoints.demo.scenarios import bellerive, lumiere, verhaegen
from entrypoints.demo.steps import Work
from tests.e2e.http.answers import ok
from tests.e2e.http.books_setup import approved_by_its_maker, problem
from tests.e2e.http.harness import Api
from tests.support.engagement_paths import THROUGH_A_BLOCKED_SETUP

# The firm: Halden & Rowe, a French company (EUR, French VAT) and a US company (USD), its
# tax codes, its rate card and its consultants, as the demo declares them -------------------

FR, US = halden_rowe.FR_ENTITY, halden_rowe.US_ENTITY
FR_VAT, REVERSE_CHARGE, US_NO_TAX = (
    halden_rowe.FR_VAT,
    halden_rowe.REVERSE_CHARGE,
    halden_rowe.US_NO_TAX,
)
ARTICLE_196 = halden_rowe.REVERSE_CHARGE_NOTE
RATE_CARD = halden_rowe.FR_RATE_CARD

#: The API principals behind the role keys of the harness.
MAKER = "fran.finance"
CHECKER = "alex.approver"


def money(amount: str, currency: str = "EUR") -> dict[str, str]:
    return {"amount": amount, "currency": currency}


def figures(document: dict[str, Any]) -> tuple[str, str, str]:
    """(net, tax, gross) amounts of an invoice, proposal or credit memo."""
    return document["net"]["amount"], document["tax"]["amount"], document["gross"]["amount"]


def decimal_of(text: str) -> Decimal:
    return Decimal(text)


def amounts(*values: dict[str, str]) -> tuple[tuple[Decimal, str], ...]:
    """Money values as (amount, currency) for comparison by value (how each is written is
    checked by tests/e2e/http/test_amount_formatting.py)."""
    return tuple((Decimal(v["amount"]), v["currency"]) for v in values)


def erp_record(
    customer: str, entity: str, name: str, currency: str, tax_code: str | None
) -> CustomerRecord:
    return CustomerRecord(
        CustomerId(customer), LegalEntityId(entity), name, currency, tax_code, False, f"{name} HQ"
    )


@attrs.frozen
class Issued:
    """An invoice as issued, with the proposal the committed run answered for it."""

    invoice: dict[str, Any]
    proposal: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.invoice["invoice_id"])

    @property
    def number(self) -> str:
        return str(self.invoice["number"])

    def line_billing(self, source: str) -> dict[str, Any]:
        """The invoice line whose sources include `source`."""
        (line,) = [x for x in self.invoice["lines"] if source in x["sources"]]
        return dict(line)


@attrs.define
class Firm:
    """One scenario's world seen through the API: the clock and the calls each role makes."""

    api: Api
    payments: int = 0

    # The clock ----------------------------------------------------------------------------

    def start(self, day: date) -> None:
        """Set the clock before the scenario's first request (it may start before the
        harness's default date)."""
        self.api.app.clock.current = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)

    def on(self, day: date, hour: int = 9) -> None:
        """Move the clock forward to `day` (never back: the audit trail is in time order)."""
        moment = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
        if moment > self.api.app.clock.current:
            self.api.app.clock.current = moment

    # Set-up of the firm --------------------------------------------------------------------

    def tax_rates(self) -> None:
        rates = [
            {"tax_code": FR_VAT, "effective_from": "2014-01-01", "rate": "0.20"},
            {"tax_code": REVERSE_CHARGE, "effective_from": "2014-01-01", "rate": "0"},
            {"tax_code": US_NO_TAX, "effective_from": "2014-01-01", "rate": "0"},
        ]
        ok(self.api.post("/tax-rates", {"rates": rates}, who="finance"))

    def france_rate_card(self) -> None:
        """Finance proposes the French regional rate card; the proposer may not approve it,
        even holding the approver's role too; a finance approver does."""
        card = {"rate_card_id": RATE_CARD, "name": "France regional rate card", "currency": "EUR"}
        ok(self.api.post("/rate-cards", card, who="finance"), 201)
        rates = {"partner": "320.00", "senior manager": "250.00", "senior consultant": "180.00"}
        proposal = {"effective_from": "2026-01-01", "role_rates": {**rates, "consultant": "135.00"}}
        ok(self.api.post(f"/rate-cards/{RATE_CARD}/versions", proposal, who="finance"), 201)
        own = approved_by_its_maker(
            self.api, f"/rate-cards/{RATE_CARD}/versions/1/approve", "rate-card-self-approval"
        )
        assert (own.status_code, problem(own)) == (403, "maker-checker")
        approved = ok(
            self.api.post(f"/rate-cards/{RATE_CARD}/versions/1/approve", who="finance_approver")
        )
        (version,) = approved["versions"]
        assert (version["proposed_by"], version["approved_by"]) == (MAKER, CHECKER)
        assert version["role_rates"]["senior consultant"] == money("180.00")

    def erp(self, *records: CustomerRecord) -> None:
        """The ERP's customer master (the external system of record, a fake here)."""
        for record in records:
            self.api.app.master.records[(record.customer_id, record.legal_entity_id)] = record

    # Deals and contracts -------------------------------------------------------------------

    def propose(self, engagement: str, customer: str, contract: str) -> None:
        """CRM closed-won: the deal becomes a proposed engagement."""
        body = {"engagement_id": engagement, "customer_id": customer, "contract_id": contract}
        assert ok(self.api.post("/engagements", body, who="integration2"), 201)["state"] == (
            "proposed"
        )

    def sign(
        self,
        contract: str,
        customer: str,
        entity: str,
        currency: str,
        name: str,
        effective_from: date,
        obligations: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """The CLM registers the contract, drafts the SOW and approves it; approval sets the
        engagement up. The contract as answered."""
        body = {
            "contract_id": contract,
            "customer_id": customer,
            "legal_entity_id": entity,
            "currency": currency,
            "name": name,
        }
        ok(self.api.post("/contracts", body, who="integration"), 201)
        version = {
            "effective_from": effective_from.isoformat(),
            "obligations": obligations,
            "label": "SOW",
        }
        drafted = ok(
            self.api.post(f"/contracts/{contract}/versions", version, who="integration"), 201
        )
        assert (drafted["version"], drafted["state"]) == (1, "draft")
        return ok(self.api.post(f"/contracts/{contract}/versions/1/approve", who="sales_ops"))

    def engagement(self, engagement: str) -> dict[str, Any]:
        return ok(self.api.get(f"/engagements/{engagement}", who="finance"))

    # Delivery ------------------------------------------------------------------------------

    def time(self, *entries: dict[str, Any], key: str | None = None) -> dict[str, Any]:
        """The PSA sends a batch of time its engagement manager approved."""
        body = {"entries": list(entries), "approved_by": "c.dubois"}
        return ok(self.api.post("/time-entries", body, who="integration", key=key))

    def complete(self, milestone: str, evidence: str, on: date) -> dict[str, Any]:
        body = {"evidence": evidence, "on": on.isoformat()}
        return ok(self.api.post(f"/milestones/{milestone}/complete", body, who="delivery_manager"))

    def accept(self, milestone: str, on: date) -> dict[str, Any]:
        """The client's acceptance, relayed by the PSA."""
        body = {"on": on.isoformat()}
        return ok(self.api.post(f"/milestones/{milestone}/accept", body, who="integration"))

    # Billing and cash ----------------------------------------------------------------------

    def preview(self, period: str, contracts: list[str], on: date) -> dict[str, Any]:
        body = {"period": period, "contract_ids": contracts, "invoice_date": on.isoformat()}
        return ok(self.api.post("/billing-runs/preview", body, who="finance"))

    def bill(
        self, period: str, contracts: list[str], on: date
    ) -> tuple[dict[str, Any], list[Issued]]:
        """Preview, commit exactly what was previewed, then for each draft: the maker's own
        approval refused, a finance approver's accepted, issued by finance on `on`."""
        preview = self.preview(period, contracts, on)
        body = {
            "period": period,
            "contract_ids": contracts,
            "invoice_date": on.isoformat(),
            "expected_fingerprint": preview["fingerprint"],
        }
        run = ok(self.api.post("/billing-runs", body, who="finance"), 201)
        assert run["invoices"] == preview["invoices"]  # preview equals commit
        issued = []
        for invoice_id, proposal in zip(run["invoice_ids"], run["invoices"], strict=True):
            own = approved_by_its_maker(
                self.api, f"/invoices/{invoice_id}/approve", f"self-approval-{invoice_id}"
            )
            assert (own.status_code, problem(own)) == (403, "maker-checker")
            approved = ok(self.api.post(f"/invoices/{invoice_id}/approve", who="finance_approver"))
            assert (approved["state"], approved["created_by"], approved["approved_by"]) == (
                "approved",
                MAKER,
                CHECKER,
            )
            invoice = ok(
                self.api.post(
                    f"/invoices/{invoice_id}/issue", {"issue_date": on.isoformat()}, who="finance"
                )
            )
            assert invoice["state"] == "issued"
            assert figures(invoice) == figures(proposal)
            issued.append(Issued(invoice, proposal))
        return run, issued

    def pay(self, invoice: Issued, amount: str, on: date) -> dict[str, Any]:
        self.payments += 1
        body = {
            "payment_id": f"PAY-{self.payments:03d}",
            "amount": amount,
            "currency": invoice.invoice["currency"],
            "received_on": on.isoformat(),
        }
        return ok(self.api.post(f"/invoices/{invoice.id}/payments", body, who="finance"))

    def invoice(self, invoice: Issued) -> dict[str, Any]:
        return ok(self.api.get(f"/invoices/{invoice.id}", who="finance"))

    # Month end -----------------------------------------------------------------------------

    def month_end(self, year: int, month: int, last_day: int) -> dict[str, str]:
        """Finance recognises the month's revenue, then closes it: what each obligation
        earned that month."""
        self.on(date(year, month, last_day), hour=18)
        period = f"{year}-{month:02d}"
        posted = ok(self.api.post("/revenue-runs", {"period": period}, who="finance"))["posted"]
        closed = ok(self.api.post(f"/periods/{period}/close", who="finance"))
        assert (closed["state"], closed["closed_by"]) == ("closed", MAKER)
        return {row["obligation_id"]: row["revenue"]["amount"] for row in posted}

    def balances(self, engagement: str, as_of: str) -> dict[str, Any]:
        return ok(self.api.get(f"/engagements/{engagement}/balances", who="finance", as_of=as_of))

    def audit_intact(self) -> None:
        chain = ok(self.api.get("/audit/verify", who="auditor"))
        assert (chain["intact"], chain["first_broken"]) == (True, None)
        assert chain["records"] > 0


def work(engagement: str, obligation: str, done: Work) -> dict[str, Any]:
    """One approved time entry as the PSA sends it."""
    return {
        "entry_id": done.entry_id,
        "engagement_id": engagement,
        "obligation_id": obligation,
        "resource_id": done.who.resource_id,
        "role": done.who.role,
        "work_date": done.day.isoformat(),
        "hours": done.hours,
        "task_id": "DELIVERY" if done.billable else "INTERNAL",
        "billable": done.billable,
    }


def timesheet(engagement: str, obligation: str, sheet: Iterable[Work]) -> list[dict[str, Any]]:
    """A scenario's timesheet (the demo's, entrypoints/demo/scenarios) as the PSA sends it."""
    return [work(engagement, obligation, done) for done in sheet]


def statuses(report: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    return [(r["entry_id"], r["status"], r["reason_code"]) for r in report["results"]]


def all_accepted(report: dict[str, Any], ids: Iterable[str]) -> None:
    assert statuses(report) == [(i, "accepted", None) for i in ids]


def sources_of(document: dict[str, Any]) -> set[str]:
    return {source for line in document["lines"] for source in line["sources"]}


# Scenario 1: global transformation program ------------------------------------------------

LUM_ENG, LUM_CONTRACT = lumiere.ENGAGEMENT, lumiere.CONTRACT
PROGRAM, CHANGE_REQUEST = lumiere.PROGRAM, lumiere.CHANGE_REQUEST
LUMIERE_PROGRAM = {
    "model": "milestones",
    "obligation_id": PROGRAM,
    "name": "Transformation program",
    "fee": "400000.00",
    "milestones": [
        {"milestone_id": "LUM-M1", "name": "M1 Discovery and target model", "percentage": "25"},
        {"milestone_id": "LUM-M2", "name": "M2 Design", "percentage": "25"},
        {"milestone_id": "LUM-M3", "name": "M3 Build and pilot", "percentage": "25"},
        {"milestone_id": "LUM-M4", "name": "M4 Rollout", "percentage": "25", "final": True},
    ],
    "retention_percent": "10",
}
LUMIERE_CHANGE_REQUEST = {
    "model": "time_and_materials",
    "obligation_id": CHANGE_REQUEST,
    "name": "CR-01 loyalty data migration",
    "rate_card_id": RATE_CARD,
    "billing_increment": "0.25",
    "increment_rounding": "up",
}


def cr(sheet: Iterable[Work]) -> list[dict[str, Any]]:
    return timesheet(LUM_ENG, CHANGE_REQUEST, sheet)


def test_scenario_1_global_transformation_program(api: Api) -> None:
    firm = Firm(api)
    firm.start(date(2026, 1, 5))
    firm.tax_rates()
    firm.france_rate_card()
    firm.erp(erp_record("lumiere-retail", FR, "Lumiere Retail Group SA", "EUR", FR_VAT))

    # January: deal won, SOW (the program alone) signed, the engagement set up
    firm.on(date(2026, 1, 12))
    firm.propose(LUM_ENG, "lumiere-retail", LUM_CONTRACT)
    firm.on(date(2026, 1, 15))
    contract = firm.sign(
        LUM_CONTRACT, "lumiere-retail", FR, "EUR", "Global transformation program",
        date(2026, 1, 15), [LUMIERE_PROGRAM],
    )  # fmt: skip
    assert contract["engagement"] == {"engagement_id": LUM_ENG, "state": "active"}
    milestones = ok(api.get("/milestones", who="delivery_manager", engagement_id=LUM_ENG))
    assert [(m["milestone_id"], m["state"]) for m in milestones["items"]] == [
        (f"LUM-M{n}", "planned") for n in range(1, 5)
    ]
    assert firm.month_end(2026, 1, 31) == {}  # nothing earned yet

    # February: M1 accepted and billed less its 10 % retention
    firm.on(date(2026, 2, 20))
    firm.complete("LUM-M1", "target operating model signed off by the steering committee",
                  date(2026, 2, 20))  # fmt: skip
    firm.on(date(2026, 2, 26))
    assert firm.accept("LUM-M1", date(2026, 2, 26))["state"] == "accepted"
    firm.on(date(2026, 2, 28))
    _, (first,) = firm.bill("2026-02", [LUM_CONTRACT], date(2026, 2, 28))
    # 25 % of 400,000 = 100,000; 10 % of it withheld; VAT 20 % of 90,000
    assert [(x["kind"], x["amount"]["amount"]) for x in first.invoice["lines"]] == [
        ("milestone", "100000.00"),
        ("retention_withheld", "-10000.00"),
    ]
    assert figures(first.invoice) == ("90000.00", "18000.00", "108000.00")
    assert first.number == "INV-2026-000001"
    assert ok(api.get("/milestones/LUM-M1", who="delivery_manager"))["state"] == "invoiced"
    assert firm.month_end(2026, 2, 28) == {PROGRAM: "100000.00"}  # milestone on acceptance

    # March: the change request is signed as amendment 1 and worked; M2 accepted
    firm.on(date(2026, 3, 2))
    amendment = {
        "effective_from": "2026-03-02",
        "obligations": [LUMIERE_PROGRAM, LUMIERE_CHANGE_REQUEST],
        "label": "Amendment 1 (CR-01)",
    }
    drafted = ok(api.post(f"/contracts/{LUM_CONTRACT}/versions", amendment, who="integration"), 201)
    assert (drafted["version"], drafted["state"]) == (2, "draft")
    amended = ok(api.post(f"/contracts/{LUM_CONTRACT}/versions/2/approve", who="sales_ops"))
    assert [(v["version"], v["state"]) for v in amended["versions"]] == [
        (1, "superseded"),
        (2, "approved"),
    ]
    diff = ok(api.get(f"/contracts/{LUM_CONTRACT}/diff", who="finance"))
    assert ([a["obligation_id"] for a in diff["added"]], diff["changed"]) == ([CHANGE_REQUEST], [])

    firm.on(date(2026, 3, 25))
    firm.complete("LUM-M2", "future-state design pack approved by the design authority",
                  date(2026, 3, 25))  # fmt: skip
    firm.on(date(2026, 3, 27))
    march = firm.time(*cr(lumiere.MARCH_TIME))
    all_accepted(march, [f"S1-T0{n}" for n in range(1, 8)])
    paid = firm.pay(first, "108000.00", date(2026, 3, 27))
    assert paid["state"] == "paid"
    assert amounts(paid["paid"], paid["outstanding"]) == amounts(money("108000.00"), money("0"))
    firm.on(date(2026, 3, 30))
    firm.accept("LUM-M2", date(2026, 3, 30))
    firm.on(date(2026, 3, 31))
    _, (second,) = firm.bill("2026-03", [LUM_CONTRACT], date(2026, 3, 31))
    # M2 100,000 - 10,000 + T&M: 4 h x 250 + 27.5 h x 180 + 7.5 h x 135 = 6,962.50 (the 2 h
    # on the non-billable task are not billed); VAT 20 %
    assert figures(second.invoice) == ("96962.50", "19392.50", "116355.00")
    time_lines = {
        x["description"].rsplit(": ", 1)[1]: (decimal_of(x["quantity"]), x["amount"]["amount"])
        for x in second.invoice["lines"]
        if x["kind"] == "time"
    }
    assert time_lines == {
        "consultant": (Decimal("7.5"), "1012.50"),
        "senior consultant": (Decimal("27.5"), "4950.00"),
        "senior manager": (Decimal("4"), "1000.00"),
    }
    assert "time_entry:S1-T05" not in sources_of(second.invoice)
    # revenue: M2 on acceptance, the change request as incurred (approved billable value)
    assert firm.month_end(2026, 3, 31) == {PROGRAM: "100000.00", CHANGE_REQUEST: "6962.50"}

    # April: the client disputes the March invoice; the dispute reaches the account and the
    # project; a partial credit memo of the 12 disputed hours, written off, resolves it
    firm.on(date(2026, 4, 8))
    reason = (
        "the 12 senior-consultant hours of 24 and 25 March (S1-T06, S1-T07) reworked the "
        "Design deliverable, which the fixed fee of milestone M2 already covers"
    )
    disputed = ok(api.post(f"/invoices/{second.id}/dispute", {"reason": reason}, who="finance"))
    assert (disputed["state"], disputed["dispute_reason"]) == ("disputed", reason)
    crm = [u for u in api.app.crm.updates.values() if u[1] == "invoice_disputed"]
    assert crm == [
        ("lumiere-retail", "invoice_disputed", {"invoice": second.number, "reason": reason})
    ]
    psa = [r for r in api.app.projects.reports.values() if r[1] == "invoice_disputed"]
    assert [(r[0], r[2]["invoice"]) for r in psa] == [(LUM_CONTRACT, second.number)]

    firm.on(date(2026, 4, 16))
    line = second.line_billing("time_entry:S1-T06")
    assert "time_entry:S1-T07" in line["sources"]
    credit = {
        "lines": [
            {"line_no": line["line_no"], "source": "time_entry:S1-T06"},
            {"line_no": line["line_no"], "source": "time_entry:S1-T07"},
        ],
        "reason": "M2 rework billed as change-request time: 12 h credited and written off",
        "write_off": True,
        "resolves_dispute": True,  # the credit settles the dispute, and says so
    }
    memo = ok(api.post(f"/invoices/{second.id}/credit-memos", credit, who="finance"), 201)
    # 12 h x 180 = 2,160.00; VAT 432.00
    assert figures(memo) == ("2160.00", "432.00", "2592.00")
    assert [(x["credits_line"], x["quantity"]) for x in memo["lines"]] == [
        (line["line_no"], "6"),
        (line["line_no"], "6"),
    ]
    assert (memo["state"], memo["write_off"], memo["created_by"]) == ("draft", True, MAKER)
    memo_id = memo["credit_memo_id"]
    own = approved_by_its_maker(api, f"/credit-memos/{memo_id}/approve", "cm")
    assert (own.status_code, problem(own)) == (403, "maker-checker")
    approved = ok(api.post(f"/credit-memos/{memo_id}/approve", who="finance_approver"))
    assert approved["approved_by"] == CHECKER
    issued = ok(api.post(f"/credit-memos/{memo_id}/issue", {"issue_date": "2026-04-16"}))
    assert (issued["state"], issued["invoice_number"]) == ("issued", second.number)
    assert issued["number"] == "CN-2026-000001"
    after_credit = firm.invoice(second)
    # the credit closes the dispute, its reason the resolution; 116,355.00 - 2,592.00 is owed
    assert (after_credit["state"], after_credit["dispute_reason"]) == ("issued", None)
    (dispute,) = after_credit["disputes"]
    assert (dispute["reason"], dispute["state"], dispute["resolution"]) == (
        reason,
        "resolved",
        credit["reason"],
    )
    assert dispute["credit_memo_id"] == memo_id
    assert amounts(after_credit["credited"], after_credit["outstanding"]) == amounts(
        money("2592.00"), money("113763.00")
    )
    # the write-off credit settles the 12 hours for good: nothing else is needed (a second
    # write-off of the same hours on the entries would take them off revenue twice)

    firm.on(date(2026, 4, 24))
    april = firm.time(*cr(lumiere.APRIL_TIME))
    all_accepted(april, ["S1-T08", "S1-T09", "S1-T10"])
    firm.complete("LUM-M3", "pilot stores live, pilot report accepted by the PMO",
                  date(2026, 4, 24))  # fmt: skip
    firm.on(date(2026, 4, 28))
    firm.accept("LUM-M3", date(2026, 4, 28))
    firm.on(date(2026, 4, 30))
    settled = firm.pay(second, "113763.00", date(2026, 4, 30))
    assert settled["state"] == "paid"
    assert amounts(settled["paid"], settled["outstanding"]) == amounts(
        money("113763.00"), money("0")
    )
    _, (third,) = firm.bill("2026-04", [LUM_CONTRACT], date(2026, 4, 30))
    # M3 90,000 + 8 h x 180 + 6.25 h x 135 + 3.5 h x 250 (3,158.75); the written-off hours
    # are never billed again
    assert figures(third.invoice) == ("93158.75", "18631.75", "111790.50")
    assert not {"time_entry:S1-T06", "time_entry:S1-T07"} & sources_of(third.invoice)
    # the change request: April's 3,158.75 less the 2,160.00 written off
    assert firm.month_end(2026, 4, 30) == {PROGRAM: "100000.00", CHANGE_REQUEST: "998.75"}

    # May: the final milestone releases the four retentions
    firm.on(date(2026, 5, 8))
    all_accepted(firm.time(*cr(lumiere.MAY_TIME)), ["S1-T11"])
    firm.on(date(2026, 5, 22))
    firm.complete("LUM-M4", "rollout to all 212 stores, handover to run signed", date(2026, 5, 22))
    firm.on(date(2026, 5, 28))
    assert firm.pay(third, "111790.50", date(2026, 5, 28))["state"] == "paid"
    firm.on(date(2026, 5, 29))
    firm.accept("LUM-M4", date(2026, 5, 29))
    firm.on(date(2026, 5, 31))
    _, (fourth,) = firm.bill("2026-05", [LUM_CONTRACT], date(2026, 5, 31))
    releases = [x for x in fourth.invoice["lines"] if x["kind"] == "retention_release"]
    assert [x["sources"] for x in releases] == [
        [f"retention:LUM-M{n}:released"] for n in range(1, 5)
    ]
    assert all(x["amount"] == money("10000.00") for x in releases)
    # 100,000 - 10,000 + 4 x 10,000 + 5 h x 180 = 130,900.00; VAT 26,180.00
    assert figures(fourth.invoice) == ("130900.00", "26180.00", "157080.00")
    assert firm.month_end(2026, 5, 31) == {PROGRAM: "100000.00", CHANGE_REQUEST: "900.00"}

    # where it ends: the program fully billed and recognised, only the last invoice open
    balances = firm.balances(LUM_ENG, "2026-05")
    by_obligation = {
        o["obligation_id"]: (o["recognised"], o["billed"], o["unbilled_wip"], o["deferred_revenue"])
        for o in balances["obligations"]
    }
    zero = money("0.00")
    assert by_obligation == {
        PROGRAM: (money("400000.00"), money("400000.00"), zero, zero),
        # (39 + 17.75 + 5 h billable) less the 12 h credited: 8,861.25
        CHANGE_REQUEST: (money("8861.25"), money("8861.25"), zero, zero),
    }
    assert balances["recognised"] == money("408861.25")
    states = ok(api.get("/invoices", who="finance", customer_id="lumiere-retail"))["items"]
    assert [(i["number"], i["state"], *amounts(i["outstanding"])) for i in states] == [
        ("INV-2026-000001", "paid", (0, "EUR")),
        ("INV-2026-000002", "paid", (0, "EUR")),
        ("INV-2026-000003", "paid", (0, "EUR")),
        ("INV-2026-000004", "issued", (Decimal("157080.00"), "EUR")),
    ]
    milestones = ok(api.get("/milestones", who="delivery_manager", engagement_id=LUM_ENG))
    assert {m["state"] for m in milestones["items"]} == {"invoiced"}
    assert firm.engagement(LUM_ENG)["path"] == ["proposed", "contracted", "provisioning", "active"]
    firm.audit_intact()


# Scenario 2: multi-country engagement -----------------------------------------------------

KES_EU, KES_US = "C-KES-EU-01", "C-KES-US-01"
PHASES, MANAGED = "KES-PHASES", "KES-MANAGED"
KESTREL_PHASES = {
    "model": "milestones",
    "obligation_id": PHASES,
    "name": "Lab analytics programme",
    "fee": "180000.00",
    "milestones": [
        {"milestone_id": "KES-P1", "name": "Phase 1 Assessment", "amount": "45000"},
        {"milestone_id": "KES-P2", "name": "Phase 2 Design", "amount": "60000"},
        {"milestone_id": "KES-P3", "name": "Phase 3 Implementation", "amount": "75000"},
    ],
}
KESTREL_MANAGED = {
    "model": "recurring",
    "obligation_id": MANAGED,
    "name": "Managed analytics platform",
    "amount_per_period": "12500.00",
    "service_start": "2026-03-16",
    "service_end": "2027-03-15",
}


def by_currency(invoices: list[Issued]) -> dict[str, Issued]:
    return {i.invoice["currency"]: i for i in invoices}


def test_scenario_2_multi_country_engagement(api: Api) -> None:
    firm = Firm(api)
    firm.start(date(2026, 2, 2))
    firm.tax_rates()
    firm.erp(
        erp_record("kestrel-fr", FR, "Kestrel Pharma France SAS", "EUR", FR_VAT),
        erp_record("kestrel-us", US, "Kestrel Pharma Inc.", "USD", US_NO_TAX),
    )

    firm.on(date(2026, 2, 9))
    firm.propose("ENG-KES-EU", "kestrel-fr", KES_EU)
    firm.propose("ENG-KES-US", "kestrel-us", KES_US)
    firm.on(date(2026, 2, 16))
    eu = firm.sign(KES_EU, "kestrel-fr", FR, "EUR", "Lab analytics programme",
                   date(2026, 2, 16), [KESTREL_PHASES])  # fmt: skip
    us = firm.sign(KES_US, "kestrel-us", US, "USD", "Managed analytics service",
                   date(2026, 2, 16), [KESTREL_MANAGED])  # fmt: skip
    assert eu["engagement"]["state"] == us["engagement"]["state"] == "active"
    for engagement in ("ENG-KES-EU", "ENG-KES-US"):
        path = firm.engagement(engagement)["path"]
        assert path == ["proposed", "contracted", "provisioning", "active"]
    assert (eu["currency"], us["currency"]) == ("EUR", "USD")
    assert firm.month_end(2026, 2, 28) == {}

    # March: the service bills its first, partial month in advance; P1 is accepted
    firm.on(date(2026, 3, 2))
    _, (usd_march,) = firm.bill("2026-03", [KES_EU, KES_US], date(2026, 3, 2))
    (line,) = usd_march.invoice["lines"]
    assert "(16/31 days)" in line["description"]
    # 12,500.00 x 16 / 31 = 6,451.6129 -> 6,451.61; no US tax
    assert figures(usd_march.invoice) == ("6451.61", "0.00", "6451.61")
    assert usd_march.invoice["currency"] == "USD"
    assert usd_march.invoice["legal_entity_id"] == US
    firm.on(date(2026, 3, 12))
    firm.complete("KES-P1", "assessment report and roadmap delivered", date(2026, 3, 12))
    firm.on(date(2026, 3, 13))
    firm.accept("KES-P1", date(2026, 3, 13))
    firm.on(date(2026, 3, 31))
    firm.pay(usd_march, "6451.61", date(2026, 3, 31))
    assert firm.month_end(2026, 3, 31) == {PHASES: "45000.00", MANAGED: "6451.61"}

    # April: one invoice per contract and currency
    firm.on(date(2026, 4, 1))
    _, april = firm.bill("2026-04", [KES_EU, KES_US], date(2026, 4, 1))
    eur_p1, usd_april = by_currency(april)["EUR"], by_currency(april)["USD"]
    assert figures(eur_p1.invoice) == ("45000.00", "9000.00", "54000.00")  # P1 + 20 % VAT
    assert eur_p1.invoice["legal_entity_id"] == FR
    assert figures(usd_april.invoice) == ("12500.00", "0.00", "12500.00")
    firm.on(date(2026, 4, 23))
    firm.complete("KES-P2", "solution design signed by the Kestrel architecture board",
                  date(2026, 4, 23))  # fmt: skip
    firm.on(date(2026, 4, 24))
    firm.accept("KES-P2", date(2026, 4, 24))
    firm.on(date(2026, 4, 29))
    firm.pay(eur_p1, "54000.00", date(2026, 4, 29))
    firm.on(date(2026, 4, 30))
    firm.pay(usd_april, "12500.00", date(2026, 4, 30))
    assert firm.month_end(2026, 4, 30) == {PHASES: "60000.00", MANAGED: "12500.00"}

    # May: P2 billed, paid in part; P3 completed but not yet accepted
    firm.on(date(2026, 5, 1))
    _, may = firm.bill("2026-05", [KES_EU, KES_US], date(2026, 5, 1))
    eur_p2, usd_may = by_currency(may)["EUR"], by_currency(may)["USD"]
    assert figures(eur_p2.invoice) == ("60000.00", "12000.00", "72000.00")
    assert figures(usd_may.invoice) == ("12500.00", "0.00", "12500.00")
    firm.on(date(2026, 5, 28))
    firm.complete("KES-P3", "platform live in the Lyon and Basel labs", date(2026, 5, 28))
    firm.on(date(2026, 5, 29))
    part = firm.pay(eur_p2, "40000.00", date(2026, 5, 29))
    assert part["state"] == "partially_paid"
    assert amounts(part["outstanding"]) == amounts(money("32000.00"))
    assert firm.month_end(2026, 5, 31) == {MANAGED: "12500.00"}  # P3 is not accepted

    # payments flowed back to the CRM account, each naming its invoice
    payments = sorted(
        (u[0], u[2]["invoice"]) for u in api.app.crm.updates.values() if u[1] == "payment_received"
    )
    assert payments == sorted(
        [
            ("kestrel-us", usd_march.number),
            ("kestrel-fr", eur_p1.number),
            ("kestrel-us", usd_april.number),
            ("kestrel-fr", eur_p2.number),
        ]
    )
    # what the account owes, per currency: 72,000 - 40,000 EUR and May's 12,500 USD
    receivables = ok(api.get("/dashboard", who="finance"))["receivables"]
    assert {r["currency"]: Decimal(r["outstanding"]["amount"]) for r in receivables} == {
        "EUR": Decimal("32000.00"),
        "USD": Decimal("12500.00"),
    }
    p3 = ok(api.get("/milestones/KES-P3", who="delivery_manager"))
    assert (p3["state"], p3["completed_on"]) == ("completed", "2026-05-28")
    eu_balances = firm.balances("ENG-KES-EU", "2026-05")
    assert (eu_balances["recognised"], eu_balances["billed"]) == (
        money("105000.00"),
        money("105000.00"),
    )
    assert eu_balances["backlog"] == money("75000.00")  # P3 not billed yet
    us_balances = firm.balances("ENG-KES-US", "2026-05")
    # 6,451.61 + 12,500 + 12,500, billed in advance and recognised straight-line
    assert (us_balances["recognised"], us_balances["billed"], us_balances["deferred_revenue"]) == (
        money("31451.61", "USD"),
        money("31451.61", "USD"),
        money("0.00", "USD"),
    )
    firm.audit_intact()


# Scenario 3: blocked setup ----------------------------------------------------------------

VER_ENG, VER_CONTRACT, STUDY = verhaegen.ENGAGEMENT, verhaegen.CONTRACT, verhaegen.STUDY
VERHAEGEN_STUDY = {
    "model": "time_and_materials",
    "obligation_id": STUDY,
    "name": "Warehouse network study",
    "rate_card_id": RATE_CARD,
    "billing_increment": "0.25",
    "cap": {"hours": "60", "policy": "hold"},
}


def study(sheet: Iterable[Work]) -> list[dict[str, Any]]:
    return timesheet(VER_ENG, STUDY, sheet)


def test_scenario_3_blocked_setup_is_fixed_replayed_and_billed(api: Api) -> None:
    firm = Firm(api)
    firm.start(date(2026, 3, 2))
    firm.tax_rates()
    firm.france_rate_card()
    # the ERP knows Verhaegen, but without a tax profile
    firm.erp(erp_record("verhaegen", FR, "Verhaegen Logistics NV", "EUR", None))

    firm.propose(VER_ENG, "verhaegen", VER_CONTRACT)
    firm.on(date(2026, 3, 4))
    contract = firm.sign(VER_CONTRACT, "verhaegen", FR, "EUR", "Warehouse network study",
                         date(2026, 3, 4), [VERHAEGEN_STUDY])  # fmt: skip
    assert contract["engagement"] == {"engagement_id": VER_ENG, "state": "setup_blocked"}

    # the setup lands in the finance exception queue
    (queued,) = ok(api.get("/exceptions", who="finance", kind="master_data"))["items"]
    assert (queued["workflow"], queued["subject"], queued["reason_code"], queued["state"]) == (
        "setup",
        f"engagement:{VER_ENG}",
        "missing_master_data",
        "open",
    )
    assert queued["replayable"] is True
    assert "tax_profile" in queued["detail"]
    blocked = firm.engagement(VER_ENG)
    assert [x["exception_id"] for x in blocked["open_exceptions"]] == [queued["exception_id"]]
    customer = ok(api.get("/customers/verhaegen", who="finance"))
    assert customer["master_data_complete"] is False
    assert customer["legal_entities"][0]["tax_profile_status"] == "missing"

    # a billing run leaves the blocked engagement's contract out, and says why
    firm.on(date(2026, 3, 6))
    dry = firm.preview("2026-03", [VER_CONTRACT], date(2026, 3, 6))
    assert dry["skipped"] == [{"contract_id": VER_CONTRACT, "reason": "engagement_setup_blocked"}]
    assert (dry["invoices"], dry["blocked"]) == ([], [])

    # time logged meanwhile is refused, with its reason code, never silently dropped
    early = study(verhaegen.EARLY_TIME)
    assert [entry["entry_id"] for entry in early] == ["S3-T01", "S3-T02"]
    for entry in early:
        firm.on(date.fromisoformat(entry["work_date"]))
        refused = firm.time(entry)
        assert statuses(refused) == [
            (entry["entry_id"], "rejected", "engagement_not_accepting_time")
        ]
        assert "setup_blocked" in refused["results"][0]["detail"]

    # finance relays the ERP's fix: a reverse-charged profile (intra-EU B2B services)
    firm.on(date(2026, 3, 11))
    profile = {
        "legal_entity_id": FR,
        "tax_code": REVERSE_CHARGE,
        "reverse_charge": True,
        "legal_note": ARTICLE_196,
    }
    fixed = ok(api.post("/customers/verhaegen/master-data", profile, who="finance"))
    assert fixed["master_data_complete"] is True
    assert firm.engagement(VER_ENG)["state"] == "setup_blocked"  # until the replay

    replay = ok(api.post(f"/exceptions/{queued['exception_id']}/replay", who="finance"))
    assert (replay["healed"], replay["exception"]["state"]) == (True, "resolved")
    assert replay["exception"]["resolved_by"] == MAKER
    engagement = firm.engagement(VER_ENG)
    assert engagement["state"] == "active"
    assert engagement["path"] == list(THROUGH_A_BLOCKED_SETUP)
    assert engagement["open_exceptions"] == []
    assert ok(api.get("/exceptions", who="finance", state="open"))["items"] == []
    assert list(api.app.projects.projects) == [f"{VER_ENG}:project"]  # provisioned once

    # the refused time, sent again, is accepted now; the same request replayed changes nothing
    resent = firm.time(*early, key="psa-resend-early-march")
    all_accepted(resent, ["S3-T01", "S3-T02"])
    again = api.post(
        "/time-entries",
        {"entries": early, "approved_by": "c.dubois"},
        who="integration",
        key="psa-resend-early-march",
    )
    assert (again.status_code, again.headers.get("Idempotent-Replayed")) == (200, "true")
    assert again.json() == resent

    firm.on(date(2026, 3, 30))
    later = firm.time(*study(verhaegen.MARCH_TIME))
    all_accepted(later, ["S3-T03", "S3-T04", "S3-T05", "S3-T06"])
    listed = ok(api.get("/time-entries", who="delivery_manager", engagement_id=VER_ENG))
    assert [e["entry_id"] for e in listed["items"]] == [f"S3-T0{n}" for n in range(1, 7)]

    firm.on(date(2026, 3, 31))
    run, (first,) = firm.bill("2026-03", [VER_CONTRACT], date(2026, 3, 31))
    # 16 h x 135 + 2 h x 320 + 13.75 h x 180 + 7 h x 250 = 7,025.00, reverse charged
    assert figures(first.invoice) == ("7025.00", "0.00", "7025.00")
    (tax,) = first.proposal["tax_lines"]
    assert (tax["tax_code"], tax["rate"], tax["note"]) == (REVERSE_CHARGE, "0", ARTICLE_196)
    assert {"time_entry:S3-T01", "time_entry:S3-T02"} <= sources_of(first.invoice)
    assert run["blocked"] == []
    assert firm.month_end(2026, 3, 31) == {STUDY: "7025.00"}

    # April: the work reaches the 60-hour cap; what is over it is held, not billed
    firm.on(date(2026, 4, 10))
    april = firm.time(*study(verhaegen.APRIL_TIME))
    all_accepted(april, ["S3-T07", "S3-T08", "S3-T09"])
    firm.on(date(2026, 4, 24))
    assert firm.pay(first, "7025.00", date(2026, 4, 24))["state"] == "paid"
    firm.on(date(2026, 4, 30))
    run, (second,) = firm.bill("2026-04", [VER_CONTRACT], date(2026, 4, 30))
    # 38.75 h billed in March + 8 + 7.5 leaves 5.75 of S3-T09's 8 h under the cap:
    # 7.5 h x 135 + (8 + 5.75) h x 180 = 3,487.50
    assert figures(second.invoice) == ("3487.50", "0.00", "3487.50")
    (over,) = run["exclusions"]
    # 2.25 h x 180 = 405.00
    assert (over["source"], over["quantity"], over["value"], over["disposition"]) == (
        "time_entry:S3-T09",
        "2.25",
        money("405.00"),
        "held",
    )
    assert over["reason"] == "over_cap_hold"
    # the committed run put the hours over the cap on hold, awaiting a decision
    april_entries = ok(
        api.get("/time-entries", who="delivery_manager", engagement_id=VER_ENG, period="2026-04")
    )
    held = {e["entry_id"]: (e["state"], e["held"]) for e in april_entries["items"]}
    assert held == {"S3-T07": ("approved", "0"), "S3-T08": ("approved", "0"),
                    "S3-T09": ("held", "2.25")}  # fmt: skip
    # the held hours earn nothing until someone decides: 7,025.00 + 3,487.50 recognised
    assert firm.month_end(2026, 4, 30) == {STUDY: "3487.50"}
    balances = firm.balances(VER_ENG, "2026-04")
    assert (balances["recognised"], balances["billed"], balances["unbilled_wip"]) == (
        money("10512.50"),
        money("10512.50"),
        money("0.00"),
    )
    open_april = ok(api.get(f"/invoices/{second.id}", who="finance"))["outstanding"]
    assert amounts(open_april) == amounts(money("3487.50"))
    firm.audit_intact()


# Scenario 4: retainer with rollover, overage and expiry -----------------------------------

BEL_ENG, BEL_CONTRACT, RETAINER = bellerive.ENGAGEMENT, bellerive.CONTRACT, bellerive.RETAINER
BELLERIVE_RETAINER = {
    "model": "retainer",
    "obligation_id": RETAINER,
    "name": "Digital advisory retainer",
    "fee_per_period": "6000.00",
    "hours_per_period": "40",
    "start": "2026-01-01",
    "end": "2026-12-31",
    "rollover_cap_hours": "20",
    "rollover_periods": 2,
    "overage_rate": "170.00",
    "overage_policy": "bill",
}
#: The hours worked each month, one entry every third day from the 5th (34, 38, 55: the
#: overage month, 24, 6 and 3 h), and the day of each month's run, as the demo plays them.
RETAINER_USAGE, RUN_DAYS = bellerive.RETAINER_USAGE, bellerive.RUN_DAYS
LAST_DAYS = {1: 31, 2: 28, 3: 31, 4: 30, 5: 31, 6: 30}
#: Revenue per month at the implied hourly value 6,000 / 40 = 150.00:
RETAINER_REVENUE = {
    1: "5100.00",  # 34 h used; 6 h carried (deferred)
    2: "5700.00",  # 6 carried + 32 h of February used = 38 h; 8 h carried
    3: "8390.00",  # 8 carried + 40 h = 48 h x 150 + 7 h overage x 170 (1,190.00)
    4: "3600.00",  # 24 h used; 16 h carried
    5: "3900.00",  # 6 h of April's carry used + 20 h of May's 40 not carried (breakage)
    6: "4500.00",  # 3 h used + 20 h not carried + April's last 7 carried hours expire
}


def test_scenario_4_retainer_rollover_overage_and_expiry(api: Api) -> None:
    firm = Firm(api)
    firm.start(date(2025, 12, 1))
    firm.tax_rates()
    firm.erp(erp_record("bellerive", FR, "Bellerive Hotels SAS", "EUR", FR_VAT))

    firm.on(date(2025, 12, 8))
    firm.propose(BEL_ENG, "bellerive", BEL_CONTRACT)
    firm.on(date(2025, 12, 15))
    contract = firm.sign(BEL_CONTRACT, "bellerive", FR, "EUR", "Digital advisory retainer",
                         date(2025, 12, 15), [BELLERIVE_RETAINER])  # fmt: skip
    assert contract["engagement"]["state"] == "active"
    path = firm.engagement(BEL_ENG)["path"]
    assert path == ["proposed", "contracted", "provisioning", "active"]

    invoices: dict[int, Issued] = {}
    for month, hours in RETAINER_USAGE.items():
        run_day = date(2026, month, RUN_DAYS[month])
        firm.on(run_day)
        _, (invoice,) = firm.bill(f"2026-{month:02d}", [BEL_CONTRACT], run_day)
        invoices[month] = invoice
        entries = timesheet(
            BEL_ENG,
            RETAINER,
            (
                Work(
                    f"S4-{month:02d}{n:02d}",
                    halden_rowe.ADVISOR,
                    date(2026, month, 5 + 3 * (n - 1)),
                    h,
                )
                for n, h in enumerate(hours, 1)
            ),
        )
        approved_on = date.fromisoformat(entries[-1]["work_date"])
        paid_on = date(2026, month, 15) if month < 6 else None  # June's fee stays open
        if paid_on is not None and paid_on < approved_on:
            firm.on(paid_on)
            assert firm.pay(invoice, invoice.invoice["gross"]["amount"], paid_on)["state"] == "paid"
        firm.on(approved_on)
        all_accepted(firm.time(*entries), [e["entry_id"] for e in entries])
        if paid_on is not None and paid_on >= approved_on:
            firm.on(paid_on)
            assert firm.pay(invoice, invoice.invoice["gross"]["amount"], paid_on)["state"] == "paid"
        posted = firm.month_end(2026, month, LAST_DAYS[month])
        assert posted == {RETAINER: RETAINER_REVENUE[month]}, month

    # every month's fee in advance: 6,000.00 + 20 % VAT
    for month in (1, 2, 3, 5, 6):
        assert figures(invoices[month].invoice) == ("6000.00", "1200.00", "7200.00"), month
        (fee,) = invoices[month].invoice["lines"]
        assert (fee["kind"], fee["sources"]) == (
            "retainer_fee",
            [f"retainer_period:{RETAINER}:2026-{month:02d}"],
        )
    # April's run also bills March's overage in arrears: 40 h + 8 h carried, 55 h used ->
    # 7 h over, at 170.00 = 1,190.00, all of it from the entry that crossed the balance
    april = invoices[4].invoice
    assert figures(april) == ("7190.00", "1438.00", "8628.00")
    (overage,) = [x for x in april["lines"] if x["kind"] == "retainer_overage"]
    assert (decimal_of(overage["quantity"]), overage["unit_price"], overage["amount"]) == (
        Decimal(7),
        money("170.00"),
        money("1190.00"),
    )
    assert overage["sources"] == ["time_entry:S4-0307"]
    assert "overage 2026-03" in overage["description"]

    # where it ends: 6 fees + the overage billed (37,190.00); 31,190.00 recognised; the 40
    # hours still carried (May's 20 and June's 20) deferred at 150.00 = 6,000.00
    balances = firm.balances(BEL_ENG, "2026-06")
    assert (
        balances["recognised"],
        balances["billed"],
        balances["unbilled_wip"],
        balances["deferred_revenue"],
    ) == (money("31190.00"), money("37190.00"), money("0.00"), money("6000.00"))
    assert amounts(firm.invoice(invoices[6])["outstanding"]) == amounts(money("7200.00"))
    closed = ok(api.get("/periods", who="finance", state="closed"))["items"]
    assert [p["period"] for p in closed] == [f"2026-{m:02d}" for m in range(1, 7)]
    firm.audit_intact()
