"""The `throughline` command line: every command goes through the message bus.

    throughline db upgrade                      create or migrate the database schema
    throughline demo                            load the reference scenarios through the bus
    throughline demo --report [--plain] [-s N]  the scenarios' report (in-memory databases)
    throughline import-time FILE.csv            bulk, idempotent import of approved time
    throughline import-delivery KIND FILE.csv   records of a declared delivery kind (ADR 0050)
    throughline bill --period YYYY-MM [--dry-run]
    throughline exceptions list | replay ID | run-due
    throughline serve [--host H] [--port P] [--workers N] [--no-relay] [--demo-keys]
    throughline relay [--once]                  deliver outbox events to the subscribers
    throughline outbox dead | replay ID --reason TEXT
    throughline reconcile --period YYYY-MM
    throughline period close YYYY-MM | reopen YYYY-MM --reason TEXT
    throughline audit verify
    throughline export beancount|csv --from YYYY-MM --to YYYY-MM [--legal-entity ID] [-o FILE]
    throughline document invoice|credit-memo ID [--format pdf|ubl] [-o FILE]
    throughline config [--json]                 the effective configuration, secrets masked

Every command takes `--database-url` (default `$THROUGHLINE_DATABASE_URL`, else the SQLite file
under `var/`); those that act take `--actor` and `-v` prints the invocation's correlation id.
Exit codes are described in `entrypoints.cli.support`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated

import attrs
import typer
from rich.console import Console

from application import commands as c
from application.queries.operations import ExceptionFilter, every_exception
from domain.ids import ContractId
from entrypoints.cli.delivery_import import kind_headers
from entrypoints.cli.document import document
from entrypoints.cli.exceptions import exceptions_app
from entrypoints.cli.export import export_app
from entrypoints.cli.relay import outbox_app, relay_command
from entrypoints.cli.serve import serve
from entrypoints.cli.support import (
    ATTENTION,
    REPORT_WIDTH,
    ActorOption,
    DatabaseUrlOption,
    InputError,
    PeriodOption,
    ReasonOption,
    VerboseOption,
    audited_reason,
    errors,
    fail,
    output,
    parse_day,
    parse_period,
    progress,
    session,
)
from entrypoints.cli.time_import import BATCH_SIZE, HEADER, read_time_file
from entrypoints.cli.views import (
    audit_line,
    render_billing_run,
    render_demo_load,
    render_exceptions,
    render_reconciliation,
)
from entrypoints.composition.container import (
    provide_bus,
    provide_database,
    provide_ops_reads,
    provide_reader,
)
from entrypoints.composition.database import redact

app = typer.Typer(
    name="throughline",
    help="Throughline: the contract-to-cash core for professional-services firms.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
period_app = typer.Typer(help="Accounting periods: close and reopen.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit trail.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(exceptions_app, name="exceptions")
app.add_typer(period_app, name="period")
app.add_typer(audit_app, name="audit")
app.add_typer(export_app, name="export")


def _installed_version() -> str:
    try:
        return version("throughline")
    except PackageNotFoundError:  # pragma: no cover - only when run from an uninstalled tree
        return "unknown"


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"throughline {_installed_version()}")
        raise typer.Exit()


@app.callback()
def root(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Throughline: the contract-to-cash core for professional-services firms."""


# config ------------------------------------------------------------------------------------


