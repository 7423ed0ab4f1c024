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
from entrypoints.cli.support import (
    ATTENTION,
    DatabaseUrlOption,
    InputError,
    OutputOption,
    VerboseOption,
    errors,
    fail,
    session,
)
from entrypoints.composition.container import provide_customer_master, provide_reader


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


def _document(
    view_of: Callable[[UnitOfWork, CustomerMaster], DocumentView],
    form: Format,
    output: Path | None,
    database_url: str | None,
    verbose: bool,
) -> None:
    with session(database_url, verbose=verbose) as s:
        master = provide_customer_master()
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


class Kind(StrEnum):
    INVOICE = "invoice"
    CREDIT_MEMO = "credit-memo"


_VIEWS: dict[Kind, Callable[[UnitOfWork, str, CustomerMaster], DocumentView]] = {
    Kind.INVOICE: document_for_invoice,
    Kind.CREDIT_MEMO: document_for_credit_memo,
}


def document(
    kind: Annotated[Kind, typer.Argument(help="invoice, or credit-memo (a credit note).")],
    document_id: Annotated[
        str, typer.Argument(metavar="ID", help="e.g. INV-000006 or CM-1001, as the API names it")
    ],
    form: FormatOption = Format.PDF,
    output: OutputOption = None,
    database_url: DatabaseUrlOption = None,
    verbose: VerboseOption = False,
) -> None:
    """An issued invoice or credit memo as its printable PDF or its UBL 2.1 e-invoice (exit 1
    for a draft, which has no document yet, or a document the format cannot carry; 2 for an
    unknown id)."""
    view_of = _VIEWS[kind]
    _document(
        lambda uow, master: view_of(uow, document_id.strip(), master),
        form,
        output,
        database_url,
        verbose,
    )
