"""The real clock: timezone-aware UTC, the only `Clock` the running system uses; and the
monotonic stopwatch that times what the system does."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class SystemClock:
    """The operating system's time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class MonotonicStopwatch:
    """The operating system's monotonic clock: durations that a clock change cannot bend."""

    def seconds(self) -> float:
        return time.monotonic()
