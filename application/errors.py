"""Application errors: what a caller did wrong or what a downstream system could not do.

Domain rules raise `domain.errors.DomainError`; these cover the rest. Each carries a stable
`code` for reason codes and problem types.
"""

from __future__ import annotations

from typing import ClassVar


class ApplicationError(Exception):
    code: ClassVar[str] = "application_error"


class NotFoundError(ApplicationError):
    """The object does not exist (or is not visible to the caller)."""

    code = "not_found"


class ConflictError(ApplicationError):
    """Someone else changed the object first (optimistic concurrency) or the key is reused."""

    code = "conflict"


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
