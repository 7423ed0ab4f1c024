"""`throughline document`: an issued invoice or credit memo as the files its customer gets
(ADRs 0037, 0038), from the command line as over HTTP.

    throughline document invoice INV-000006 --format pdf --output INV-2026-000006.pdf
    throughline document credit-memo CM-1001 --format ubl

Without `--output` the file goes to standard output, byte for byte.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from adapters.documents.ubl import AmountNotRepresentableError, DocumentIncompleteError, render_ubl
from application.document_view import DocumentView
from application.documents import (
    DocumentNotIssuedError,
    document_for_credit_memo,
    document_for_invoice,
)
from application.errors import NotFoundError
from application.ports import CustomerMaster
from application.unit_of_work import UnitOfWork
from entrypoints.cli_support import (
    ATTENTION,
    DatabaseUrlOption,
    InputError,
    VerboseOption,
    errors,
    fail,
    session,
)
from entrypoints.container import provide_bus, provide_reader

document_app = typer.Typer(
    help="An issued invoice or credit memo as its UBL 2.1 e-invoice or its printable PDF.",
    no_args_is_help=True,
)


class Format(StrEnum):
    UBL = "ubl"
    PDF = "pdf"


def _render(form: Format, view: DocumentView) -> bytes:
    if form is Format.UBL:
        return render_ubl(view)
    from adapters.documents.pdf import render_pdf  # fpdf2 is slow to import: only when asked

    return render_pdf(view)


FormatOption = Annotated[
    Format, typer.Option("--format", "-f", help="ubl: the EN 16931 e-invoice; pdf: printable.")
]
OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FILE",
        help="Write the file here [default: standard output].",
        show_default=False,
    ),
]


def _document(
    view_of: Callable[[UnitOfWork, CustomerMaster], DocumentView],
    form: Format,
    output: Path | None,
    database_url: str | None,
    verbose: bool,
) -> None:
    with session(database_url, verbose=verbose) as s:
        master = provide_bus().deps.customer_master
        with provide_reader()(s.ctx) as uow:
            try:
                view = view_of(uow, master)
            except NotFoundError as error:
                raise InputError(str(error)) from None
            except DocumentNotIssuedError as error:
                fail(str(error), ATTENTION)
        try:
            body = _render(form, view)
        except (DocumentIncompleteError, AmountNotRepresentableError) as error:
            fail(f"no {form.value} for {view.number}: {error}", ATTENTION)
        if output is None:
            sys.stdout.flush()
            sys.stdout.buffer.write(body)
            return
        try:
            output.write_bytes(body)
        except OSError as error:
            raise InputError(f"--output {output}: {error.strerror or error}") from None
        errors().print(f"Wrote {view.number} ({form.value}) to {output}.", markup=False)


@document_app.command("invoice")
def invoice_document(
    invoice_id: Annotated[str, typer.Argument(metavar="INVOICE_ID", help="e.g. INV-000006")],
    form: FormatOption = Format.PDF,
    output: OutputOption = None,
    database_url: DatabaseUrlOption = None,
    verbose: VerboseOption = False,
) -> None:
    """An issued invoice (exit 1 for a draft, which has no document yet; 2 for an unknown id)."""
    _document(
        lambda uow, master: document_for_invoice(uow, invoice_id.strip(), master),
        form,
        output,
        database_url,
        verbose,
    )


@document_app.command("credit-memo")
def credit_memo_document(
    credit_memo_id: Annotated[str, typer.Argument(metavar="CREDIT_MEMO_ID", help="e.g. CM-1001")],
    form: FormatOption = Format.PDF,
    output: OutputOption = None,
    database_url: DatabaseUrlOption = None,
    verbose: VerboseOption = False,
) -> None:
    """An issued credit memo, as a credit note citing the invoice it credits."""
    _document(
        lambda uow, master: document_for_credit_memo(uow, credit_memo_id.strip(), master),
        form,
        output,
        database_url,
        verbose,
    )
