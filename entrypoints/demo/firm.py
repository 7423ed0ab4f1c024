"""The firm the four reference scenarios share: Halden & Rowe, a consulting firm with a French
company (EUR, French VAT) and a US company (USD), its people, its tax rates, its French rate
card, and its customers as the ERP's master holds them when the demo starts.

Plain data: dates, people, figures and ids are fixed, so the demo is the same every time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from application.customer_master import PostalAddress
from application.ports import CustomerRecord
from domain.ids import CustomerId, LegalEntityId, RateCardId, ResourceId, Role
from domain.money import Currency
from domain.period import Period
from domain.tax import TaxRate, TaxRateTable
from entrypoints.demo.steps import Consultant

EUR = Currency.of("EUR")
USD = Currency.of("USD")

FR_ENTITY = LegalEntityId("HR-FR")  # Halden & Rowe Conseil SAS, Paris
US_ENTITY = LegalEntityId("HR-US")  # Halden & Rowe Consulting Inc., Boston

FR_VAT = "FR-VAT-20"
REVERSE_CHARGE = "VAT-AE"
US_NO_TAX = "US-NOTAX"
REVERSE_CHARGE_NOTE = (
    "Reverse charge: VAT to be accounted for by the recipient "
    "(Article 196, Council Directive 2006/112/EC)"
)
TAX_RATES = TaxRateTable(
    (
        TaxRate(FR_VAT, date(2014, 1, 1), Decimal("0.20")),
        TaxRate(REVERSE_CHARGE, date(2014, 1, 1), Decimal("0")),
        TaxRate(US_NO_TAX, date(2014, 1, 1), Decimal("0")),
    )
)

# People. Who drafts a document never approves it (maker-checker).
SALES = "n.hughes"  # account executive (CRM)
LEGAL = "j.moreau"  # contract manager (CLM)
SETUP = "setup-orchestrator"  # the integration job that provisions engagements
MASTER_DATA = "n.bernard"  # finance master data (ERP)
ENGAGEMENT_MANAGER = "c.dubois"  # approves time, completes milestones
BILLING_CLERK = "s.laurent"  # drafts invoices
AR_CLERK = "a.petit"  # accounts receivable: disputes, credit memos, cash
CONTROLLER = "m.girard"  # approves invoices and credit memos, closes periods
TIME_APP = "time-capture"

PARTNER = Consultant(ResourceId("plefevre"), "Paul Lefevre", Role("partner"))
MANAGER = Consultant(ResourceId("cdubois"), "Claire Dubois", Role("senior manager"))
SENIOR = Consultant(ResourceId("hmartin"), "Hugo Martin", Role("senior consultant"))
CONSULTANT = Consultant(ResourceId("imoreau"), "Ines Moreau", Role("consultant"))
ADVISOR = Consultant(ResourceId("lrousseau"), "Lea Rousseau", Role("senior consultant"))

FR_RATE_CARD = RateCardId("RC-FR-2026")
FR_RATE_CARD_NAME = "France regional rate card 2026"
FR_RATES_FROM = date(2026, 1, 1)
FR_RATES = {"partner": 320, "senior manager": 250, "senior consultant": 180, "consultant": 135}

#: The demo's clock starts here; the firm's months close from January to June 2026.
DEMO_START = datetime(2025, 12, 1, 9, tzinfo=UTC)
MONTH_ENDS = tuple(Period.month(2026, month) for month in range(1, 7))


def _record(
    customer: str,
    entity: LegalEntityId,
    name: str,
    currency: str,
    tax_code: str | None,
    address: str,
    *,
    reverse_charge: bool = False,
    legal_note: str = "",
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
        legal_note=legal_note,
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
    _record("lumiere-retail", FR_ENTITY, "Lumiere Retail Group SA", "EUR", FR_VAT,
            "12 rue de Rivoli, 75004 Paris, France"),
    _record("kestrel-fr", FR_ENTITY, "Kestrel Pharma France SAS", "EUR", FR_VAT,
            "8 quai Rambaud, 69002 Lyon, France"),
    _record("kestrel-us", US_ENTITY, "Kestrel Pharma Inc.", "USD", US_NO_TAX,
            "200 Binney Street, Cambridge MA 02142, USA"),
    _record("verhaegen", FR_ENTITY, "Verhaegen Logistics NV", "EUR", None,
            "Noorderlaan 120, 2030 Antwerpen, Belgium"),
    _record("bellerive", FR_ENTITY, "Bellerive Hotels SAS", "EUR", FR_VAT,
            "4 avenue d'Albigny, 74000 Annecy, France"),
)  # fmt: skip

#: Verhaegen's record once finance has validated its Belgian VAT number (scenario 3).
VERHAEGEN_FIXED = _record(
    "verhaegen",
    FR_ENTITY,
    "Verhaegen Logistics NV",
    "EUR",
    REVERSE_CHARGE,
    "Noorderlaan 120, 2030 Antwerpen, Belgium",
    reverse_charge=True,
    legal_note=REVERSE_CHARGE_NOTE,
)