@app.command("config")
def config_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per setting, for scripts.")
    ] = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Print the effective configuration: every THROUGHLINE_* variable with the value in force
    (secrets and database passwords masked) and whether the environment set it. Exit 2, naming
    the variable, when a value cannot be used."""
    import json

    from entrypoints.composition.settings import Settings, SettingsError

    try:
        lines = Settings.from_env(database_url=database_url).describe()
    except SettingsError as error:
        fail(str(error))
    if as_json:
        for line in lines:
            typer.echo(json.dumps(attrs.asdict(line)))
        return
    out = output()
    width = max(len(line.variable) for line in lines)
    for line in lines:
        value = line.value or "(not set)"
        out.print(f"{line.variable:<{width}}  {value}  [{line.source}]", markup=False)


# db ----------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseUrlOption = None, verbose: VerboseOption = False) -> None:
    """Create the schema, or migrate it to the latest version (safe to repeat)."""
    with session(database_url, verbose=verbose) as s:
        provide_database().upgrade()
        output().print(f"Database {redact(s.settings.database_url)} is at the latest schema.")


# demo --------------------------------------------------------------------------------------


@app.command()
def demo(
    report: Annotated[
        bool,
        typer.Option(
            "--report",
            help="Print the report of the scenarios instead, each run on an in-memory database.",
        ),
    ] = False,
    scenario: Annotated[
        int | None,
        typer.Option(
            "--scenario",
            "-s",
            metavar="N",
            help="Report only reference scenario N (1 to 4); implies --report.",
            show_default=False,
        ),
    ] = None,
    plain: Annotated[
        bool,
        typer.Option("--plain", help="Report without colours, 120 columns wide; implies --report."),
    ] = False,
    database_url: DatabaseUrlOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Load the four reference scenarios and the usage scenario through the application into
    the database and print what happened: the blocked setup's exception and its replay,
    invoices, payments, the dispute and its credit memo, month-end closes. With --report, run
    each scenario through the application on an in-memory database of its own and print its
    report instead."""
    if report or plain or scenario is not None:
        _report(scenario, plain)
        return
    from entrypoints.demo.firm import DEMO_START, MONTH_ENDS
    from entrypoints.demo.loader import DemoState, demo_state, load_reference_scenarios

    with session(database_url, verbose=verbose) as s:
        database = provide_database()
        database.upgrade()
        where = redact(s.settings.database_url)
        state = demo_state(provide_reader())
        if state is DemoState.LOADED:
            out = output()
            out.print(f"The reference scenarios are already loaded in {where}; nothing changed.")
            operations = provide_ops_reads().operations
            render_exceptions(
                out, every_exception(operations, ExceptionFilter(include_resolved=False))
            )
            out.print(audit_line(operations.audit_trail()))
            return
        if state is DemoState.PARTIAL:
            fail(
                f"{where} holds part of the reference scenarios (an interrupted load?); "
                "load them into a fresh database (--database-url)",
                ATTENTION,
            )
        days = (MONTH_ENDS[-1].end - DEMO_START.date()).days
        with progress("Loading the reference scenarios") as bar:
            task = bar.add_task("load", total=days)
            loaded = load_reference_scenarios(
                database,
                lambda _n, day: bar.update(task, completed=(day - DEMO_START.date()).days),
            )
        render_demo_load(output(), loaded, where)


def _report(scenario: int | None, plain: bool) -> None:
    from entrypoints.demo.report import render
    from entrypoints.demo.runner import SCENARIOS, DemoResult, run_demo, run_scenario

    if scenario is not None and scenario not in SCENARIOS:
        choices = ", ".join(str(n) for n in SCENARIOS)
        fail(f"there is no scenario {scenario}; the demo has scenarios {choices}.")
    result = run_demo() if scenario is None else DemoResult((run_scenario(scenario),))
    console = (
        Console(
            no_color=True, force_terminal=False, width=REPORT_WIDTH, highlight=False, emoji=False
        )
        if plain
        else Console(highlight=False, emoji=False)
    )
    render(console, result)


# import-time -------------------------------------------------------------------------------

IMPORT_HELP = f"""Import approved time from a CSV file, in batches, idempotently.

\b
The header (task_id and billable may be left out):
  {HEADER}

work_date is YYYY-MM-DD, hours a decimal, billable true or false. Rows already recorded are
reported as duplicates and change nothing; rows that cannot be read or that the contract
refuses are rejected with their line and a reason code. Exit 0 when no row was rejected, 1
when some were, 2 when the file cannot be used."""


