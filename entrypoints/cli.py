"""The `throughline` command line: every command goes through the message bus.

    throughline db upgrade                      create or migrate the database schema
    throughline demo                            load the reference scenarios through the bus
    throughline demo --report [--plain] [-s N]  the pure-domain report (no database)
    throughline import-time FILE.csv            bulk, idempotent import of approved time
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
Exit codes are described in `entrypoints.cli_support`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated

import attrs
import typer
from rich.console import Console

from application import commands as c
from application.records import ExceptionState
from domain.ids import ContractId
from entrypoints import queries
from entrypoints.bootstrap import redact
from entrypoints.cli_document import document
from entrypoints.cli_export import export_app
from entrypoints.cli_support import (
    ATTENTION,
    REPORT_WIDTH,
    ActorOption,
    DatabaseUrlOption,
    InputError,
    PeriodOption,
    VerboseOption,
    errors,
    fail,
    output,
    parse_day,
    parse_period,
    progress,
    session,
)
from entrypoints.container import provide_bus, provide_database, provide_reader
from entrypoints.demo import SCENARIOS, DemoResult, run_demo, run_scenario
from entrypoints.demo_report import render
from entrypoints.time_import import HEADER, read_time_file
from entrypoints.views import (
    audit_line,
    render_billing_run,
    render_demo_load,
    render_exceptions,
    render_reconciliation,
)

app = typer.Typer(
    name="throughline",
    help="Throughline: the contract-to-cash core for professional-services firms.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
exceptions_app = typer.Typer(help="The typed exception queue.", no_args_is_help=True)
period_app = typer.Typer(help="Accounting periods: close and reopen.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit trail.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(exceptions_app, name="exceptions")
app.add_typer(period_app, name="period")
app.add_typer(audit_app, name="audit")
app.add_typer(export_app, name="export")
app.command("document")(document)


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

    from entrypoints.settings import Settings, SettingsError

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
            help="Print the pure-domain report of the scenarios instead (no database).",
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
    """Load the four reference scenarios through the application into the database and print
    what happened: the blocked setup's exception and its replay, invoices, payments, the
    dispute and its credit memo, month-end closes. With --report, print the pure-domain
    report of the same scenarios instead."""
    if report or plain or scenario is not None:
        _report(scenario, plain)
        return
    from entrypoints.scenario_loader import DemoState, demo_state, load_reference_scenarios
    from entrypoints.scenario_scripts import DEMO_START, MONTH_ENDS

    with session(database_url, verbose=verbose) as s:
        database = provide_database()
        database.upgrade()
        where = redact(s.settings.database_url)
        state = demo_state(provide_reader())
        if state is DemoState.LOADED:
            out = output()
            out.print(f"The reference scenarios are already loaded in {where}; nothing changed.")
            render_exceptions(out, queries.integration_exceptions(provide_reader(), s.ctx))
            out.print(audit_line(queries.verify_audit_trail(provide_reader(), s.ctx)))
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


@app.command("import-time", help=IMPORT_HELP)
def import_time(
    file: Annotated[Path, typer.Argument(metavar="FILE.csv", help="The CSV file to import.")],
    approved_by: Annotated[
        str, typer.Option("--approved-by", help="Who approved the time in the PSA.")
    ] = "psa",
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, max=50_000, help="Rows per transaction.")
    ] = 1000,
    database_url: DatabaseUrlOption = None,
    actor: ActorOption = None,
    verbose: VerboseOption = False,
) -> None:
    from entrypoints.time_import_run import import_rows

    with session(database_url, actor, verbose) as s:
        parsed = read_time_file(file)
        outcome = import_rows(provide_bus(), s.ctx, parsed, approved_by, batch_size)
        outcome.render(output(), file, verbose=verbose)
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


# exceptions --------------------------------------------------------------------------------


@exceptions_app.command("list")
def exceptions_list(
    show_all: Annotated[bool, typer.Option("--all", help="Include resolved exceptions.")] = False,
    database_url: DatabaseUrlOption = None,
    verbose: VerboseOption = False,
) -> None:
    """List the exception queue (open, retry scheduled and dead; --all adds resolved)."""
    with session(database_url, verbose=verbose) as s:
        items = queries.integration_exceptions(provide_reader(), s.ctx, include_resolved=show_all)
        render_exceptions(output(), items)


@exceptions_app.command("replay")
def exceptions_replay(
    exception_id: Annotated[str, typer.Argument(metavar="ID", help="The exception's id.")],
    database_url: DatabaseUrlOption = None,
    actor: ActorOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Reprocess what an exception kept, once its cause is fixed (audited either way).
    Exit 0 when it healed, 1 when it failed again."""
    with session(database_url, actor, verbose) as s:
        bus = provide_bus()
        healed = bus.handle(c.ReplayException(exception_id.strip()), s.ctx)
        (item,) = [
            x
            for x in queries.integration_exceptions(provide_reader(), s.ctx, include_resolved=True)
            if x.exception_id == exception_id.strip()
        ]
        if healed and item.state is ExceptionState.RESOLVED:
            output().print(f"Exception {item.exception_id} replayed: resolved.")
            return
        output().print(
            f"Exception {item.exception_id} replayed, still {item.state.value}: "
            f"{item.last_error or item.detail}",
            markup=False,
        )
        raise typer.Exit(ATTENTION)


