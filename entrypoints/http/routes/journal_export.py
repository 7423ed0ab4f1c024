"""The posted journal as a file (ADR 0039).

- `GET /journal-entries/export?format=beancount|csv&from=YYYY-MM&to=YYYY-MM[&legal_entity_id=]`:
  the entries posted from the first to the last month (inclusive), for one legal entity or all,
  as a Beancount ledger (`text/plain; charset=utf-8`) or as the CSV ERPs import (`text/csv;
  charset=utf-8`), with a `Content-Disposition` file name. Whoever reads the journal
  (`journal:read`) may export it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    Example,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Schema,
)

from adapters.ledger_export.beancount_file import render_beancount
from adapters.ledger_export.journal_csv import render_csv
from application.journal_export import (
    EmptyExportRangeError,
    JournalExport,
    UnexportableJournalError,
)
from domain.errors import DomainError
from domain.period import Period
from entrypoints.http.problems import FieldError, Problem
from entrypoints.http.routes.common import ID_PATTERN, MONTH, documented, permission, query_param
from entrypoints.http.routes.journal import journal_query
from entrypoints.http.runtime import finance_of

MONTH_PATTERN = re.compile(MONTH)

#: The media type of each format (Litestar adds `; charset=utf-8` to text types).
MEDIA_TYPES = {"beancount": "text/plain", "csv": "text/csv"}
EXTENSIONS = {"beancount": "beancount", "csv": "csv"}

_BEANCOUNT_EXAMPLE = """\
; Throughline journal export 2026-03 HR-FR
option "title" "Throughline journal 2026-03 HR-FR"
option "operating_currency" "EUR"

2026-03-31 commodity EUR
2026-03-31 open Assets:HR-FR:411000 EUR
2026-03-31 open Liabilities:HR-FR:445710 EUR
2026-03-31 open Liabilities:HR-FR:487000 EUR

2026-03-31 * "Issue of invoice INV-2026-000001"
  entry_id: "JE-000001"
  source_document: "INV-2026-000001"
  legal_entity: "HR-FR"
  erp_document: "ERP-DOC-000001"
  Assets:HR-FR:411000  1440.00 EUR
    posting_role: "receivables"
    gl_account: "411000"
    customer_id: "acme"
  Liabilities:HR-FR:487000  -1200.00 EUR
    posting_role: "deferred_revenue"
    gl_account: "487000"
    customer_id: "acme"
  Liabilities:HR-FR:445710  -240.00 EUR
    posting_role: "tax_payable"
    gl_account: "445710"
    customer_id: "acme"
"""
_CSV_EXAMPLE = (
    "entry_id,line_no,posted_on,legal_entity_id,gl_account,posting_role,debit,credit,currency,"
    "description,memo,source_document,erp_document,customer_id,contract_id,engagement_id,"
    "obligation_id,project_code\r\n"
    "JE-000001,1,2026-03-31,HR-FR,411000,receivables,1440.00,,EUR,"
    "Issue of invoice INV-2026-000001,INV-2026-000001 gross,INV-2026-000001,ERP-DOC-000001,"
    "acme,C1,E1,,,\r\n"
)


Format = Annotated[
    str,
    journal_query(
        "format",
        r"^(beancount|csv)$",
        "The file: `beancount` (a Beancount ledger) or `csv` (one row per journal line).",
        "beancount",
        True,
    ),
]
# `from` and `to` are checked in the handler, so that a refusal points at `/query/from` and
# `/query/to` (Litestar's own check would name the Python parameters).
FirstMonth = Annotated[
    str,
    query_param(
        "from",
        "January 2026",
        "2026-01",
        required=True,
        description="The first month exported, YYYY-MM.",
    ),
]
LastMonth = Annotated[
    str,
    query_param(
        "to",
        "March 2026",
        "2026-03",
        required=True,
        description="The last month exported (inclusive), YYYY-MM.",
    ),
]


def _month(text: str, name: str) -> Period:
    """A `YYYY-MM` query parameter, or 400 pointing at it."""
    try:
        if MONTH_PATTERN.match(text):
            return Period.parse_month(text)
    except DomainError:
        pass
    detail = f"{text[:20]!r} is not a month; write it as YYYY-MM, e.g. 2026-03"
    raise Problem("validation-error", detail, errors=[FieldError(f"/query/{name}", detail)])


Entity = Annotated[
    str | None,
    journal_query("legal_entity_id", ID_PATTERN, "Only this legal entity's entries.", "HR-FR"),
]


def _answers() -> dict[int, ResponseSpec]:
    return {
        200: ResponseSpec(
            data_container=str,
            description="The export: a Beancount ledger, or CSV with a header row",
            media_type="text/plain; charset=utf-8",
            generate_examples=False,
            examples=[
                Example(summary="a Beancount ledger (format=beancount)", value=_BEANCOUNT_EXAMPLE)
            ],
        )
    }


@dataclass
class ExportOperation(Operation):
    """The export's operation: its 200 answer is documented in both media types, since the
    `format` parameter chooses between them."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse) and ok.content is not None:
            ok.content["text/csv; charset=utf-8"] = OpenAPIMediaType(
                schema=Schema(type=OpenAPIType.STRING),
                examples={
                    "csv": Example(
                        summary="CSV, one row per journal line (format=csv)", value=_CSV_EXAMPLE
                    )
                },
            )


@get(
    "/journal-entries/export",
    opt=permission("journal:read"),
    tags=["journal"],
    summary="The posted journal of a range of months as a Beancount ledger or as CSV",
    description=(
        "The entries posted from `from` to `to` (months, inclusive), optionally of one "
        "`legal_entity_id`, exactly as the ERP received them. `format=beancount`: a ledger "
        "`bean-check` accepts, accounts `Class:LegalEntity:GLAccount` opened on first use, one "
        "transaction per entry with `entry_id`, `source_document`, `legal_entity` and "
        "`erp_document` metadata, dimensions as posting metadata (`text/plain; charset=utf-8`). "
        "`format=csv`: RFC 4180, one row per journal line, debit and credit columns, the "
        "unmoved side empty, one column per dimension, text cells that would start a formula "
        "prefixed with an apostrophe (`text/csv; charset=utf-8`). Every amount has exactly its "
        "currency's minor digits. A range whose `from` comes after its `to` is 400 at `from`. "
        "See ADR 0039 and the README, 'Exporting the journal'."
    ),
    responses={**_answers(), **documented("business-rule")},
    operation_class=ExportOperation,
    sync_to_thread=True,
)
def export_journal(
    request: Request[Any, Any, Any],
    format: Format,
    first: FirstMonth,
    last: LastMonth,
    legal_entity_id: Entity = None,
) -> Response[str]:
    try:
        export = JournalExport.months(_month(first, "from"), _month(last, "to"), legal_entity_id)
    except EmptyExportRangeError as error:
        raise Problem(
            "validation-error", str(error), errors=[FieldError("/query/from", str(error))]
        ) from None
    entries = finance_of(request).books.journal_export(export)
    try:
        text = render_csv(entries) if format == "csv" else render_beancount(export, entries)
    except UnexportableJournalError as error:
        raise Problem("business-rule", str(error)) from None
    return Response(
        text,
        media_type=MEDIA_TYPES[format],
        headers={
            "Content-Disposition": (
                f'attachment; filename="{export.file_stem}.{EXTENSIONS[format]}"'
            )
        },
    )


ROUTES = [export_journal]
