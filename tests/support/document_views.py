"""Hand-built document views for the renditions' tests: every figure chosen by hand and
consistent the way the guide states (Σ line nets = net, tax per code = round(base x rate),
gross = net + tax)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import attrs

from application import document_view as view
from application.customer_master import PostalAddress
from domain.money import Currency, Money
from domain.period import Period

MARCH = Period.month(2026, 3)

SELLER = view.Party(
    "northwind-consulting-gmbh",
    "Northwind Consulting GmbH",
    PostalAddress(("Hafenstrasse 12",), "Hamburg", "20457", "DE"),
    vat_id="DE123456789",
    registration_id="HRB 98765",
)
BUYER = view.Party(
    "acme",
    "Acme Manufacturing AG",
    PostalAddress(("Industrieweg 4", "Gebäude C"), "Köln", "50667", "DE"),
    vat_id="DE987654321",
)


def money(amount: str, code: str = "EUR") -> Money:
    return Money.of(amount, code)


@attrs.frozen
class Tax:
    """How a line is taxed: its code, its VAT category and its rate."""

    code: str
    category: view.VatCategory
    rate: str


STANDARD = Tax("VAT20", view.VatCategory.STANDARD, "0.20")
REDUCED = Tax("VAT7", view.VatCategory.STANDARD, "0.07")
REVERSE_CHARGE = Tax("RC", view.VatCategory.REVERSE_CHARGE, "0")
EXEMPT = Tax("EX", view.VatCategory.EXEMPT, "0")

CHANGE_REQUEST = ("tm-change-request", "Change request CR-7 (time and materials)")
PROGRAM = ("ff-program", "Transformation program (fixed fee)")


def time_line(
    line_no: int,
    entries: list[tuple[date, str, str, str, str]],
    code: str = "EUR",
    tax: Tax = STANDARD,
    obligation: tuple[str, str] = CHANGE_REQUEST,
) -> view.ViewLine:
    """A T&M line billing its time entries (date, person, role, hours, rate) at one rate."""
    details = tuple(
        view.TimeDetail(
            f"te-{line_no}-{n}",
            day,
            person,
            role,
            Decimal(hours),
            money(price, code),
            money(price, code).times(Decimal(hours)),
        )
        for n, (day, person, role, hours, price) in enumerate(entries, 1)
    )
    hours = sum((d.hours for d in details), Decimal(0))
    value = sum((d.amount.amount for d in details), Decimal(0))
    unit = details[0].rate
    return view.ViewLine(
        line_no,
        obligation[0],
        obligation[1],
        "time",
        f"{details[0].role} time, March 2026",
        hours,
        "HUR",
        unit,
        Money(value, unit.currency).quantized(),
        tax.code,
        tax.category,
        Decimal(tax.rate),
        MARCH,
        time_details=details,
    )


def fixed_line(
    line_no: int,
    description: str,
    price: str,
    code: str = "EUR",
    tax: Tax = STANDARD,
    obligation: tuple[str, str] = PROGRAM,
) -> view.ViewLine:
    """One unit of a milestone, an installment or a fee, with the item it billed."""
    amount = money(price, code)
    return view.ViewLine(
        line_no,
        obligation[0],
        obligation[1],
        "milestone",
        description,
        Decimal(1),
        "C62",
        amount,
        amount,
        tax.code,
        tax.category,
        Decimal(tax.rate),
        None,
        other_details=(view.SourceDetail("milestone", f"ms-{line_no}", Decimal(1), amount),),
    )


def breakdown(
    lines: tuple[view.ViewLine, ...], reasons: dict[str, str] | None = None
) -> tuple[view.VatBreakdown, ...]:
    """Tax per code over the lines, rounded half-up per code."""
    codes: dict[str, list[view.ViewLine]] = {}
    for line in lines:
        codes.setdefault(line.tax_code, []).append(line)
    out = []
    for code, taxed in codes.items():
        currency = taxed[0].net.currency
        base = Money(sum((t.net.amount for t in taxed), Decimal(0)), currency)
        tax = base.times(taxed[0].vat_rate).quantized()
        reason = (reasons or {}).get(code, "")
        out.append(
            view.VatBreakdown(code, taxed[0].vat_category, taxed[0].vat_rate, base, tax, reason)
        )
    return tuple(out)


def document(
    lines: tuple[view.ViewLine, ...],
    code: str = "EUR",
    number: str = "NW-2026-0042",
    reasons: dict[str, str] | None = None,
    buyer: view.Party = BUYER,
    credit_of: view.PrecedingInvoice | None = None,
    notes: tuple[str, ...] = (),
) -> view.DocumentView:
    """An issued invoice (or, given the invoice it credits, a credit note) over the lines."""
    currency = Currency.of(code)
    taxes = breakdown(lines, reasons)
    net = Money(sum((t.base.amount for t in taxes), Decimal(0)), currency)
    tax = Money(sum((t.amount.amount for t in taxes), Decimal(0)), currency)
    issued = date(2026, 4, 2)
    credit = credit_of is not None
    return view.DocumentView(
        view.DocumentType.CREDIT_NOTE if credit else view.DocumentType.INVOICE,
        "CM-000003" if credit else "INV-000042",
        number,
        issued,
        None if credit else issued + timedelta(days=30),
        "" if credit else "Payment due within 30 days of the invoice date.",
        currency,
        SELLER,
        buyer,
        lines,
        taxes,
        net,
        tax,
        net + tax,
        Money.zero(currency),
        Money.zero(currency) if credit else net + tax,
        "ctr-global-transformation",
        MARCH,
        "acme",
        "northwind-de",
        engagement_id="eng-global-transformation",
        project_code="PRJ-4711",
        payment_account=view.BankAccount("DE89370400440532013000", True, "COBADEFFXXX"),
        notes=notes,
        preceding=credit_of,
        credit_reason="Milestone 2 disputed: partial credit agreed" if credit else "",
        source_kind="credit_memo" if credit else "invoice",
    )


def entries(count: int, start: date = date(2026, 3, 2)) -> list[tuple[date, str, str, str, str]]:
    """`count` time entries over March, by two people at two rates."""
    people = [
        ("Dana Whitfield", "Senior consultant", "150.00"),
        ("Omar Reyes", "Analyst", "95.50"),
    ]
    out = []
    for n in range(count):
        person, role, rate = people[n % 2]
        hours = ["7.5", "8", "4.25", "6"][n % 4]
        out.append((start + timedelta(days=n % 28), person, role, hours, rate))
    return out


def eur_with_vat() -> view.DocumentView:
    """Time and a milestone under German VAT at 20 % and 7 %."""
    lines = (
        time_line(1, entries(3)),
        fixed_line(2, "Milestone 1: discovery accepted", "12345.67"),
        fixed_line(3, "Training material", "800.00", tax=REDUCED),
    )
    return document(lines)


#: Per currency: the number, the tax code at 10 %, one time entry, and a fixed line (text,
#: amount). Yen has no minor digits anywhere; the Bahraini dinar has three, and a unit price
#: uses them all.
ONE_TAX_RATE: dict[str, tuple[str, str, tuple[date, str, str, str, str], tuple[str, str]]] = {
    "JPY": (
        "NW-JP-0007",
        "JP10",
        (date(2026, 3, 3), "Sato Haruki", "Architect", "7.5", "18000"),
        ("Managed service fee, March", "1250000"),
    ),
    "BHD": (
        "NW-BH-0003",
        "BH10",
        (date(2026, 3, 4), "Layla Haddad", "Consultant", "6", "45.125"),
        ("Phase 1 installment", "1234.567"),
    ),
}


def one_tax_rate_invoice(code: str) -> view.DocumentView:
    """The `ONE_TAX_RATE` document in `code`: a time line and a fixed line, both taxed at 10 %."""
    number, tax_code, entry, fixed = ONE_TAX_RATE[code]
    tax = Tax(tax_code, view.VatCategory.STANDARD, "0.10")
    lines = (
        time_line(1, [entry], code, tax),
        fixed_line(2, *fixed, code, tax),
    )
    return document(lines, code=code, number=number)


def jpy_invoice() -> view.DocumentView:
    """Yen: no minor digits anywhere."""
    return one_tax_rate_invoice("JPY")


def bhd_invoice() -> view.DocumentView:
    """Bahraini dinar: three minor digits, a unit price with them all."""
    return one_tax_rate_invoice("BHD")


REVERSE_CHARGE_NOTE = (
    "Reverse charge: VAT to be accounted for by the recipient (Article 196 VAT Directive)."
)


def reverse_charge_invoice() -> view.DocumentView:
    """A buyer in another member state: no VAT charged, the legal note printed."""
    lines = (time_line(1, entries(2), tax=REVERSE_CHARGE),)
    return document(
        lines,
        reasons={"RC": REVERSE_CHARGE_NOTE},
        notes=(REVERSE_CHARGE_NOTE,),
        buyer=view.Party(
            "acme-fr",
            "Acme France SAS",
            PostalAddress(("12 rue de la Paix",), "Paris", "75002", "FR"),
            vat_id="FR40303265045",
        ),
    )


EXEMPT_REASON = "Exempt: training services under Article 132(1)(i) VAT Directive."


def exempt_invoice() -> view.DocumentView:
    """An exempt training line beside a standard-rated one."""
    lines = (
        fixed_line(1, "Accredited training course", "2400.00", tax=EXEMPT),
        fixed_line(2, "Course material", "150.00"),
    )
    return document(lines, reasons={"EX": EXEMPT_REASON})


def credit_note() -> view.DocumentView:
    """A partial credit of an invoice's milestone line."""
    line = fixed_line(1, "Credit: milestone 2 (disputed part)", "2000.00")
    credited = attrs.evolve(line, credits_line=2)
    return document(
        (credited,),
        number="NW-CN-2026-0003",
        credit_of=view.PrecedingInvoice("INV-000041", "NW-2026-0041", date(2026, 3, 2)),
    )


def long_time_invoice(count: int = 300) -> view.DocumentView:
    """One T&M line billing `count` time entries: many pages."""
    return document((time_line(1, entries(count)),), number="NW-2026-0300")


def latin_extended_invoice() -> view.DocumentView:
    """A buyer whose legal name and address are outside Latin-1."""
    buyer = view.Party(
        "lodz",
        "Zakład Usług Łódź Sp. z o.o.",
        PostalAddress(("ul. Piotrkowska 104",), "Łódź", "90-004", "PL"),
        vat_id="PL5260250274",
    )
    return document((fixed_line(1, "Milestone 1: discovery accepted", "5000.00"),), buyer=buyer)