@exceptions_app.command("run-due")
def exceptions_run_due(
    database_url: DatabaseUrlOption = None,
    actor: ActorOption = None,
    verbose: VerboseOption = False,
) -> None:
    """The periodic jobs, for cron or a scheduler: retry downstream failures whose next
    attempt is due, accept milestones whose passive-acceptance window has passed, process
    webhook messages stored more than five minutes ago whose processing never finished, and
    purge idempotency keys older than 24 hours."""
    from datetime import timedelta

    from application import idempotency

    with session(database_url, actor, verbose) as s:
        bus = provide_bus()
        now = bus.deps.clock.now()
        retried = bus.handle(c.RetryDueExceptions(), s.ctx)
        accepted = bus.handle(c.AcceptDueMilestones(now.date()), s.ctx)
        waiting = bus.handle(
            c.ProcessWaitingInboxMessages(now - timedelta(minutes=5), limit=1_000), s.ctx
        )
        with bus.deps.uow(s.ctx) as uow:
            purged = idempotency.purge(uow, now)
            uow.commit()
        output().print(
            f"Retried {len(retried)} exception(s), accepted {len(accepted)} milestone(s) "
            f"passively, processed {len(waiting)} waiting webhook message(s), purged {purged} "
            "idempotency key(s)."
        )


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
    reason: Annotated[
        str, typer.Option("--reason", metavar="TEXT", help="Why (required; audited).")
    ],
    database_url: DatabaseUrlOption = None,
    actor: ActorOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Reopen a closed accounting period, with a reason that goes into the audit trail."""
    with session(database_url, actor, verbose) as s:
        period = parse_period(month)
        if not reason.strip():
            raise InputError("--reason cannot be empty: reopening a period is audited with why")
        provide_bus().handle(c.ReopenPeriod(period, reason.strip()), s.ctx)
        output().print(f"Accounting period {period.key} reopened by {s.ctx.actor}: {reason}")


# audit -------------------------------------------------------------------------------------


@audit_app.command("verify")
def audit_verify(database_url: DatabaseUrlOption = None, verbose: VerboseOption = False) -> None:
    """Recompute the audit trail's hash chain: exit 0 when intact, 1 naming the first broken
    record."""
    with session(database_url, verbose=verbose) as s:
        report = queries.verify_audit_trail(provide_reader(), s.ctx)
        output().print(audit_line(report))
        if not report.intact:
            raise typer.Exit(ATTENTION)


# serve -------------------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes (each with its own connections).", min=1)
    ] = 1,
    relay: Annotated[
        bool,
        typer.Option(
            "--relay/--no-relay",
            help="Run the outbox relay inside each worker (or run `throughline relay` apart).",
        ),
    ] = True,
    demo_keys: Annotated[
        bool,
        typer.Option(
            "--demo-keys",
            help="Make (once) and print an API key per role under var/, and accept them.",
        ),
    ] = False,
    database_url: DatabaseUrlOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Serve the HTTP API (OpenAPI at /schema) with uvicorn."""
    import math
    import os

    import uvicorn

    from entrypoints.http.metrics_dir import MetricsDirError, share_metrics_between_workers

    webhook_lines: list[str] = []
    with session(database_url, verbose=verbose) as s:
        try:  # before prometheus_client is first imported: it reads the variable then
            share_metrics_between_workers(s.settings.metrics_dir, port)
        except MetricsDirError as error:
            raise InputError(str(error)) from None
        from entrypoints.http import serve as http
        from entrypoints.http.metrics import worker_subscribers
        from entrypoints.relay import SubscriberFileError

        provide_database().upgrade()
        os.environ["THROUGHLINE_DATABASE_URL"] = s.settings.database_url
        if relay:
            os.environ[http.RELAY_VARIABLE] = "in-process"
        else:
            os.environ.pop(http.RELAY_VARIABLE, None)
        if demo_keys:
            keys = http.demo_keys(Path("var/demo-api-keys.json"))
            keys_file = Path("var/demo-api-keys.digests.json")
            http.write_keys_file(keys, keys_file)
            os.environ[http.API_KEYS_VARIABLE] = str(keys_file)
            if "THROUGHLINE_WEBHOOK_SECRETS" not in os.environ:
                secrets_file = Path("var/demo-webhook-secrets.json")
                webhook_lines = http.write_demo_webhook_secrets(secrets_file)
                os.environ["THROUGHLINE_WEBHOOK_SECRETS"] = str(secrets_file)
        try:
            http.authenticator_from_env(os.environ)
            worker_subscribers(s.settings)  # the workers label the outbox gauges with them
        except (http.ApiConfigError, SubscriberFileError) as error:
            raise InputError(str(error)) from None
        shutdown_timeout = math.ceil(s.settings.shutdown_timeout)
        out = output()
        base = f"http://{host}:{port}"
        out.print(f"Throughline API on {base} (database {redact(s.settings.database_url)})")
        out.print(f"OpenAPI page: {base}/schema  ·  document: {base}/schema/openapi.json")
        if relay and os.environ.get("THROUGHLINE_SUBSCRIBERS"):
            out.print("The outbox relay runs in-process (THROUGHLINE_SUBSCRIBERS).")
        elif relay and s.settings.chart_of_accounts is not None:
            out.print(
                "No subscribers configured (THROUGHLINE_SUBSCRIBERS): the in-process relay "
                "posts journal entries to the ERP general ledger; other events wait in the "
                "outbox until a subscriber is."
            )
        elif relay:
            out.print(
                "No subscribers configured (THROUGHLINE_SUBSCRIBERS): outbound events wait in "
                "the outbox until one is."
            )
        if demo_keys:
            out.print("Demo API keys (send as X-API-Key):")
            for key in keys:
                scope = f" (customer {key.customer_id})" if key.customer_id else ""
                out.print(f"  {key.name:<18} {key.key}{scope}", markup=False, soft_wrap=True)
            if "THROUGHLINE_WEBHOOK_SECRETS" in os.environ and webhook_lines:
                out.print("Demo webhook secrets (POST /webhooks/{source}; docs/webhooks.md):")
                for line in webhook_lines:
                    out.print(f"  {line}", markup=False, soft_wrap=True)
            finance = next((k.key for k in keys if k.name == "finance"), None)
            hints = _document_hints(base, finance) if finance else []
            if hints:
                out.print("Documents to fetch (with the finance key):")
                for line in hints:
                    out.print(f"  {line}", markup=False, soft_wrap=True)
    uvicorn.run(
        "entrypoints.http.serve:create_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # entrypoints.logs formats uvicorn's lines too; our request log replaces its access log
        log_config=None,
        log_level=None,
        access_log=False,
        # SIGTERM or Ctrl-C: stop accepting, let in-flight requests finish within the bound,
        # then the app's shutdown stops the relay, which hands back what it did not publish
        timeout_graceful_shutdown=shutdown_timeout,
        # A worker is replaced when it does not answer the supervisor's ping within this bound;
        # uvicorn's 5 s default kills workers that are merely slow to start on a loaded machine
        # (seen with --workers 2 on two busy cores), and the replacement is as slow.
        timeout_worker_healthcheck=30,
    )


