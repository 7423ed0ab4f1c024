"""The posted journal in the CSV layout ERPs import (ADR 0039): one row per journal line.

Columns, in this order (the README documents each):

    entry_id, line_no, posted_on, legal_entity_id, gl_account, posting_role, debit, credit,
    currency, description, memo, source_document, erp_document,
    customer_id, contract_id, engagement_id, obligation_id, project_code,
    then one column per dimension the charts of accounts add, by name

- `debit` and `credit` have exactly the currency's minor digits (`1440.00`, `1440` in JPY,
  `1.440` in BHD); the side a line does not move is left empty, so an importer never reads a
  zero amount as a line of its own.
- RFC 4180: comma-separated, CRLF line ends, a field quoted when it holds a comma, a quote or a
  line break, a quote inside doubled; UTF-8 without a byte-order mark; a header row.
- Safe to open in a spreadsheet: a text cell that begins with `=`, `+`, `-`, `@`, a tab or a
  carriage return is written with a leading apostrophe (`'=1+1`), so it is shown, never
  evaluated. Amounts and dates are never prefixed (they cannot begin with those).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from adapters.ledger_export import currency_of, minor_digits
from application.records import PostedEntry
from domain.chart_of_accounts import FIXED_DIMENSIONS

LINE_COLUMNS: tuple[str, ...] = (
    "entry_id",
    "line_no",
    "posted_on",
    "legal_entity_id",
    "gl_account",
    "posting_role",
    "debit",
    "credit",
    "currency",
    "description",
    "memo",
    "source_document",
    "erp_document",
)
#: The dimensions every line has a column for (the legal entity already has its own).
DIMENSION_COLUMNS: tuple[str, ...] = tuple(d for d in FIXED_DIMENSIONS if d != "legal_entity_id")

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMERIC = frozenset({"line_no", "posted_on", "debit", "credit", "currency"})


def defused(text: str) -> str:
    """A text cell a spreadsheet shows as text: a leading apostrophe where it would start a
    formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def columns_for(entries: Sequence[PostedEntry]) -> tuple[str, ...]:
    """The fixed columns, then the dimensions the charts add, by name."""
    extra = {
        name
        for posting in entries
        for line in posting.payload["lines"]
        for name in line["dimensions"]
        if name not in FIXED_DIMENSIONS
    }
    return (*LINE_COLUMNS, *DIMENSION_COLUMNS, *sorted(extra))


def _amount(text: str, currency: str, where: str) -> str:
    exact = minor_digits(text, currency_of(currency), where)
    return "" if exact.is_zero() else format(exact, "f")


def _rows(posting: PostedEntry) -> list[dict[str, Any]]:
    payload = posting.payload
    currency = payload["currency"]
    rows = []
    for line in payload["lines"]:
        where = f"journal entry {posting.entry_id}, line {line['line_no']}"
        row: dict[str, Any] = {
            "entry_id": posting.entry_id,
            "line_no": str(line["line_no"]),
            "posted_on": posting.posted_on.isoformat(),
            "legal_entity_id": posting.legal_entity_id,
            "gl_account": line["gl_account"],
            "posting_role": line["posting_role"],
            "debit": _amount(line["debit"], currency, where),
            "credit": _amount(line["credit"], currency, where),
            "currency": currency,
            "description": payload["description"],
            "memo": line["memo"],
            "source_document": posting.source_document,
            "erp_document": posting.erp_document or "",
        }
        for name, value in line["dimensions"].items():
            if name != "legal_entity_id":
                row[name] = value or ""
        rows.append({k: v if k in _NUMERIC else defused(v) for k, v in row.items()})
    return rows


def render_csv(entries: Sequence[PostedEntry]) -> str:
    """One row per journal line under a header row, RFC 4180, formula-safe."""
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(
        buffer, fieldnames=columns_for(entries), restval="", lineterminator="\r\n"
    )
    writer.writeheader()
    for posting in entries:
        writer.writerows(_rows(posting))
    return buffer.getvalue()
