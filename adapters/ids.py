"""Ids that stay unique across processes and machines (no shared counter to coordinate)."""

from __future__ import annotations

from uuid import uuid4


class RandomIds:
    """`INV-3F9A0C21B7D4E5F6`: the prefix and 64 random bits of a UUID4, upper-case hex.

    Several CLI, API and worker processes write to one database, so a per-process counter
    would collide. With 64 random bits the chance of any clash among a million ids of one
    prefix is about 3 in 100 million, and a clash is refused by the primary key, never
    merged. (Document numbers are not ids: they come gap-free from `Sequences`.)
    """

    def next_id(self, prefix: str) -> str:
        return f"{prefix}-{uuid4().hex[:16].upper()}"
