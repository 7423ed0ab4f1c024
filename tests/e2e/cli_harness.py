"""Two ways to run `throughline`: the real console script in a subprocess against a SQLite file,
and the same typer app in this process against a `memory://` database the test can look into.

Both answer `Done(code, out, err)`, so one workflow test runs on either.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Protocol

import attrs
from dependency_injector import providers
from typer.testing import CliRunner

from adapters.clock import SystemClock
from adapters.memory import SequentialIds
from adapters.sqlalchemy.database import Database as SqlDatabase
from application import commands as c
from application.context import RequestContext
from application.messagebus import MessageBus
from domain.ids import ContractId, CustomerId, EngagementId, LegalEntityId
from entrypoints.cli import app
from entrypoints.composition.bootstrap import compose
from entrypoints.composition.container import container
from entrypoints.composition.database import MemoryDatabase
from entrypoints.composition.externals import Externals

ROOT = Path(__file__).resolve().parents[2]
CLEARED = (
    "THROUGHLINE_DATABASE_URL",
    "THROUGHLINE_CUSTOMER_MASTER",
    "THROUGHLINE_PSA_HOURS",
    "THROUGHLINE_ERP_RECEIVABLES",
    "THROUGHLINE_ACTOR",
)


@attrs.frozen
class Done:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def lists(self, table: str, *rows: tuple[str, ...], until: str | None = None) -> None:
        """The table titled `table` (up to the title `until`, where another table follows it)
        shows each of `rows`, its cells in order: a line number, an id, a reason, a detail."""
        start = self.out.index(table)
        shown = self.out[start : None if until is None else self.out.index(until, start)]
        for row in rows:
            assert re.search(r"\s+".join(map(re.escape, row)), shown), (
                f"{table} does not show {row}"
            )

    def refused_rows(self, counts: str, *rows: tuple[str, ...]) -> None:
        """An import that refused some of its rows: exit code 1, the line of `counts`, and each
        of `rows` in the table of rejected rows (a line number, an id, a reason, a detail)."""
        assert self.code == 1, self.text
        assert counts in self.out, self.out
        self.lists("Rejected rows", *rows)


class Throughline(Protocol):
    workdir: Path

    def __call__(self, *args: str, env: Mapping[str, str] | None = None) -> Done: ...


class Subprocess:
    """`python -m entrypoints.cli ...` with `THROUGHLINE_DATABASE_URL` set, as operators run it."""

    def __init__(self, database_url: str, workdir: Path, actor: str = "tester") -> None:
        self.workdir = workdir
        base = {k: v for k, v in os.environ.items() if k not in CLEARED}
        pythonpath = os.pathsep.join(p for p in (str(ROOT), base.get("PYTHONPATH", "")) if p)
        self.env = {
            **base,
            "PYTHONPATH": pythonpath,
            "THROUGHLINE_DATABASE_URL": database_url,
            "THROUGHLINE_ACTOR": actor,
        }

    def __call__(self, *args: str, env: Mapping[str, str] | None = None) -> Done:
        done = subprocess.run(
            [sys.executable, "-m", "entrypoints.cli", *args],
            capture_output=True,
            text=True,
            cwd=self.workdir,
            env={**self.env, **(env or {})},
            timeout=600,
            check=False,
        )
        return Done(done.returncode, done.stdout, done.stderr)


class InProcess:
    """The typer app in this process on one `memory://` database (the container's provider
    overridden), so state lives across the invocations of one test."""

    def __init__(self, database: MemoryDatabase, workdir: Path, actor: str = "tester") -> None:
        self.database, self.workdir = database, workdir
        self.env: dict[str, str | None] = dict.fromkeys(CLEARED)  # None: unset while running
        self.env.update(THROUGHLINE_DATABASE_URL="memory://", THROUGHLINE_ACTOR=actor)
        container.database.override(providers.Object(database))

    def __call__(self, *args: str, env: Mapping[str, str] | None = None) -> Done:
        cwd = Path.cwd()
        os.chdir(self.workdir)
        try:
            result = CliRunner().invoke(
                app, list(args), env={**self.env, **(env or {})}, catch_exceptions=False
            )
        finally:
            os.chdir(cwd)
        return Done(result.exit_code, result.stdout, result.stderr)

    def close(self) -> None:
        reset_container()


def reset_container() -> None:
    """Forget every override and singleton and release the database, as a new process would."""
    for provider in container.traverse():
        if provider.overridden:
            provider.reset_override()
    container.shutdown_resources()
    container.reset_singletons()


def copy_sqlite(source: Path, target: Path) -> None:
    """A database file and its write-ahead log, if any."""
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")


def copy_memory(database: MemoryDatabase) -> MemoryDatabase:
    fresh = MemoryDatabase()
    fresh.store.data = copy.deepcopy(database.store.data)
    return fresh


def write(path: Path, *lines: str) -> Path:
    """A text file of these lines, as an operator would hand it to an import."""
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@attrs.frozen
class OneContract:
    """An engagement of acme's with one approved contract version holding `terms`."""

    engagement_id: str
    contract_id: str
    description: str
    effective: date
    terms: object


@contextmanager
def cli_with_contract(
    store: str, workdir: Path, seeded: OneContract
) -> Iterator[tuple[InProcess, MessageBus]]:
    """The CLI in this process, and the bus, on an in-memory database (`store` "memory") or a
    migrated SQLite file ("sqlite") seeded with one contract."""
    database = (
        MemoryDatabase()
        if store == "memory"
        else SqlDatabase(f"sqlite:///{workdir / 'throughline.db'}")
    )
    if isinstance(database, SqlDatabase):
        database.upgrade()
    bus = compose(database, SystemClock(), SequentialIds(), Externals())  # type: ignore[arg-type]
    seed = RequestContext("j.moreau", "seed")
    contract, customer = ContractId(seeded.contract_id), CustomerId("acme")
    bus.handle(c.ProposeEngagement(EngagementId(seeded.engagement_id), customer, contract), seed)
    bus.handle(
        c.RegisterContract(contract, customer, LegalEntityId("tl-uk"), "EUR", seeded.description),
        seed,
    )
    bus.handle(c.DraftContractVersion(contract, seeded.effective, (seeded.terms,)), seed)
    bus.handle(c.ApproveContractVersion(contract, 1), seed)
    runner = InProcess(database, workdir)  # type: ignore[arg-type]
    try:
        yield runner, bus
    finally:
        reset_container()
        if isinstance(database, SqlDatabase):
            database.dispose()
