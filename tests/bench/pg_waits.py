"""What a database's connections are doing while a benchmark runs, sampled from
`pg_stat_activity`: running, waiting for a lock (and in which statement), waiting for the
client inside a transaction (the application working while it holds the transaction), idle.

    with WaitSampler(url) as sampler:
        ...  # the load
    sampler.shares()  # {"running": 0.31, "lock transactionid: UPDATE outbox ...": 0.02, ...}
"""

from __future__ import annotations

import threading
from collections import Counter
from types import TracebackType

import psycopg

#: The statement's first 64 characters: enough to tell the audit chain's lock
#: (`... || '.audit_log')`) from a person-day's (`... || $2), k)`).
SAMPLE = """
SELECT state, wait_event_type, wait_event, left(regexp_replace(query, '\\s+', ' ', 'g'), 64)
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
"""


def _what(state: str | None, wait_type: str | None, wait: str | None, query: str) -> str:
    if state == "active" and wait_type is None:
        return "running"
    if state == "active" and wait_type == "Lock":
        return f"lock {wait}: {query}"
    if state == "active":
        return f"waiting {wait_type}:{wait}"
    if state == "idle in transaction":
        return "in transaction, waiting for the application"
    return str(state or "unknown")


class WaitSampler:
    """Samples every `every` seconds in a thread of its own, on its own connection."""

    def __init__(self, url: str, every: float = 0.1) -> None:
        self._url = url.replace("postgresql+psycopg://", "postgresql://")
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-wait-sampler", daemon=True)
        self.counts: Counter[str] = Counter()

    def __enter__(self) -> WaitSampler:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(10.0)

    def _run(self) -> None:
        with psycopg.connect(self._url, autocommit=True) as conn:
            while not self._stop.wait(self._every):
                for state, wait_type, wait, query in conn.execute(SAMPLE):
                    self.counts[_what(state, wait_type, wait, query or "")] += 1

    def shares(self, top: int = 6) -> dict[str, float]:
        """The most frequent activities, as shares of the connections sampled that were not
        idle (an idle pooled connection is no work)."""
        busy = {k: n for k, n in self.counts.items() if k != "idle"}
        total = sum(busy.values()) or 1
        ranked = sorted(busy.items(), key=lambda kv: -kv[1])[:top]
        return {k: round(n / total, 3) for k, n in ranked}
