"""The four reference scenarios of the domain guide as scripts for the bus loader.

Each script yields the date of its next step, then takes it through `ScenarioRun`, which sends
the commands. The terms, people and figures are those of the pure-domain report
(`entrypoints.demo`), so the two tell the same story; here it is one firm with one set of books,
numbered by the application's own sequences.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

from application import commands as c
from application.customer_master import PostalAddress
from application.ports import CustomerRecord
from domain.billing import SourceKind, SourceRef
from domain.ids import ContractId, CustomerId, LegalEntityId
from domain.period import Period
from entrypoints import demo as ref
from entrypoints.scenario_run import Consultant, ScenarioRun, Script, Work

PARTNER = Consultant(ref.PARTNER.resource_id, ref.PARTNER.name, ref.PARTNER.role)
MANAGER = Consultant(ref.MANAGER.resource_id, ref.MANAGER.name, ref.MANAGER.role)
SENIOR = Consultant(ref.SENIOR.resource_id, ref.SENIOR.name, ref.SENIOR.role)
CONSULTANT = Consultant(ref.CONSULTANT.resource_id, ref.CONSULTANT.name, ref.CONSULTANT.role)
ADVISOR = Consultant(ref.ADVISOR.resource_id, ref.ADVISOR.name, ref.ADVISOR.role)
KESTREL_SPONSOR = "j.marchand (Kestrel VP Operations)"


def _record(
    customer: str,
    entity: LegalEntityId,
    name: str,
    currency: str,
    tax_code: str | None,
    address: str,
    *,
    reverse_charge: bool = False,
) -> CustomerRecord:
    legal = _LEGAL.get(customer)
    return CustomerRecord(
        CustomerId(customer),
        entity,
        name,
        currency,
        tax_code,
        reverse_charge,
        address,
        address=None if legal is None else legal[0],
        vat_id=None if legal is None else legal[1],
        payment_terms_days=None if legal is None else legal[2],
    )


#: What the documents print about each demo customer (ADR 0037): its structured billing
#: address, VAT id and payment terms in days, as the ERP's master holds them.
_LEGAL: dict[str, tuple[PostalAddress, str | None, int]] = {
    "lumiere-retail": (
        PostalAddress(("12 rue de Rivoli",), "Paris", "75004", "FR"),
        "FR61552081317",
        45,
    ),
    "kestrel-fr": (PostalAddress(("8 quai Rambaud",), "Lyon", "69002", "FR"), "FR83402468579", 30),
    "kestrel-us": (PostalAddress(("200 Binney Street",), "Cambridge MA", "02142", "US"), None, 30),
    "verhaegen": (
        PostalAddress(("Noorderlaan 120",), "Antwerpen", "2030", "BE"),
        "BE0403170701",
        60,
    ),
    "bellerive": (
        PostalAddress(("4 avenue d'Albigny",), "Annecy", "74000", "FR"),
        "FR27384572981",
        30,
    ),
}


#: The ERP's customer master as the demo starts: Verhaegen has no tax profile yet.
CUSTOMER_MASTER = (
    _record("lumiere-retail", ref.FR_ENTITY, "Lumiere Retail Group SA", "EUR", ref.FR_VAT,
            "12 rue de Rivoli, 75004 Paris, France"),
    _record("kestrel-fr", ref.FR_ENTITY, "Kestrel Pharma France SAS", "EUR", ref.FR_VAT,
            "8 quai Rambaud, 69002 Lyon, France"),
    _record("kestrel-us", ref.US_ENTITY, "Kestrel Pharma Inc.", "USD", ref.US_NO_TAX,
            "200 Binney Street, Cambridge MA 02142, USA"),
    _record("verhaegen", ref.FR_ENTITY, "Verhaegen Logistics NV", "EUR", None,
            "Noorderlaan 120, 2030 Antwerpen, Belgium"),
    _record("bellerive", ref.FR_ENTITY, "Bellerive Hotels SAS", "EUR", ref.FR_VAT,
            "4 avenue d'Albigny, 74000 Annecy, France"),
)  # fmt: skip

VERHAEGEN_FIXED = _record(
    "verhaegen",
    ref.FR_ENTITY,
    "Verhaegen Logistics NV",
    "EUR",
    ref.REVERSE_CHARGE,
    "Noorderlaan 120, 2030 Antwerpen, Belgium",
    reverse_charge=True,
)


def _contract(
    contract_id: str, customer: str, entity: LegalEntityId, currency: str, name: str
) -> c.RegisterContract:
    return c.RegisterContract(ContractId(contract_id), CustomerId(customer), entity, currency, name)


# Scenario 1: global transformation program ------------------------------------------------


def lumiere(run: ScenarioRun) -> Iterator[date]:
    eng, contract = "ENG-LUM-01", "C-LUM-2026-01"
    yield date(2026, 1, 12)
    run.propose(eng, "lumiere-retail", contract, "Closed-won in the CRM: Lumiere Retail Group")
    yield date(2026, 1, 15)
    run.sign(
        eng,
        _contract(
            contract, "lumiere-retail", ref.FR_ENTITY, "EUR", "Global transformation program"
        ),
        [ref.LUMIERE_PROGRAM],
        "SOW",
        "fixed-fee program of 400,000.00 EUR billed by four 25 % milestones, 10 % retention "
        "released at final acceptance",
    )

    yield date(2026, 2, 20)
    run.milestone("LUM-M1", "target operating model signed off by the steering committee")
    yield date(2026, 2, 26)
    run.accept("LUM-M1", ref.CLIENT_SPONSOR)
    yield date(2026, 2, 28)
    (first,) = run.bill(Period.month(2026, 2), [contract])

    yield date(2026, 3, 2)
    run.amend(
        contract,
        2,
        [ref.LUMIERE_PROGRAM, ref.LUMIERE_CHANGE_REQUEST],
        "Amendment 1 (CR-01)",
        "change request CR-01 added, time and materials on the France regional rate card "
        "(0.25 h increments)",
    )
    yield date(2026, 3, 25)
    run.milestone("LUM-M2", "future-state design pack approved by the design authority")
    yield date(2026, 3, 27)
    run.time(
        eng,
        ref.CHANGE_REQUEST,
        [
            Work("S1-T01", MANAGER, date(2026, 3, 9), "4"),
            Work("S1-T02", SENIOR, date(2026, 3, 10), "7.5"),
            Work("S1-T03", SENIOR, date(2026, 3, 11), "8"),
            Work("S1-T04", CONSULTANT, date(2026, 3, 12), "7.5"),
            Work("S1-T05", CONSULTANT, date(2026, 3, 13), "2", billable=False),
            Work("S1-T06", SENIOR, date(2026, 3, 24), "6"),
            Work("S1-T07", SENIOR, date(2026, 3, 25), "6"),
        ],
        "CR-01, March",
    )
    run.pay(first, Decimal("108000.00"))
    yield date(2026, 3, 30)
    run.accept("LUM-M2", ref.CLIENT_SPONSOR)
    yield date(2026, 3, 31)
    (second,) = run.bill(Period.month(2026, 3), [contract])

    yield date(2026, 4, 8)
    run.dispute(
        second,
        "the 12 senior-consultant hours of 24 and 25 March (S1-T06, S1-T07) reworked the "
        "Design deliverable, which the fixed fee of milestone M2 already covers",
    )
    yield date(2026, 4, 16)
    disputed = [SourceRef(SourceKind.TIME_ENTRY, e) for e in ("S1-T06", "S1-T07")]
    run.credit(
        second,
        disputed,
        "M2 rework billed as change-request time: 12 h credited and written off",
        write_off=True,
        resolves_dispute=True,
    )
    run.note(
        ref.ENGAGEMENT_MANAGER,
        ref.StepKind.TIME,
        "S1-T06 and S1-T07 (12 h) are settled by the write-off credit: no later run bills "
        "them again, and they are not written off a second time",
    )
    yield date(2026, 4, 24)
    run.time(
        eng,
        ref.CHANGE_REQUEST,
        [
            Work("S1-T08", SENIOR, date(2026, 4, 7), "8"),
            Work("S1-T09", CONSULTANT, date(2026, 4, 8), "6.25"),
            Work("S1-T10", MANAGER, date(2026, 4, 14), "3.5"),
        ],
        "CR-01, April",
    )
    run.milestone("LUM-M3", "pilot stores live, pilot report accepted by the PMO")
    yield date(2026, 4, 28)
    run.accept("LUM-M3", ref.CLIENT_SPONSOR)
    yield date(2026, 4, 30)
    run.pay(second)
    (third,) = run.bill(Period.month(2026, 4), [contract])

    yield date(2026, 5, 8)
    run.time(eng, ref.CHANGE_REQUEST, [Work("S1-T11", SENIOR, date(2026, 5, 5), "5")], "CR-01, May")
    yield date(2026, 5, 22)
    run.milestone("LUM-M4", "rollout to all 212 stores, handover to run signed")
    yield date(2026, 5, 28)
    run.pay(third)
    yield date(2026, 5, 29)
    run.accept("LUM-M4", ref.CLIENT_SPONSOR)
    yield date(2026, 5, 31)
    run.bill(Period.month(2026, 5), [contract])


# Scenario 2: multi-country engagement -----------------------------------------------------


def kestrel(run: ScenarioRun) -> Iterator[date]:
    eu, us = "C-KES-EU-01", "C-KES-US-01"
    won = "Closed-won in the CRM: Kestrel Pharma, France and United States"
    yield date(2026, 2, 9)
    run.propose("ENG-KES-EU", "kestrel-fr", eu, won)
    run.propose("ENG-KES-US", "kestrel-us", us, won)
    yield date(2026, 2, 16)
    run.sign(
        "ENG-KES-EU",
        _contract(eu, "kestrel-fr", ref.FR_ENTITY, "EUR", "Lab analytics programme"),
        [ref.KESTREL_PHASES],
        "SOW",
        "three phased fixed-fee milestones (45,000.00 + 60,000.00 + 75,000.00 EUR), French VAT",
    )
    run.sign(
        "ENG-KES-US",
        _contract(us, "kestrel-us", ref.US_ENTITY, "USD", "Managed analytics service"),
        [ref.KESTREL_MANAGED],
        "Service order",
        "managed service at 12,500.00 USD a month from 16 March 2026, billed monthly in advance",
    )

    yield date(2026, 3, 2)
    (usd_march,) = run.bill(Period.month(2026, 3), [eu, us])
    yield date(2026, 3, 12)
    run.milestone("KES-P1", "assessment report and roadmap delivered")
    yield date(2026, 3, 13)
    run.accept("KES-P1", KESTREL_SPONSOR)
    yield date(2026, 3, 31)
    run.pay(usd_march)
    run.account_status()

    yield date(2026, 4, 1)
    april = run.bill(Period.month(2026, 4), [eu, us])
    eur_p1, usd_april = sorted(april, key=lambda i: i.gross.currency.code)
    yield date(2026, 4, 23)
    run.milestone("KES-P2", "solution design signed by the Kestrel architecture board")
    yield date(2026, 4, 24)
    run.accept("KES-P2", KESTREL_SPONSOR)
    yield date(2026, 4, 29)
    run.pay(eur_p1)
    yield date(2026, 4, 30)
    run.pay(usd_april)
    run.account_status()

    yield date(2026, 5, 1)
    may = run.bill(Period.month(2026, 5), [eu, us])
    eur_p2 = next(i for i in may if i.gross.currency.code == "EUR")
    yield date(2026, 5, 28)
    run.milestone("KES-P3", "platform live in the Lyon and Basel labs")
    yield date(2026, 5, 29)
    run.pay(eur_p2, Decimal("40000.00"), payer="Kestrel Pharma France SAS (part)")
    run.account_status()


# Scenario 3: blocked setup ----------------------------------------------------------------


def verhaegen(run: ScenarioRun) -> Iterator[date]:
    eng, contract = "ENG-VER-01", "C-VER-2026-01"
    yield date(2026, 3, 2)
    run.propose(eng, "verhaegen", contract, "Closed-won in the CRM: Verhaegen Logistics NV")
    yield date(2026, 3, 4)
    blocked = run.sign(
        eng,
        _contract(contract, "verhaegen", ref.FR_ENTITY, "EUR", "Warehouse network study"),
        [ref.VERHAEGEN_STUDY],
        "SOW",
        "time and materials on the France regional rate card, not to exceed 60 hours (hours "
        "above the cap are held)",
    )
    if blocked is None:
        raise RuntimeError("the Verhaegen setup should have been blocked")
    yield date(2026, 3, 6)
    run.bill(Period.month(2026, 3), [contract], dry_run=True)
    early = [
        Work("S3-T01", MANAGER, date(2026, 3, 9), "7"),
        Work("S3-T02", CONSULTANT, date(2026, 3, 10), "8"),
    ]
    for work in early:
        yield work.day
        run.time(eng, ref.STUDY, [work], "March")
    yield date(2026, 3, 11)
    run.fix_customer_master(
        VERHAEGEN_FIXED,
        "Finance validates Verhaegen's Belgian VAT number and adds the missing tax profile in "
        f"the ERP: {ref.REVERSE_CHARGE}, reverse charged (intra-EU B2B services)",
    )
    run.replay(blocked, eng)
    run.time(eng, ref.STUDY, early, "replay of the time refused during the block")
    yield date(2026, 3, 30)
    run.time(
        eng,
        ref.STUDY,
        [
            Work("S3-T03", SENIOR, date(2026, 3, 16), "7.5"),
            Work("S3-T04", CONSULTANT, date(2026, 3, 17), "8"),
            Work("S3-T05", SENIOR, date(2026, 3, 24), "6.25"),
            Work("S3-T06", PARTNER, date(2026, 3, 30), "2"),
        ],
        "March",
    )
    yield date(2026, 3, 31)
    (first,) = run.bill(Period.month(2026, 3), [contract])

    yield date(2026, 4, 10)
    run.time(
        eng,
        ref.STUDY,
        [
            Work("S3-T07", SENIOR, date(2026, 4, 2), "8"),
            Work("S3-T08", CONSULTANT, date(2026, 4, 3), "7.5"),
            Work("S3-T09", SENIOR, date(2026, 4, 7), "8"),
        ],
        "April",
    )
    yield date(2026, 4, 24)
    run.pay(first)
    yield date(2026, 4, 30)
    run.bill(Period.month(2026, 4), [contract])


# Scenario 4: retainer with rollover, overage and expiry -----------------------------------

RETAINER_USAGE = {
    1: ["8", "7.5", "6.5", "8", "4"],  # 34 h
    2: ["8", "8", "7", "7.5", "7.5"],  # 38 h
    3: ["8", "8", "8", "7.5", "8", "7.5", "8"],  # 55 h: the overage month
    4: ["8", "8", "8"],  # 24 h
    5: ["6"],  # 6 h
    6: ["3"],  # 3 h
}
RETAINER_RUN_DAYS = {1: 2, 2: 2, 3: 2, 4: 1, 5: 4, 6: 1}


def bellerive(run: ScenarioRun) -> Iterator[date]:
    eng, contract = "ENG-BEL-01", "C-BEL-2026-01"
    yield date(2025, 12, 8)
    run.propose(eng, "bellerive", contract, "Closed-won in the CRM: Bellerive Hotels SAS")
    yield date(2025, 12, 15)
    run.sign(
        eng,
        _contract(contract, "bellerive", ref.FR_ENTITY, "EUR", "Digital advisory retainer"),
        [ref.BELLERIVE_RETAINER],
        "SOW",
        "6,000.00 EUR a month in advance for 40 hours, up to 20 unused hours roll over for "
        "two months, overage at 170.00 EUR/h billed in arrears",
    )
    for month, hours in RETAINER_USAGE.items():
        period = Period.month(2026, month)
        yield date(2026, month, RETAINER_RUN_DAYS[month])
        (invoice,) = run.bill(period, [contract])
        work = [
            Work(f"S4-{month:02d}{n:02d}", ADVISOR, date(2026, month, 5 + 3 * (n - 1)), h)
            for n, h in enumerate(hours, 1)
        ]
        approved_on = work[-1].day
        paid_on = date(2026, month, 15) if month < 6 else None  # June's fee is still open
        if paid_on is not None and paid_on < approved_on:
            yield paid_on
            run.pay(invoice)
        yield approved_on
        run.time(eng, ref.RETAINER, work, f"retainer, {period.key}")
        if paid_on is not None and paid_on >= approved_on:
            yield paid_on
            run.pay(invoice)


SCRIPTS: tuple[tuple[int, str, str, Script], ...] = (
    (
        1,
        "Global transformation program",
        "Lumiere Retail Group SA buys a 400,000.00 EUR fixed-fee program billed by four "
        "milestones with a 10 % holdback, plus a T&M change request with 20 % French VAT; it "
        "disputes the March invoice, and a partial credit memo resolves the dispute.",
        lumiere,
    ),
    (
        2,
        "Multi-country engagement",
        "Kestrel Pharma buys phased fixed-fee milestones in EUR from the French company and a "
        "managed service in USD from the US company; payments flow back to the CRM account.",
        kestrel,
    ),
    (
        3,
        "Blocked setup",
        "Verhaegen Logistics NV signs a T&M study, but the ERP has no tax profile for it: the "
        "setup lands in the exception queue, time logged meanwhile is refused, finance fixes "
        "the master data, a replay finishes the setup and the refused time is accepted.",
        verhaegen,
    ),
    (
        4,
        "Retainer",
        "Bellerive Hotels SAS keeps a 40-hour monthly retainer with rollover of up to 20 hours "
        "for two months; March runs over, May and June lose hours to breakage.",
        bellerive,
    ),
)

#: The demo's clock starts here; the firm's months close from January to June 2026.
DEMO_START = datetime(2025, 12, 1, 9, tzinfo=UTC)
MONTH_ENDS = tuple(Period.month(2026, month) for month in range(1, 7))
