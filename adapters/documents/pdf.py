"""The printable invoice or credit note: one PDF per issued document, drawn with fpdf2 from the
document view every rendition shares (ADR 0038).

One A4 document: the seller and the buyer with their addresses and VAT ids; the number, issue
date, due date, payment terms, contract, project and period; the lines grouped under a heading
per obligation, and under a time line the time entries behind it (date, person, role, hours,
rate, value); the tax breakdown per tax code; net, tax and gross. A credit note is titled
"Credit note" and names the invoice it credits. Tables that run over a page repeat their
header; every page says "Page X of Y".

The renderer formats the view's figures and computes none of its own. The same view renders
the same bytes: the PDF's creation date is the issue date and its producer is fixed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, time
from typing import Final

from adapters.documents.pdf_sheet import FONT, MARGIN, Sheet, block, facts, heading, table
from adapters.documents.pdf_text import (
    TRANSLITERATED,
    amount_text,
    date_text,
    exact_text,
    money_text,
    printable,
    quantity_text,
    rate_text,
    unit_text,
)
from application.customer_master import PostalAddress
from application.document_view import (
    DocumentType,
    DocumentView,
    Party,
    VatBreakdown,
    VatCategory,
    ViewLine,
)

PRODUCER: Final = "Throughline"

CATEGORY_NAMES: Final = {
    VatCategory.STANDARD: "Standard rate",
    VatCategory.ZERO_RATED: "Zero rated",
    VatCategory.EXEMPT: "Exempt",
    VatCategory.REVERSE_CHARGE: "Reverse charge",
    VatCategory.NOT_SUBJECT: "Not subject to VAT",
}


def title_of(document: DocumentView) -> str:
    """What the document calls itself: Invoice, Debit note or Credit note."""
    if document.document_type is DocumentType.CREDIT_NOTE:
        return "Credit note"
    return "Debit note" if document.source_kind == "debit_memo" else "Invoice"


def render_pdf(document: DocumentView) -> bytes:
    """The document as a PDF a customer can read; the same view gives the same bytes."""
    title = title_of(document)
    pdf = Sheet(printable(f"{title} {document.number} ({document.seller.legal_name})"))
    pdf.set_creation_date(datetime.combine(document.issue_date, time(0), tzinfo=UTC))
    pdf.set_producer(PRODUCER)
    pdf.set_creator(PRODUCER)
    pdf.set_title(printable(f"{title} {document.number}"))
    pdf.set_author(printable(document.seller.legal_name))
    pdf.set_lang("en")
    pdf.add_page()
    _parties(pdf, document, title)
    _references(pdf, document)
    for label, lines in _by_obligation(document.lines):
        _obligation(pdf, document, label, lines)
    _tax_breakdown(pdf, document)
    _totals(pdf, document)
    _closing(pdf, document)
    return bytes(pdf.output())


def _party_lines(pdf: Sheet, party: Party) -> list[str]:
    lines = [*_address_lines(party.address)]
    if party.vat_id:
        lines.append(f"VAT id {party.vat_id}")
    if party.registration_id:
        lines.append(f"Registration {party.registration_id}")
    if party.electronic_address:
        lines.append(party.electronic_address)
    return [pdf.say(line) for line in lines]


def _address_lines(address: PostalAddress | None) -> list[str]:
    if address is None:
        return []
    city = f"{address.postal_code} {address.city}".strip()
    return [*address.lines, city, address.country]


def _parties(pdf: Sheet, document: DocumentView, title: str) -> None:
    top = pdf.get_y()
    seller = pdf.say(document.seller.legal_name)
    seller_end = block(pdf, MARGIN, top, 95, seller, _party_lines(pdf, document.seller))
    pdf.set_xy(120, top)
    pdf.set_font(FONT, "B", 18)
    pdf.cell(0, 9, title, new_x="LEFT", new_y="NEXT")
    summary = [
        ("Number", pdf.say(document.number)),
        ("Issue date", date_text(document.issue_date)),
    ]
    if document.due_date is not None:
        summary.append(("Due date", date_text(document.due_date)))
    summary.append(("Currency", document.currency.code))
    facts_end = facts(pdf, 120, pdf.get_y() + 1, summary)
    top = max(seller_end, facts_end) + 6
    pdf.set_xy(MARGIN, top)
    pdf.set_font(FONT, "", 8)
    pdf.cell(95, 4, "Bill to", new_x="LEFT", new_y="NEXT")
    buyer = pdf.say(document.buyer.legal_name)
    buyer_end = block(pdf, MARGIN, pdf.get_y(), 95, buyer, _party_lines(pdf, document.buyer))
    project = " / ".join(pdf.say(p) for p in (document.engagement_id, document.project_code) if p)
    period = f"{date_text(document.period.start)} to {date_text(document.period.end)}"
    refs = [("Contract", pdf.say(document.contract_id))]
    if project:
        refs.append(("Project", project))
    refs.append(("Period", period))
    refs.append(("Customer", pdf.say(document.customer_id)))
    refs_end = facts(pdf, 120, top + 4, refs)
    pdf.set_xy(MARGIN, max(buyer_end, refs_end) + 4)


def _references(pdf: Sheet, document: DocumentView) -> None:
    pdf.set_font(FONT, "", 9)
    if document.preceding is not None:
        pdf.set_font(FONT, "B", 9)
        verb = (
            "Credits invoice"
            if document.document_type is DocumentType.CREDIT_NOTE
            else "Adjusts invoice"
        )
        text = f"{verb} {document.preceding.number} of {date_text(document.preceding.issue_date)}"
        pdf.multi_cell(0, 5, pdf.say(text), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FONT, "", 9)
    if document.credit_reason:
        pdf.multi_cell(
            0, 5, pdf.say(f"Reason: {document.credit_reason}"), new_x="LMARGIN", new_y="NEXT"
        )
    if document.payment_terms:
        pdf.multi_cell(
            0, 5, pdf.say(f"Payment terms: {document.payment_terms}"), new_x="LMARGIN", new_y="NEXT"
        )
    pdf.ln(3)


def _by_obligation(lines: Iterable[ViewLine]) -> list[tuple[str, list[ViewLine]]]:
    """The lines grouped by obligation, groups in the order their first line comes."""
    groups: dict[str, tuple[str, list[ViewLine]]] = {}
    for line in lines:
        groups.setdefault(line.obligation_id, (line.obligation_label, []))[1].append(line)
    return list(groups.values())


def _obligation(pdf: Sheet, document: DocumentView, label: str, lines: Sequence[ViewLine]) -> None:
    code = document.currency.code
    heading(pdf, pdf.say(label), 11, keep_with=18)
    table(
        pdf,
        ("No.", "Description", "Quantity", f"Unit price {code}", "Tax", f"Net {code}"),
        (9, 67, 22, 28, 26, 28),
        ("LEFT", "LEFT", "RIGHT", "RIGHT", "LEFT", "RIGHT"),
        (_line_row(pdf, line) for line in lines),
    )
    for line in lines:
        if line.time_details:
            _time_details(pdf, document, line)
        if line.other_details:
            _other_details(pdf, document, line)


def _line_row(pdf: Sheet, line: ViewLine) -> tuple[str, ...]:
    description = line.description
    if line.service_period is not None:
        start, end = line.service_period.start, line.service_period.end
        description += f" ({date_text(start)} to {date_text(end)})"
    if line.credits_line is not None:
        description += f" - credits line {line.credits_line}"
    return (
        str(line.line_no),
        pdf.say(description),
        f"{quantity_text(line.quantity)} {unit_text(line.unit_code)}",
        exact_text(line.unit_price),
        pdf.say(line.tax_code),
        amount_text(line.net),
    )


def _time_details(pdf: Sheet, document: DocumentView, line: ViewLine) -> None:
    code = document.currency.code
    heading(pdf, f"Time behind line {line.line_no}", 9, keep_with=14)
    table(
        pdf,
        ("Date", "Person", "Role", "Hours", f"Rate {code}", f"Value {code}"),
        (22, 46, 44, 16, 26, 26),
        ("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"),
        (
            (
                date_text(t.work_date),
                pdf.say(t.person),
                pdf.say(t.role),
                quantity_text(t.hours),
                exact_text(t.rate),
                exact_text(t.amount),
            )
            for t in line.time_details
        ),
        size=8,
    )


def _other_details(pdf: Sheet, document: DocumentView, line: ViewLine) -> None:
    code = document.currency.code
    heading(pdf, f"Items behind line {line.line_no}", 9, keep_with=14)
    table(
        pdf,
        ("Item", "Reference", "Quantity", f"Value {code}"),
        (30, 90, 24, 36),
        ("LEFT", "LEFT", "RIGHT", "RIGHT"),
        (
            (pdf.say(d.kind), pdf.say(d.source_id), quantity_text(d.quantity), exact_text(d.amount))
            for d in line.other_details
        ),
        size=8,
    )


def _tax_row(pdf: Sheet, tax: VatBreakdown) -> tuple[str, ...]:
    return (
        pdf.say(tax.tax_code),
        CATEGORY_NAMES.get(tax.category, tax.category.value),
        rate_text(tax.rate),
        amount_text(tax.base),
        amount_text(tax.amount),
        pdf.say(tax.exemption_reason),
    )


def _tax_breakdown(pdf: Sheet, document: DocumentView) -> None:
    code = document.currency.code
    heading(pdf, "Tax", 11, keep_with=18)
    table(
        pdf,
        ("Tax code", "Category", "Rate", f"Base {code}", f"Tax {code}", "Note"),
        (22, 30, 14, 30, 28, 56),
        ("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "LEFT"),
        (_tax_row(pdf, tax) for tax in document.vat_breakdown),
    )


def _totals(pdf: Sheet, document: DocumentView) -> None:
    rows = [("Net", document.net), ("Tax", document.tax)]
    if document.document_type is DocumentType.CREDIT_NOTE:
        rows.append(("Total credited", document.gross))
    else:
        rows += [("Total", document.gross), ("Paid", document.paid)]
        for label, taken in (
            ("Credited", document.credited),
            ("Written off", document.written_off),
        ):
            if taken is not None and not taken.is_zero():
                rows.append((label, taken))
        rows.append(("Amount due", document.amount_due))
    if pdf.will_page_break(6 * len(rows) + 4):
        pdf.add_page()
    pdf.ln(2)
    for label, money in rows:
        bold = label in {"Total", "Total credited", "Amount due"}
        pdf.set_x(110)
        pdf.set_font(FONT, "B" if bold else "", 10)
        pdf.cell(40, 6, label)
        pdf.cell(0, 6, money_text(money), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _closing(pdf: Sheet, document: DocumentView) -> None:
    pdf.set_font(FONT, "", 9)
    for note in document.notes:
        if note == document.credit_reason:
            continue  # printed as the reason, under the credited invoice
        pdf.multi_cell(0, 5, pdf.say(note), new_x="LMARGIN", new_y="NEXT")
    account = document.payment_account
    if account is not None and document.document_type is DocumentType.INVOICE:
        kind = "IBAN" if account.is_iban else "Account"
        text = f"Pay to {kind} {account.account_id}"
        if account.bic:
            text += f", BIC {account.bic}"
        if account.account_name:
            text += f", {account.account_name}"
        text += f", quoting {document.number}."
        pdf.multi_cell(0, 5, pdf.say(text), new_x="LMARGIN", new_y="NEXT")
    if pdf.transliterated:
        pdf.ln(2)
        pdf.set_font(FONT, "I", 8)
        pdf.multi_cell(
            0,
            4,
            f"{TRANSLITERATED} Spelled here in Latin letters; the e-invoice (UBL) of this "
            "document carries the exact spelling.",
            new_x="LMARGIN",
            new_y="NEXT",
        )
