"""Idempotency keys for commands: same key and same request → the stored result, no second
effect; same key with a different request → a conflict; same key while the first request
still runs → 'in progress'. Keys are scoped to the principal and kept at least 24 hours.

A request refused before any state change is not stored (`abandon`), so a corrected retry
with the same key works. An in-progress record older than `STALE_AFTER` is taken to belong to
a crashed process and may be taken over.

A `Claim` carried in the request context is taken by the first unit of work that writes for
the request, inside that unit of work's own transaction (ADR 0018): the command's changes and
its claim commit together, and a command that is refused or fails rolls its claim back with
everything else, so nothing is left to abandon.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

import attrs

from application.errors import ApplicationError, IdempotencyKeyReusedError, RequestInProgressError
from application.records import IdempotencyRecord, IdempotencyStatus
from application.unit_of_work import UnitOfWork

RETENTION = timedelta(hours=24)
STALE_AFTER = timedelta(minutes=5)


def fingerprint(method: str, route: str, body: Mapping[str, Any] | None) -> str:
    """Method, route and the canonical JSON of the body (sorted keys, no whitespace)."""
    return fingerprint_of(method, route, canonical_json(body))


def canonical_json(body: Mapping[str, Any] | None) -> str:
    """The body as a fingerprint reads it: sorted keys, no whitespace, non-ASCII escaped."""
    return json.dumps(body or {}, sort_keys=True, separators=(",", ":"), default=str)


def fingerprint_of(method: str, route: str, canonical: str) -> str:
    """The fingerprint of a request whose body `canonical_json` wrote as `canonical`."""
    return hashlib.sha256(f"{method.upper()} {route}\n{canonical}".encode()).hexdigest()


def begin(
    uow: UnitOfWork, principal: str, key: str, request_fingerprint: str, now: datetime
) -> IdempotencyRecord | None:
    """Claim a key. None: go ahead (and `complete` later). A record: replay its response."""
    claim = IdempotencyRecord(
        principal, key, request_fingerprint, IdempotencyStatus.IN_PROGRESS, now
    )
    # A fresh key, the usual case, is claimed by one insert that does nothing when the key
    # exists; only a key seen before is read and judged.
    if uow.idempotency.add_new(claim):
        return None
    existing = uow.idempotency.find(principal, key)
    if existing is not None:
        if existing.fingerprint != request_fingerprint:
            raise IdempotencyKeyReusedError(
                f"idempotency key {key!r} was used for a different request"
            )
        if existing.status is IdempotencyStatus.COMPLETED:
            return existing
        if now - existing.created_at < STALE_AFTER:
            raise RequestInProgressError(f"a request with idempotency key {key!r} is running")
    uow.idempotency.save(claim)
    return None


def complete(uow: UnitOfWork, principal: str, key: str, status: int, body: str) -> None:
    """Store the response with the key `begin` claimed (one write, no read)."""
    uow.idempotency.complete(principal, key, status, body)


def abandon(uow: UnitOfWork, principal: str, key: str) -> None:
    """Forget a claim whose request was refused before it changed anything."""
    uow.idempotency.delete(principal, key)


def purge(uow: UnitOfWork, now: datetime) -> int:
    """Drop keys past their retention."""
    return uow.idempotency.purge_before(now - RETENTION)


class AlreadyAnsweredError(ApplicationError):
    """The request was answered before under this key: the stored answer is the answer."""

    code = "already_answered"

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__(f"idempotency key {record.key!r} was answered before")
        self.record = record


class HeldCommit(Protocol):
    """A unit of work whose commit waits for the request's answer (ADR 0018)."""

    def finish(self, answer: tuple[int, str] | None) -> None:
        """Store the answer with the claimed key, when there is one, and commit."""


@attrs.define(eq=False)
class Claim:
    """A request's key, to be claimed in the transaction of the first unit of work that writes
    for it (ADR 0018).

    With `answer_in_transaction`, the unit of work holding the claim does everything of its
    commit but the last step and waits for the request's answer: `answer` stores it with the
    key and commits, one transaction for the command, its claim and its answer. Anything else
    that writes for the request first commits the held work without the answer (`settle`), as
    does a request that ends without one.
    """

    principal: str
    key: str
    fingerprint: str
    now: datetime
    #: Whether the request keeps the command's transaction open for its answer.
    answer_in_transaction: bool = False
    #: Whether a committed transaction holds the claim.
    claimed: bool = False
    _holder: object | None = attrs.field(default=None, init=False)
    _held: HeldCommit | None = attrs.field(default=None, init=False)

    def take(self, uow: UnitOfWork) -> None:
        """Claim the key in this unit of work, unless the request already holds it: a stored
        answer raises `AlreadyAnsweredError`, another request's claim a conflict."""
        if self.claimed or self._holder is not None:
            return
        stored = begin(uow, self.principal, self.key, self.fingerprint, self.now)
        if stored is not None:
            raise AlreadyAnsweredError(stored)
        self._holder = uow

    def hold(self, uow: HeldCommit) -> bool:
        """Whether this unit of work, about to commit, waits for the answer instead."""
        if not self.answer_in_transaction or self._holder is not uow:
            return False
        self._held = uow
        return True

    @property
    def held(self) -> bool:
        """A unit of work waits for the answer to commit."""
        return self._held is not None

    def answer(self, status: int, body: str) -> bool:
        """Store the answer in the held transaction and commit it; False when none is held."""
        return self._finish((status, body))

    def settle(self) -> None:
        """Commit the held transaction without the answer (stored later, on its own)."""
        self._finish(None)

    def _finish(self, answer: tuple[int, str] | None) -> bool:
        held, self._held = self._held, None
        if held is None:
            return False
        held.finish(answer)
        return True

    def committed(self, uow: UnitOfWork) -> None:
        """The unit of work holding the claim committed it."""
        if self._holder is uow:
            self.claimed, self._holder = True, None

    def released(self, uow: UnitOfWork) -> None:
        """The unit of work left; a claim it did not commit was rolled back with it."""
        if self._holder is uow and not self.held:
            self._holder = None
