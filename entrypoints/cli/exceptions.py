"""`throughline exceptions`: the typed exception queue from the command line (list, replay,
and the periodic jobs a scheduler runs)."""

from __future__ import annotations

from typing import Annotated

import typer

from application import commands as c
from application.queries.operations import ExceptionFilter, every_exception
from application.records import ExceptionState
from entrypoints.cli.support import (
    ATTENTION,
    ActorOption,
    DatabaseUrlOption,
    VerboseOption,
    fail,
    output,
    session,
)
from entrypoints.cli.views import render_exceptions
from entrypoints.composition.container import (
    provide_bus,
    provide_clock,
    provide_ops_reads,
    provide_unit_of_work,
)

exceptions_app = typer.Typer(help="The typed exception queue.", no_args_is_help=True)


@exceptions_app.command("list")
def exceptions_list(
    show_all: Annotated[bool, typer.Option("--all", help="Include resolved exceptions.")] = False,
    database_url: DatabaseUrlOption = None,
    verbose: VerboseOption = False,
) -> None:
    """List the exception queue (open, retry scheduled and dead; --all adds resolved)."""
    with session(database_url, verbose=verbose):
        where = ExceptionFilter(include_resolved=show_all)
        items = every_exception(provide_ops_reads().operations, where)
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
        item = provide_ops_reads().operations.exception(exception_id.strip())
        if item is None:  # pragma: no cover - the replay refused an unknown id already
            fail(f"there is no exception {exception_id.strip()}")
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
        now = provide_clock().now()
        retried = bus.handle(c.RetryDueExceptions(), s.ctx)
        accepted = bus.handle(c.AcceptDueMilestones(now.date()), s.ctx)
        waiting = bus.handle(
            c.ProcessWaitingInboxMessages(now - timedelta(minutes=5), limit=1_000), s.ctx
        )
        with provide_unit_of_work()(s.ctx) as uow:
            purged = idempotency.purge(uow, now)
            uow.commit()
        output().print(
            f"Retried {len(retried)} exception(s), accepted {len(accepted)} milestone(s) "
            f"passively, processed {len(waiting)} waiting webhook message(s), purged {purged} "
            "idempotency key(s)."
        )
