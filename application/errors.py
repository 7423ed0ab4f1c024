"""Application errors: what a caller did wrong or what a downstream system could not do.

Domain rules raise `domain.errors.DomainError`; these cover the rest. Each carries a stable
`code` for reason codes and problem types.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar


class ApplicationError(Exception):
    code: ClassVar[str] = "application_error"


class NotFoundError(ApplicationError):
    """The object does not exist (or is not visible to the caller)."""

    code = "not_found"


class ConflictError(ApplicationError):
    """Someone else changed the object first (optimistic concurrency) or the key is reused."""

    code = "conflict"


class ConcurrentChangeError(ConflictError):
    """What this unit of work read was changed by another one that committed first (a
    revision moved on): nothing of this one was stored, and the same command run again reads
    the new state and may well succeed."""


class IdempotencyKeyReusedError(ConflictError):
    """The same idempotency key came with a different request."""

    code = "idempotency_key_reused"


class RequestInProgressError(ConflictError):
    """The first request with this idempotency key is still running."""

    code = "request_in_progress"


class DownstreamUnavailableError(ApplicationError):
    """An external system (ERP, PSA, CRM, billing platform) did not answer; retry later."""

    code = "downstream_unavailable"


class MasterDataError(ApplicationError):
    """The system of record lacks data we need (tax profile, billing address, currency)."""

    code = "master_data"


class OwnershipError(ApplicationError):
    """A system tried to change a field another system owns."""

    code = "not_the_owner"


class PayloadError(ApplicationError):
    """An inbound message does not say what its documented format requires.

    `problems` names every bad field as (JSON pointer into the message body, detail), so the
    sender can fix all of them at once; the pointer `""` is the body itself.
    """

    code = "invalid_payload"

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{pointer or '/'}: {detail}" for pointer, detail in problems))


class MalformedJsonError(PayloadError):
    """The body is not one JSON document (not UTF-8, bad syntax, repeated keys, NaN)."""

    code = "malformed_json"


class UnknownEventTypeError(PayloadError):
    """The source sends no event of this type (or another system owns what it describes)."""

    code = "unknown_event_type"


class ItemsRejectedError(ApplicationError):
    """Some items of an inbound batch were refused, each with its reason code; the accepted
    ones are recorded, and a replay retries the refused ones."""

    code = "items_rejected"


class PostingMismatchError(ConflictError):
    """The ERP reports a posting that does not match the invoice Throughline issued."""

    code = "posting_mismatch"