#: The CSV file and the batch size, as both import commands take them.
CsvFileArgument = Annotated[
    Path, typer.Argument(metavar="FILE.csv", help="The CSV file to import.")
]
BatchSizeOption = Annotated[
    int, typer.Option("--batch-size", min=1, max=50_000, help="Rows per transaction.")
]


@app.command("import-time", help=IMPORT_HELP)
def import_time(
    file: CsvFileArgument,
    approved_by: Annotated[
        str, typer.Option("--approved-by", help="Who approved the time in the PSA.")
    ] = "psa",
    batch_size: BatchSizeOption = BATCH_SIZE,
    database_url: DatabaseUrlOption = None,
    actor: ActorOption = None,
    verbose: VerboseOption = False,
) -> None:
    from entrypoints.cli.time_import_run import import_rows

    with session(database_url, actor, verbose) as s:
        parsed = read_time_file(file)
        outcome = import_rows(provide_bus(), s.ctx, parsed, approved_by, batch_size)
        outcome.render(output(), file, verbose=verbose)
        if outcome.rejected:
            raise typer.Exit(ATTENTION)


# import-delivery ---------------------------------------------------------------------------

IMPORT_DELIVERY_HELP = """Import records of a declared delivery kind from a CSV file, in batches,
idempotently (ADR 0050).

\b
The header names the kind's record fields. The registered kinds and their headers:
{KIND_HEADERS}

A record already recorded with the same values is a duplicate and changes nothing; with other
values it is a correction (a new revision, the earlier one kept). Rows that cannot be read or
that are refused are rejected with their line, the column and a reason code. Exit 0 when no row
was rejected, 1 when some were, 2 when the kind or the file cannot be used."""


@app.command("import-delivery", help=IMPORT_DELIVERY_HELP.format(KIND_HEADERS=kind_headers()))
def import_delivery(
    kind: Annotated[str, typer.Argument(metavar="KIND", help="The registered delivery kind.")],
    file: CsvFileArgument,
    reported_by: Annotated[
        str, typer.Option("--reported-by", help="Who reported the records.")
    ] = "import",
    batch_size: BatchSizeOption = 1000,
    database_url: DatabaseUrlOption = None,
    actor: ActorOption = None,
    verbose: VerboseOption = False,
) -> None:
    from domain.delivery_kinds import UnknownDeliveryKindError, delivery_kind, delivery_kinds
    from entrypoints.cli.delivery_import import (
        DeliveryFileError,
        import_delivery_rows,
        read_delivery_file,
    )

    with session(database_url, actor, verbose) as s:
        try:
            declared = delivery_kind(kind)
            parsed = read_delivery_file(declared, file)
        except UnknownDeliveryKindError:
            known = ", ".join(k.name for k in delivery_kinds()) or "none"
            raise InputError(f"there is no delivery kind {kind!r} (registered: {known})") from None
        except DeliveryFileError as error:
            raise InputError(str(error)) from None
        outcome = import_delivery_rows(
            provide_bus(), s.ctx, declared, parsed, reported_by, batch_size
        )
        outcome.render(output(), file)
        if outcome.rejected:
            raise typer.Exit(ATTENTION)


# bill --------------------------------------------------------------------------------------