# relay and outbox --------------------------------------------------------------------------
# `throughline relay` delivers outbox events to the webhook subscribers (ADR 0016);
# `throughline outbox dead | replay EVENT_ID --reason TEXT` looks after the dead ones.

outbox_app = typer.Typer(
    help="Outbound events: dead events and their replay.", no_args_is_help=True
)
app.add_typer(outbox_app, name="outbox")


def _document_hints(base: str, key: str) -> list[str]:
    """Where the served database's e-invoice, PDF and Beancount file are fetched."""
    from application.context import RequestContext
    from entrypoints.demo_hints import document_hints

    reader = RequestContext("serve", "serve-hints")
    with provide_bus().deps.uow(reader, read_only=True) as uow:
        return document_hints(uow, base, key)


@app.command("relay")
def relay_command(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver everything due now, then exit.")
    ] = False,
    batch: Annotated[
        int, typer.Option("--batch", min=1, max=1000, help="Events claimed per transaction.")
    ] = 100,
    interval: Annotated[
        float, typer.Option("--interval", min=0.05, help="Seconds to wait when nothing is due.")
    ] = 1.0,
    worker_id: Annotated[
        str | None,
        typer.Option(
            "--worker-id",
            metavar="ID",
            help="This worker's name on its claims [default: host:pid:random].",
            show_default=False,
        ),
    ] = None,
    subscribers: Annotated[
        Path | None,
        typer.Option(
            "--subscribers",
            metavar="FILE.json",
            help="The webhook subscribers [default: $THROUGHLINE_SUBSCRIBERS].",
            show_default=False,
        ),
    ] = None,
    stale_after: Annotated[
        float,
        typer.Option(
            "--stale-after",
            min=1.0,
            metavar="SECONDS",
            help="A claim older than this belongs to a dead worker and is handed back.",
        ),
    ] = 60.0,
    database_url: DatabaseUrlOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Deliver outbox events to the webhook subscribers as signed CloudEvents: at least once,
    in commit order per aggregate. Failures retry after 1 min, 5 min, 30 min and 2 h, then the
    event is dead (see `throughline outbox dead`). Runs until interrupted (Ctrl-C or SIGTERM
    finish the batch in hand); with --once, exit 0 when everything due went out, 1 when some
    failed."""
    import signal
    import threading
    from datetime import timedelta

    import attrs

    from entrypoints.logs import configure_logging
    from entrypoints.outbox_views import relay_line
    from entrypoints.relay import (
        JOURNAL_AGGREGATE,
        RelaySettings,
        default_worker_id,
        erp_only_publisher,
        run_relay,
        webhook_publisher,
        with_erp_postings,
    )
    from entrypoints.tracing import configure_tracing

    with session(database_url, verbose=verbose) as s:
        configure_logging(s.settings, process="relay")
        configure_tracing(s.settings, service="throughline-relay")
        deps = provide_bus().deps
        try:
            settings = RelaySettings.of(s.settings)
            if subscribers is not None:
                settings = attrs.evolve(settings, subscribers=subscribers)
            publisher = webhook_publisher(settings, deps.clock)
        except ValueError as error:
            raise InputError(str(error)) from None
        worker = (worker_id or default_worker_id()).strip()
        if not worker:
            raise InputError("--worker-id cannot be empty")
        erp_only = erp_only_publisher(deps, worker) if publisher is None else None
        if publisher is None and erp_only is None:
            raise InputError(
                "no subscribers to deliver to: name the file with --subscribers or "
                "$THROUGHLINE_SUBSCRIBERS (or post journal entries to the ERP: "
                "$THROUGHLINE_CHART_OF_ACCOUNTS)"
            )
        stop = threading.Event()
        previous = {}
        if not once:
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous[signum] = signal.signal(signum, lambda *_: stop.set())
            receivers = (
                f"{len(publisher.subscribers)} subscriber(s)"
                if publisher is not None
                else "the ERP general ledger only (journal entries; no subscribers named)"
            )
            errors().print(
                f"Relay {worker} delivering to {receivers}; Ctrl-C stops it.", markup=False
            )
        chosen = with_erp_postings(publisher, deps, worker) if publisher is not None else erp_only
        assert chosen is not None  # one of the two, checked above
        try:
            totals = run_relay(
                deps.uow,
                deps.clock,
                chosen,
                worker_id=worker,
                batch=batch,
                interval=interval,
                once=once,
                stop_event=stop,
                stale_after=timedelta(seconds=stale_after),
                on_pass=((lambda r: errors().print(f"  {r}", markup=False)) if verbose else None),
                aggregate_type=None if publisher is not None else JOURNAL_AGGREGATE,
            )
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            if publisher is not None:
                publisher.close()
        output().print(relay_line(worker, totals), markup=False)
        if once and (totals.failed or totals.dead):
            raise typer.Exit(ATTENTION)


@outbox_app.command("dead")
def outbox_dead(
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=10_000, help="At most this many.")
    ] = 100,
    database_url: DatabaseUrlOption = None,
    verbose: VerboseOption = False,
) -> None:
    """List the dead outbox events (delivery gave up after its last retry), oldest first.
    Exit 0 when there are none, 1 when there are."""
    from application.records import DeliveryState
    from entrypoints.outbox_views import render_dead_events

    with session(database_url, verbose=verbose) as s:
        with provide_reader()(s.ctx) as uow:
            dead = uow.outbox.in_state(DeliveryState.DEAD, limit)
        render_dead_events(output(), dead)
        if dead:
            raise typer.Exit(ATTENTION)


@outbox_app.command("replay")
def outbox_replay(
    event_id: Annotated[str, typer.Argument(metavar="EVENT_ID", help="The dead event's id.")],
    reason: Annotated[
        str, typer.Option("--reason", metavar="TEXT", help="Why (required; audited).")
    ],
    database_url: DatabaseUrlOption = None,
    actor: ActorOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Send a dead outbox event again under the same event id, with a fresh retry schedule;
    audited with the actor and the reason. The relay delivers it on its next pass."""
    from application.relay import ReplayOutboxEvent

    with session(database_url, actor, verbose) as s:
        if not reason.strip():
            raise InputError("--reason cannot be empty: a replay is audited with why")
        event = provide_bus().handle(ReplayOutboxEvent(event_id.strip(), reason.strip()), s.ctx)
        output().print(
            f"Outbox event {event.event_id} replayed by {s.ctx.actor}: pending again under the "
            "same id; the relay delivers it on its next pass.",
            markup=False,
        )


def main() -> None:
    """Console-script entry point (`throughline`)."""
    app(prog_name="throughline")


if __name__ == "__main__":
    main()
