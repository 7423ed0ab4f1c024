"""`throughline export`: the posted journal as files a finance team checks (ADR 0039).

    throughline export beancount --from 2026-01 --to 2026-03 [--legal-entity HR-FR] [--output F]
    throughline export csv       --from 2026-01 --to 2026-03 [--legal-entity HR-FR] [--output F]

Without `--output` the file goes to standard output, byte for byte (no colours, no wrapping),
so it can be piped into `bean-check` or an import.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated

import typer

from adapters.ledger_export.beancount_file import render_beancount
from adapters.ledger_export.journal_csv import render_csv
from application.journal_export import (
    EmptyExportRangeError,
    JournalExport,
    UnexportableJournalError,
    entries_to_export,
)
from application.records import PostedEntry
from entrypoints.cli.support import (
    ATTENTION,
    DatabaseUrlOption,
    InputError,
    OutputOption,
    VerboseOption,
    errors,
    fail,
    parse_period,
    session,
)
from entrypoints.composition.container import provide_reader

export_app = typer.Typer(
    help="The posted journal as a Beancount ledger or an ERP-importable CSV.",
    no_args_is_help=True,
)

FromOption = Annotated[
    str,
    typer.Option("--from", metavar="YYYY-MM", help="The first month exported, e.g. 2026-01."),
]
ToOption = Annotated[
    str,
    typer.Option(
        "--to", metavar="YYYY-MM", help="The last month exported (inclusive), e.g. 2026-03."
    ),
]
LegalEntityOption = Annotated[
    str | None,
    typer.Option(
        "--legal-entity",
        metavar="ID",
        help="Only this legal entity's entries [default: every legal entity].",
        show_default=False,
    ),
]

Render = Callable[[JournalExport, Sequence[PostedEntry]], str]


def _export(
    render: Render,
    first: str,
    last: str,
    legal_entity: str | None,
    output: Path | None,
    database_url: str | None,
    verbose: bool,
) -> None:
    with session(database_url, verbose=verbose) as s:
        entity = None if legal_entity is None else legal_entity.strip()
        if entity == "":
            raise InputError("--legal-entity cannot be empty; leave it out for every entity")
        try:
            export = JournalExport.months(parse_period(first), parse_period(last), entity)
        except EmptyExportRangeError as error:
            raise InputError(f"--from/--to: {error}") from None
        with provide_reader()(s.ctx) as uow:
            entries = entries_to_export(uow, export)
        try:
            text = render(export, entries)
        except UnexportableJournalError as error:
            fail(f"cannot export: {error}", ATTENTION)
        if output is None:
            _to_standard_output(text)
            return
        try:
            output.write_text(text, encoding="utf-8", newline="")
        except OSError as error:
            raise InputError(f"--output {output}: {error.strerror or error}") from None
        errors().print(
            f"Wrote {len(entries)} journal entries ({export.label}) to {output}.", markup=False
        )


def _to_standard_output(text: str) -> None:
    """The file's UTF-8 bytes as they are (CRLF kept, whatever the terminal's encoding)."""
    sys.stdout.flush()
    binary = getattr(sys.stdout, "buffer", None)
    if binary is None:  # pragma: no cover - a text-only stream (some embedders)
        sys.stdout.write(text)
    else:
        binary.write(text.encode("utf-8"))
        binary.flush()


def _journal_csv(_export: JournalExport, entries: Sequence[PostedEntry]) -> str:
    return render_csv(entries)


#: The formats of `throughline export`: a command each, taking the same options.
FORMATS: dict[str, tuple[Render, str]] = {
    "beancount": (
        render_beancount,
        """The journal entries posted from the first to the last month as a Beancount ledger:
    accounts Class:LegalEntity:GLAccount opened on first use, one transaction per entry with
    its source document, entry id, legal entity and ERP document as metadata, every amount at
    exactly its currency's minor digits. Check it with bean-check. Exit 2 on a bad month or a
    range whose first month comes after its last.""",
    ),
    "csv": (
        _journal_csv,
        """The journal lines posted from the first to the last month as CSV (RFC 4180, UTF-8), one
    row per line: entry, date, legal entity, GL account, role, debit, credit, currency,
    description, memo, source and ERP documents, then one column per dimension (see the
    README). Exit 2 on a bad month or a range whose first month comes after its last.""",
    ),
}


def _format_command(name: str, render: Render, help_text: str) -> None:
    """`throughline export NAME`: the journal of a range of months rendered by `render`."""

    def export_format(
        first: FromOption,
        last: ToOption,
        legal_entity: LegalEntityOption = None,
        output: OutputOption = None,
        database_url: DatabaseUrlOption = None,
        verbose: VerboseOption = False,
    ) -> None:
        _export(render, first, last, legal_entity, output, database_url, verbose)

    export_format.__name__ = f"export_{name}"
    export_app.command(name, help=help_text)(export_format)


for _name, (_render, _help) in FORMATS.items():
    _format_command(_name, _render, _help)
