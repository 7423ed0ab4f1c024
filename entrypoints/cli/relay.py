"""`throughline relay` and `throughline outbox dead | replay`: delivering the outbox to the
webhook subscribers and the ERP (ADRs 0016, 0034), and looking after the dead events."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import attrs
import typer

from entrypoints.cli.support import (
    ATTENTION,
    ActorOption,
    DatabaseUrlOption,
    InputError,
    ReasonOption,
    VerboseOption,
    audited_reason,
    errors,
    output,
    session,
)
from entrypoints.composition.container import provide_bus, provide_dependencies, provide_reader

# relay and outbox --------------------------------------------------------------------------
# `throughline relay` delivers outbox events to the webhook subscribers (ADR 0016);
# `throughline outbox dead | replay EVENT_ID --reason TEXT` looks after the dead ones.

outbox_app = typer.Typer(
    help="Outbound events: dead events and their replay.", no_args_is_help=True
)


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

    from entrypoints.cli.outbox_views import relay_line
    from entrypoints.composition.logs import configure_logging
    from entrypoints.composition.tracing import configure_tracing
    from entrypoints.workers.relay import (
        JOURNAL_AGGREGATE,
        RelaySettings,
        default_worker_id,
        erp_only_publisher,
        run_relay,
        webhook_publisher,
        with_erp_postings,
    )

    with session(database_url, verbose=verbose) as s:
        configure_logging(s.settings, process="relay")
        configure_tracing(s.settings, service="throughline-relay")
        deps = provide_dependencies()
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
    from entrypoints.cli.outbox_views import render_dead_events

    with session(database_url, verbose=verbose) as s:
        with provide_reader()(s.ctx) as uow:
            dead = uow.outbox.in_state(DeliveryState.DEAD, limit)
        render_dead_events(output(), dead)
        if dead:
            raise typer.Exit(ATTENTION)


@outbox_app.command("replay")
def outbox_replay(
    event_id: Annotated[str, typer.Argument(metavar="EVENT_ID", help="The dead event's id.")],
    reason: ReasonOption,
    database_url: DatabaseUrlOption = None,
    actor: ActorOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Send a dead outbox event again under the same event id, with a fresh retry schedule;
    audited with the actor and the reason. The relay delivers it on its next pass."""
    from application.relay import ReplayOutboxEvent

    with session(database_url, actor, verbose) as s:
        why = audited_reason(reason, "a replay")
        event = provide_bus().handle(ReplayOutboxEvent(event_id.strip(), why), s.ctx)
        output().print(
            f"Outbox event {event.event_id} replayed by {s.ctx.actor}: pending again under the "
            "same id; the relay delivers it on its next pass.",
            markup=False,
        )
