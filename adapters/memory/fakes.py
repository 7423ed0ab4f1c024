"""Fakes of the external systems (and a clock, a stopwatch and ids a test controls), used by
the unit tests and by a process that has no real connector configured."""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from application.errors import (
    DownstreamUnavailableError,
)
from application.ports import CustomerRecord
from application.records import (
    OutboxEvent,
)
from domain.contract import Contract
from domain.ids import (
    ContractId,
    CustomerId,
    EngagementId,
    LegalEntityId,
)
from domain.invoice import Invoice
from domain.money import Money
from domain.period import Period


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("the clock needs a timezone-aware time")
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current = self.current + timedelta(**delta)


class FakeStopwatch:
    """A stopwatch that moves on by `tick` seconds at every reading, so whatever is timed
    between two readings took exactly `tick` seconds."""

    def __init__(self, tick: float = 0.0) -> None:
        self.tick = tick
        self.current = 0.0

    def seconds(self) -> float:
        reading = self.current
        self.current += self.tick
        return reading


class SequentialIds:
    """`INV-000001`, `INV-000002`, ...: one counter per prefix, for the demo and the tests.

    Tests run commands from several threads at once (two billing runs racing for a contract),
    so a prefix's first id is taken under a lock: two threads creating the counter at the same
    moment would each start their own and hand out the same id twice."""

    def __init__(self) -> None:
        self._counters: defaultdict[str, itertools.count[int]] = defaultdict(
            lambda: itertools.count(1)
        )
        self._lock = threading.Lock()

    def next_id(self, prefix: str) -> str:
        with self._lock:
            number = next(self._counters[prefix])
        return f"{prefix}-{number:06d}"


class _Flaky:
    """A downstream system that can be switched off, or fail the next N calls."""

    def __init__(self) -> None:
        self.available = True
        self.failures_left = 0
        self.calls = 0

    def _call(self, what: str) -> None:
        self.calls += 1
        if not self.available or self.failures_left > 0:
            self.failures_left = max(0, self.failures_left - 1)
            raise DownstreamUnavailableError(f"{type(self).__name__}: {what} is unavailable")


class FakeCustomerMaster(_Flaky):
    def __init__(self, records: Iterable[CustomerRecord] = ()) -> None:
        super().__init__()
        self.records = {(r.customer_id, r.legal_entity_id): r for r in records}

    def lookup(
        self, customer_id: CustomerId, legal_entity_id: LegalEntityId
    ) -> CustomerRecord | None:
        self._call("the ERP customer master")
        return self.records.get((customer_id, legal_entity_id))


class FakeProjects(_Flaky):
    """The PSA: one project per idempotency key, however often it is asked."""

    def __init__(self) -> None:
        super().__init__()
        self.projects: dict[str, EngagementId] = {}
        self.reports: dict[str, tuple[ContractId, str, dict[str, str]]] = {}

    def provision(self, key: str, engagement_id: EngagementId, contract: Contract) -> str:
        self._call("the PSA")
        self.projects.setdefault(key, engagement_id)
        return f"PRJ-{engagement_id}"

    def report(self, key: str, contract_id: ContractId, kind: str, data: Mapping[str, str]) -> None:
        self._call("the PSA")
        self.reports.setdefault(key, (contract_id, kind, dict(data)))


class FakeHandover(_Flaky):
    def __init__(self) -> None:
        super().__init__()
        self.received: dict[str, str] = {}

    def hand_over(self, key: str, invoice: Invoice) -> str:
        self._call("the billing platform")
        self.received.setdefault(key, invoice.number or invoice.invoice_id)
        return f"ERP-{invoice.number}"


class FakeGeneralLedger(_Flaky):
    def __init__(self) -> None:
        super().__init__()
        self.posted: dict[str, Mapping[str, Any]] = {}

    def post(self, key: str, entry: Mapping[str, Any]) -> str:
        self._call("the general ledger")
        self.posted.setdefault(key, entry)
        return f"GL-{list(self.posted).index(key) + 1:06d}"


class FakeCrm(_Flaky):
    def __init__(self) -> None:
        super().__init__()
        self.updates: dict[str, tuple[CustomerId, str, Mapping[str, str]]] = {}

    def notify(self, key: str, customer_id: CustomerId, kind: str, data: Mapping[str, str]) -> None:
        self._call("the CRM")
        self.updates.setdefault(key, (customer_id, kind, dict(data)))


class FakePsaTimeExport:
    """What the PSA says was approved; tests set `rows` to what the PSA would export."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, date, Decimal]] = []

    def approved_hours(self, period: Period) -> list[tuple[str, Decimal]]:
        return [(entry_id, hours) for entry_id, day, hours in self.rows if period.contains(day)]


class FakeErpReceivables:
    """What the ERP says it posted; tests set `rows`."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, date, Money]] = []

    def posted_invoices(self, period: Period) -> list[tuple[str, Money]]:
        return [(number, gross) for number, day, gross in self.rows if period.contains(day)]


class FakeEventPublisher(_Flaky):
    """Subscribers of outbound events: every delivery in order (repeats kept, since delivery is
    at least once), and the aggregates whose events it refuses for now."""

    def __init__(self) -> None:
        super().__init__()
        self.received: list[OutboxEvent] = []
        self.refusing: set[str] = set()

    def publish(self, event: OutboxEvent) -> None:
        self._call("the webhook subscriber")
        if event.aggregate_id in self.refusing:
            raise DownstreamUnavailableError(f"the subscriber refused {event.aggregate_id}")
        self.received.append(event)

    @property
    def ids(self) -> list[str]:
        return [e.event_id for e in self.received]
