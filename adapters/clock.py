"""The real clock: timezone-aware UTC, the only `Clock` the running system uses."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """The operating system's time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)
