"""What every `throughline` command shares: options, consoles, the request context, parsing of
the arguments people type, and one mapping from failures to messages and exit codes.

Exit codes: 0 done; 1 refused by a business rule, or done with a result that needs attention
(rejected rows, reconciliation exceptions, a broken audit chain, a replay that did not heal);
2 bad input (an argument, a file or a URL that cannot be used, an id that does not exist).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, NoReturn

import attrs
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from application.context import RequestContext
from application.errors import ApplicationError, NotFoundError
from domain.errors import DomainError
from domain.period import Period
from entrypoints.cli.time_import import TimeFileError
from entrypoints.composition.container import configure, release_connections
from entrypoints.composition.database import DatabaseUrlError, redact
from entrypoints.composition.externals import ExternalDataError
from entrypoints.composition.logs import configure_logging, current_command, logged_command
from entrypoints.composition.settings import (
    ACTOR_VARIABLE,
    DATABASE_URL_VARIABLE,
    Settings,
    SettingsError,
)

OK, ATTENTION, BAD_INPUT = 0, 1, 2
REPORT_WIDTH = 120

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        metavar="URL",
        help=f"Database to use [default: ${DATABASE_URL_VARIABLE}, else sqlite:///var/throughline.db;"
        " memory:// for a throwaway one].",
        show_default=False,
    ),
]
ActorOption = Annotated[
    str | None,
    typer.Option(
        "--actor",
        metavar="NAME",
        help="Who acts (recorded in the audit trail) "
        f"[default: ${ACTOR_VARIABLE}, else the OS user].",
        show_default=False,
    ),
]
VerboseOption = Annotated[
    bool,
    typer.Option("--verbose", "-v", help="Also print the correlation id, actor and database."),
]
PeriodOption = Annotated[
    str, typer.Option("--period", metavar="YYYY-MM", help="The month, e.g. 2026-03.")
]
#: Where a command that writes a file (a document, an export) puts it.
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
#: Why an audited operator action (a reopening, a replay) is taken.
ReasonOption = Annotated[
    str, typer.Option("--reason", metavar="TEXT", help="Why (required; audited).")
]


class InputError(Exception):
    """An argument the user typed cannot be used."""


def audited_reason(reason: str, what: str) -> str:
    """The `--reason` without its surrounding blanks; an empty one is refused, because `what`
    is audited with why."""
    if not reason.strip():
        raise InputError(f"--reason cannot be empty: {what} is audited with why")
    return reason.strip()


def output() -> Console:
    """Standard output: colours on a terminal, plain and 120 columns wide otherwise."""
    console = Console(highlight=False, emoji=False)
    if console.is_terminal:
        return console
    return Console(highlight=False, emoji=False, width=REPORT_WIDTH, no_color=True, soft_wrap=True)


def errors() -> Console:
    return Console(stderr=True, highlight=False, emoji=False, soft_wrap=True)


def progress(label: str) -> Progress:
    """A progress bar on standard error, shown only on a terminal."""
    err = errors()
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


def fail(message: str, code: int = BAD_INPUT) -> NoReturn:
    errors().print(f"Error: {message}", markup=False)
    raise typer.Exit(code)


def default_actor() -> str:
    named = os.environ.get(ACTOR_VARIABLE, "").strip()
    if named:
        return named
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (some containers)
        return f"uid-{os.getuid()}"


def new_correlation_id() -> str:
    from uuid import uuid4

    return f"cli-{uuid4().hex[:16]}"


def parse_period(text: str) -> Period:
    try:
        return Period.parse_month(text.strip())
    except DomainError:
        raise InputError(f"{text!r} is not a month; write it as YYYY-MM, e.g. 2026-03") from None


def parse_day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{what} {text!r} is not a date; write it as YYYY-MM-DD") from None


@attrs.frozen
class Session:
    ctx: RequestContext
    settings: Settings
    verbose: bool


@contextmanager
def session(
    database_url: str | None,
    actor: str | None = None,
    verbose: bool = False,
    **paths: Path | None,
) -> Iterator[Session]:
    """Configure the container, make the request context, and turn failures into messages
    and exit codes; the database's connections are released at the end."""
    try:
        given = {name: value for name, value in paths.items() if value is not None}
        settings = attrs.evolve(Settings.from_env(database_url=database_url), **given)
        configure_logging(settings, process="cli")
        configure(settings)
        who = (actor if actor is not None else default_actor()).strip()
        if not who:
            raise InputError("--actor cannot be empty")
        ctx = RequestContext(who, new_correlation_id())
        if verbose:
            errors().print(
                f"correlation id {ctx.correlation_id} · actor {ctx.actor} · database "
                f"{redact(settings.database_url)}",
                markup=False,
            )
        with logged_command(current_command(), ctx.correlation_id):
            yield Session(ctx, settings, verbose)
    except typer.Exit:
        raise
    except (InputError, TimeFileError, ExternalDataError, DatabaseUrlError, SettingsError) as error:
        fail(str(error), BAD_INPUT)
    except NotFoundError as error:
        fail(f"not found: {error}", BAD_INPUT)
    except DomainError as error:
        fail(f"refused [{error.code}]: {error}", ATTENTION)
    except ApplicationError as error:
        fail(f"[{error.code}] {error}", ATTENTION)
    except ModuleNotFoundError as error:
        if error.name is None or not error.name.startswith("adapters.sqlalchemy"):
            raise
        fail("this build has no SQL database adapter yet; use --database-url memory://", 1)
    except Exception as error:
        if not _is_database_error(error):
            raise
        fail(
            f"the database cannot be used ({_first_line(error)}); if its schema is missing or "
            "old, run `throughline db upgrade` first",
            ATTENTION,
        )
    finally:
        release_connections()


def _is_database_error(error: BaseException) -> bool:
    return any(cls.__module__.startswith("sqlalchemy") for cls in type(error).__mro__)


def _first_line(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    return str(original).splitlines()[0] if str(original) else type(original).__name__
