"""The page the printable document is drawn on: A4 with fpdf2's core Helvetica (ADR 0038), a
running header from the second page on, "Page X of Y" in the footer, and the few drawing moves
the layout uses (a block of lines, label-value facts, a heading kept with what follows it, a
table whose header repeats on every page it runs onto)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from fpdf import FPDF
from fpdf.fonts import FontFace

from adapters.documents.pdf_text import printable, was_transliterated

FONT: Final = "Helvetica"
MARGIN: Final = 15.0
HEADING_STYLE: Final = FontFace(emphasis="BOLD", fill_color=(232, 232, 232))


class Sheet(FPDF):
    """An A4 page with the document's running header and "Page X of Y" footer."""

    def __init__(self, running_title: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.running_title = running_title
        self.transliterated = False
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=20)
        self.alias_nb_pages()

    def say(self, text: str) -> str:
        """Text as the page can print it; remembers that a spelling was changed."""
        if was_transliterated(text):
            self.transliterated = True
        return printable(text)

    def header(self) -> None:
        if self.page_no() > 1:
            self.set_font(FONT, "", 8)
            self.cell(0, 5, self.running_title, new_x="LMARGIN", new_y="NEXT")
            self.ln(2)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(FONT, "", 8)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="C")


def block(pdf: Sheet, x: float, y: float, width: float, head: str, lines: Sequence[str]) -> float:
    """A name in bold over its lines, at (x, y); answers where it ends."""
    pdf.set_xy(x, y)
    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(width, 5, head, new_x="LEFT", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    for line in lines:
        pdf.multi_cell(width, 4.5, line, new_x="LEFT", new_y="NEXT")
    return pdf.get_y()


def facts(pdf: Sheet, x: float, y: float, rows: Sequence[tuple[str, str]]) -> float:
    """Label and value pairs in two columns, at (x, y); answers where they end."""
    pdf.set_xy(x, y)
    for label, value in rows:
        pdf.set_x(x)
        pdf.set_font(FONT, "", 9)
        pdf.cell(30, 5, label)
        pdf.set_font(FONT, "B", 9)
        pdf.multi_cell(0, 5, value, new_x="LMARGIN", new_y="NEXT")
    return pdf.get_y()


def heading(pdf: Sheet, text: str, size: float, keep_with: float) -> None:
    """A heading that starts a new page rather than stand alone at the foot of one."""
    if pdf.will_page_break(6 + keep_with):
        pdf.add_page()
    pdf.set_font(FONT, "B", size)
    pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")


def table(
    pdf: Sheet,
    head: Sequence[str],
    widths: Sequence[float],
    align: Sequence[str],
    rows: Iterable[Sequence[str]],
    size: float = 9,
) -> None:
    """A table whose header comes again at the top of every page it runs onto."""
    pdf.set_font(FONT, "", size)
    with pdf.table(
        col_widths=tuple(widths),
        text_align=tuple(align),
        headings_style=HEADING_STYLE,
        borders_layout="HORIZONTAL_LINES",
        line_height=pdf.font_size * 1.7,
        repeat_headings=1,
        padding=(0.5, 1),
    ) as grid:
        grid.row(list(head))
        for row in rows:
            grid.row(list(row))
    pdf.ln(2)
