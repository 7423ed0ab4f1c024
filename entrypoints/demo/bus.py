"""The plumbing the scenarios share: the message bus, read-only units of work, the demo's
hand-moved clock and the ERP customer master the demo controls."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import attrs

from adapters.memory import FakeClock, FakeCustomerMaster
from application.context import RequestContext
from application.messagebus import MessageBus
from domain.billing_run import InvoiceProposal
from domain.ids import InvoiceId, ObligationId
from domain.money import Money
from entrypoints.composition.database import Reader
from entrypoints.demo.steps import Step

if TYPE_CHECKING:
    from entrypoints.demo.run import ScenarioRun

#: Called after each command with (commands so far, the date being loaded).
Progress = Callable[[int, date], None]


@attrs.frozen
class IssuedInvoice:
    invoice_id: InvoiceId
    number: str
    proposal: InvoiceProposal

    @property
    def gross(self) -> Money:
        return self.proposal.totals.gross


@attrs.frozen
class ScenarioLoad:
    """What one scenario did through the bus, and the paths its engagements took."""

    number: int
    title: str
    summary: str
    steps: tuple[Step, ...]
    engagements: tuple[tuple[str, str, tuple[str, ...]], ...]


class Loader:
    """Sends commands at scenario dates on a hand-moved clock and keeps what happened."""

    def __init__(
        self,
        bus: MessageBus,
        read: Reader,
        clock: FakeClock,
        master: FakeCustomerMaster,
        progress: Progress | None = None,
    ) -> None:
        self.bus, self.read, self.clock, self.master = bus, read, clock, master
        self.progress = progress
        self.commands = 0
        self.today = clock.now().date()
        self.owners: dict[ObligationId, ScenarioRun] = {}

    def move_to(self, day: date, hour: int = 9) -> None:
        """Time only moves forward: a day's first command is at `hour`, the next a minute on."""
        self.today = day
        start = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
        if start > self.clock.current:
            self.clock.current = start

    def context(self, actor: str, conversation: str) -> RequestContext:
        return RequestContext(actor, f"demo-{conversation}-{self.commands + 1:04d}")

    def do(self, actor: str, command: object, conversation: str) -> Any:
        self.clock.advance(minutes=1)
        result = self.bus.handle(command, self.context(actor, conversation))
        self.commands += 1
        if self.progress is not None:
            self.progress(self.commands, self.today)
        return result

    def customer(self, customer_id: str) -> str:
        for record in self.master.records.values():
            if record.customer_id == customer_id:
                return record.name
        return customer_id