@app.command()
def bill(
    period: PeriodOption,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the proposal; store nothing.")
    ] = False,
    contract: Annotated[
        list[str] | None,
        typer.Option("--contract", metavar="ID", help="Bill only this contract (repeatable)."),
    ] = None,
    invoice_date: Annotated[
        str | None,
        typer.Option(
            "--invoice-date",
            metavar="YYYY-MM-DD",
            help="Date of the invoices [default: the period's last day].",
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
    actor: ActorOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Run billing for a month: print the proposal (invoices with lines and totals, exclusions,
    blocked contracts, the difference from what is invoiced); without --dry-run, store the
    proposal as draft invoices. A dry run and the commit after it propose the same thing."""
    with session(database_url, actor, verbose) as s:
        month = parse_period(period)
        day = parse_day(invoice_date, "--invoice-date") if invoice_date else None
        contracts = tuple(ContractId(x) for x in contract or ())
        command = c.RunBilling(month, dry_run, contracts, day)
        with errors().status(f"Billing {month.key}..."):
            result = provide_bus().handle(command, s.ctx)
        render_billing_run(output(), result, dry_run=dry_run)


# reconcile ---------------------------------------------------------------------------------


@app.command()
def reconcile(
    period: PeriodOption,
    psa_hours: Annotated[
        Path | None,
        typer.Option(
            "--psa-hours",
            metavar="FILE.csv",
            help="The PSA's approved hours (entry_id,work_date,hours) "
            "[default: $THROUGHLINE_PSA_HOURS].",
            show_default=False,
        ),
    ] = None,
    erp_receivables: Annotated[
        Path | None,
        typer.Option(
            "--erp-receivables",
            metavar="FILE.csv",
            help="The ERP's posted invoices (number,issue_date,gross,currency) "
            "[default: $THROUGHLINE_ERP_RECEIVABLES].",
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
    actor: ActorOption = None,
    verbose: VerboseOption = False,
) -> None:
    """PSA approved hours vs ours vs billed, and issued invoices vs the ERP's receivables:
    each exception and the control totals. Exit 0 when clean, 1 when exceptions exist."""
    with session(
        database_url, actor, verbose, psa_hours=psa_hours, erp_receivables=erp_receivables
    ) as s:
        report = provide_bus().handle(c.Reconcile(parse_period(period)), s.ctx)
        render_reconciliation(output(), report)
        if not report.clean:
            raise typer.Exit(ATTENTION)


# period ------------------------------------------------------------------------------------


@period_app.command("close")
def period_close(
    month: Annotated[str, typer.Argument(metavar="YYYY-MM", help="The month to close.")],
    database_url: DatabaseUrlOption = None,
    actor: ActorOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Close an accounting period: nothing dated in it can be posted, voided or credited any
    more, by anyone. A period that has not ended cannot be closed."""
    with session(database_url, actor, verbose) as s:
        period = parse_period(month)
        provide_bus().handle(c.ClosePeriod(period), s.ctx)
        output().print(f"Accounting period {period.key} closed by {s.ctx.actor}.")


@period_app.command("reopen")
def period_reopen(
    month: Annotated[str, typer.Argument(metavar="YYYY-MM", help="The month to reopen.")],
    reason: ReasonOption,
    database_url: DatabaseUrlOption = None,
    actor: ActorOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Reopen a closed accounting period, with a reason that goes into the audit trail."""
    with session(database_url, actor, verbose) as s:
        period = parse_period(month)
        why = audited_reason(reason, "reopening a period")
        provide_bus().handle(c.ReopenPeriod(period, why), s.ctx)
        output().print(f"Accounting period {period.key} reopened by {s.ctx.actor}: {reason}")


# audit -------------------------------------------------------------------------------------


@audit_app.command("verify")
def audit_verify(database_url: DatabaseUrlOption = None, verbose: VerboseOption = False) -> None:
    """Recompute the audit trail's hash chain: exit 0 when intact, 1 naming the first broken
    record."""
    with session(database_url, verbose=verbose):
        report = provide_ops_reads().operations.audit_trail()
        output().print(audit_line(report))
        if not report.intact:
            raise typer.Exit(ATTENTION)


# serve, relay and outbox live in their own modules; registered here, last, as --help lists
# them.

app.command()(serve)
app.command("relay")(relay_command)
app.add_typer(outbox_app, name="outbox")
app.command("document")(document)


def main() -> None:
    """Console-script entry point (`throughline`)."""
    app(prog_name="throughline")


if __name__ == "__main__":
    main()
