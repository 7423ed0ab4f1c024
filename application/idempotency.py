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
from typing import Any

import attrs

from application.errors import ApplicationError, IdempotencyKeyReusedError, RequestInProgressError
from application.records import IdempotencyRecord, IdempotencyStatus
from application.unit_of_work import UnitOfWork

RETENTION = timedelta(hours=24)
STALE_AFTER = timedelta(minutes=5)


def fingerprint(method: str, route: str, body: Mapping[str, Any] | None) -> str:
    """Method, route and the canonical JSON of the body (sorted keys, no whitespace)."""
    canonical = json.dumps(body or {}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method.upper()} {route}\n{canonical}".encode()).hexdigest()


def begin(
    uow: UnitOfWork, principal: str, key: str, request_fingerprint: str, now: datetime
) -> IdempotencyRecord | None:
    """Claim a key. None: go ahead (and `complete` later). A record: replay its response."""
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
    uow.idempotency.save(
        IdempotencyRecord(principal, key, request_fingerprint, IdempotencyStatus.IN_PROGRESS, now)
    )
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


@attrs.define(eq=False)
class Claim:
    """A request's key, to be claimed in the transaction of the first unit of work that writes
    for it (ADR 0018)."""

    principal: str
    key: str
    fingerprint: str
    now: datetime
    #: Whether a committed transaction holds the claim.
    claimed: bool = False
    _holder: object | None = attrs.field(default=None, init=False)

    def take(self, uow: UnitOfWork) -> None:
        """Claim the key in this unit of work, unless the request already holds it: a stored
        answer raises `AlreadyAnsweredError`, another request's claim a conflict."""
        if self.claimed or self._holder is not None:
            return
        stored = begin(uow, self.principal, self.key, self.fingerprint, self.now)
        if stored is not None:
            raise AlreadyAnsweredError(stored)
        self._holder = uow

    def committed(self, uow: UnitOfWork) -> None:
        """The unit of work holding the claim committed it."""
        if self._holder is uow:
            self.claimed, self._holder = True, None

    def released(self, uow: UnitOfWork) -> None:
        """The unit of work left; a claim it did not commit was rolled back with it."""
        if self._holder is uow:
            self._holder = None
