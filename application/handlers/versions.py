"""Master data kept as versions: the customer records the ERP pushes (ADR 0035) and our legal
entities' master data (ADR 0037) follow one rule.

A record that breaks a rule changes nothing. One that says something new is kept as the next
version and the one before it stays; one equal to the current version (whatever its version
number) is a replay and changes nothing. A seed record becomes version 1 only where no version
exists yet, so what was put since always wins and seeding again adds nothing. Every kept
version is audited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Generic, Protocol, TypeVar

import attrs
from attrs import AttrsInstance

from application.changes import VersionKept
from application.context import RequestContext
from application.errors import PayloadError
from application.messagebus import UnitOfWorkFactory
from application.unit_of_work import UnitOfWork


class _Versioned(AttrsInstance, Protocol):
    @property
    def version(self) -> int: ...


R = TypeVar("R", bound=_Versioned)


def _numbered(record: R, version: int) -> R:
    """The same record under another version number (mypy's attrs plugin checks `evolve` only
    on a concrete class, so the call goes through a plainly typed name)."""
    renumber: Callable[..., R] = attrs.evolve
    return renumber(record, version=version)


def _nothing(uow: UnitOfWork, record: object) -> None:
    return None


@attrs.frozen
class VersionedRecords(Generic[R]):
    """How one kind of master data is found, stored and named in the audit trail."""

    subject: Callable[[R], str]
    current: Callable[[UnitOfWork, R], R | None]
    add: Callable[[UnitOfWork, R], None]
    problems: Callable[[R], list[tuple[str, str]]]
    summary: Callable[[R], str]
    put_action: str
    seed_action: str
    #: What else a put version changes (a customer record's tax profile becomes billing's).
    also: Callable[[UnitOfWork, R], None] = _nothing

    def put(self, unit_of_work: UnitOfWorkFactory, ctx: RequestContext, record: R) -> R:
        """Keep `record` as the next version; the current one when it says the same thing."""
        problems = self.problems(record)
        if problems:
            raise PayloadError([(f"/{field}", detail) for field, detail in problems])
        with unit_of_work(ctx) as uow:
            current = self.current(uow, record)
            if current is not None and same_content(current, record):
                return current
            known = 0 if current is None else current.version
            stored = _numbered(record, known + 1)
            self.add(uow, stored)
            self.also(uow, stored)
            subject = self.subject(record)
            uow.record(
                VersionKept(subject, self.put_action, known, stored.version, self.summary(stored))
            )
            uow.commit()
        return stored

    def seed(
        self, unit_of_work: UnitOfWorkFactory, ctx: RequestContext, records: Iterable[R]
    ) -> int:
        """Keep each record as version 1 where none is kept yet; how many were kept."""
        with unit_of_work(ctx) as uow:
            kept = [record for record in records if self._seed(uow, record)]
            uow.commit()
        return len(kept)

    def _seed(self, uow: UnitOfWork, record: R) -> bool:
        if self.current(uow, record) is not None:
            return False
        self.add(uow, _numbered(record, 1))
        uow.record(VersionKept(self.subject(record), self.seed_action, 0, 1))
        return True


def same_content(a: R, b: R) -> bool:
    """Two versions say the same thing when they differ at most in their version number."""
    return _numbered(a, 0) == _numbered(b, 0)
