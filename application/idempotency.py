"""Idempotency keys for commands: same key and same request → the stored result, no second
effect; same key with a different request → a conflict; same key while the first request
still runs → 'in progress'. Keys are scoped to the principal and kept at least 24 hours.

A request refused before any state change is not stored (`abandon`), so a corrected retry
with the same key works. An in-progress record older than `STALE_AFTER` is taken to belong to
a crashed process and may be taken over.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from application.errors import IdempotencyKeyReusedError, RequestInProgressError
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
