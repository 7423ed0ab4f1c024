"""Loading the reference scenarios into a database through the message bus.

Every change is a command handled by the application layer: the blocked setup lands in the
typed exception queue and is replayed, invoices are drafted, approved by someone else, issued,
posted and handed over, and every transition is in the hash-chained audit trail.

The scenarios are scripts (`entrypoints.demo.scenarios`): generators that yield the date of
their next step. They share one firm and one set of books, so the loader interleaves them in
date order on a clock it moves by hand, and at each month end recognises the month's revenue
and closes the accounting period for the whole firm.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from enum import Enum

import attrs

from adapters.chart_of_accounts import DEFAULT_CHARTS, read_charts
from adapters.legal_entities import DEMO_LEGAL_ENTITIES, read_legal_entities
from adapters.memory import FakeClock, FakeCustomerMaster, SequentialIds
from application import commands as c
from application.audit import ChainReport
from application.context import RequestContext
from application.queries.snapshot import BooksSnapshot, UnitOfWorkSnapshot
from application.records import IntegrationException
from domain.ids import Role
from domain.period import Period
from domain.ratecard import RateCardVersion
from entrypoints.composition.bootstrap import compose
from entrypoints.composition.database import Database, Reader, reader
from entrypoints.composition.externals import Externals
from entrypoints.demo import firm
from entrypoints.demo.bus import Loader, Progress, ScenarioLoad
from entrypoints.demo.firm import CONTROLLER, CUSTOMER_MASTER, DEMO_START, MONTH_ENDS
from entrypoints.demo.run import ScenarioRun
from entrypoints.demo.scenarios import SCENARIOS, Scenario, Script
from entrypoints.demo.steps import Step, StepKind


class DemoState(Enum):
    ABSENT = "absent"
    PARTIAL = "partial"
    LOADED = "loaded"


@attrs.frozen
class DemoLoad:
    """What the load did, and the books, exception queue and audit trail it left."""

    scenarios: tuple[ScenarioLoad, ...]
    exceptions: tuple[IntegrationException, ...]
    books: BooksSnapshot
    audit: ChainReport
    commands: int


def demo_state(read: Reader) -> DemoState:
    """Absent, partly loaded (an interrupted load) or loaded: the first and last things the
    load writes are the firm's rate card and the close of its last month."""
    asked = UnitOfWorkSnapshot(read, RequestContext("demo", "demo-check"))
    if not asked.rate_card_exists(firm.FR_RATE_CARD):
        return DemoState.ABSENT
    if asked.is_period_closed(MONTH_ENDS[-1]):
        return DemoState.LOADED
    return DemoState.PARTIAL


def load_reference_scenarios(database: Database, progress: Progress | None = None) -> DemoLoad:
    """Send the four scenarios through the bus into the database, on the demo's own clock,
    ids and customer master (the neighbouring systems are the in-memory fakes)."""
    loader, runs = run_through_the_bus(database, tuple(SCENARIOS.values()), MONTH_ENDS, progress)
    asked = UnitOfWorkSnapshot(loader.read, RequestContext("demo", "demo-report"))
    return DemoLoad(
        tuple(run.result() for run in runs),
        tuple(asked.exceptions(include_resolved=True)),
        asked.books(),
        asked.audit_trail(),
        loader.commands,
    )


def run_through_the_bus(
    database: Database,
    scenarios: Sequence[Scenario],
    month_ends: Sequence[Period],
    progress: Progress | None = None,
) -> tuple[Loader, list[ScenarioRun]]:
    """Set the firm up, run the scenarios interleaved in date order and close `month_ends`;
    the loader (its bus, reader and clock) and each scenario's run are returned."""
    clock = FakeClock(DEMO_START)
    master = FakeCustomerMaster(CUSTOMER_MASTER)
    # The demo books on the shipped charts of accounts (ADR 0033): its journal entries are
    # posted with ERP accounts and dimensions, ready for GET /journal-entries.
    charts = read_charts(DEFAULT_CHARTS)
    bus = compose(
        database, clock, SequentialIds(), Externals(customer_master=master), charts=charts
    )
    loader = Loader(bus, reader(database, clock), clock, master, progress)
    _set_up_the_firm(loader)
    runs = [(ScenarioRun(loader, s.number, s.title, s.summary), s.script) for s in scenarios]
    run_scripts(loader, runs, month_ends)
    # The ERP master's records as the demo ends are kept in the store (ADR 0035 seed), so the
    # served demo prints each buyer's legal name, address and VAT id on its documents (ADR 0037).
    kept = c.SeedCustomerRecords(tuple(master.records.values()))
    bus.handle(kept, RequestContext(firm.MASTER_DATA, "demo-customer-records"))
    return loader, [run for run, _ in runs]


def _set_up_the_firm(loader: Loader) -> None:
    """The firm's tax rates and its French rate card, before the first deal."""
    loader.move_to(DEMO_START.date())
    loader.do(firm.MASTER_DATA, c.SetTaxRates(firm.TAX_RATES), "firm")
    # What the firm's documents say about the seller (ADR 0037): its two legal entities,
    # seeded beside the demo's commands (the clock and the command count do not move).
    seed = c.SeedLegalEntities(read_legal_entities(DEMO_LEGAL_ENTITIES))
    loader.bus.handle(seed, RequestContext(firm.MASTER_DATA, "demo-firm-legal-entities"))
    loader.do(
        firm.MASTER_DATA,
        c.CreateRateCard(firm.FR_RATE_CARD, firm.FR_RATE_CARD_NAME, "EUR"),
        "firm",
    )
    rates = {Role(role): Decimal(rate) for role, rate in firm.FR_RATES.items()}
    version = RateCardVersion(1, firm.FR_RATES_FROM, firm.EUR, rates)
    loader.do(firm.MASTER_DATA, c.PublishRateCardVersion(firm.FR_RATE_CARD, version), "firm")


def run_scripts(
    loader: Loader, scripts: Sequence[tuple[ScenarioRun, Script]], month_ends: Sequence[Period]
) -> None:
    """Run the scripts interleaved in date order; close each month once its last day is done."""
    pending: list[tuple[date, int, Iterator[date]]] = []
    for order, (run, script) in enumerate(scripts):
        steps = script(run)
        first = next(steps, None)
        if first is not None:
            heapq.heappush(pending, (first, order, steps))
    months = list(month_ends)
    runs = [run for run, _ in scripts]
    while pending:
        day, order, steps = heapq.heappop(pending)
        while months and months[0].end < day:
            month_end(loader, runs, months.pop(0))
        loader.move_to(day)
        following = next(steps, None)
        if following is None:
            runs[order].finished = day
        else:
            if following < day:
                raise RuntimeError(
                    f"scenario {runs[order].number} goes back in time to {following}"
                )
            heapq.heappush(pending, (following, order, steps))
    for period in months:
        month_end(loader, runs, period)


def month_end(loader: Loader, runs: Sequence[ScenarioRun], period: Period) -> None:
    """The controller recognises the month's revenue for the whole firm, then closes it."""
    loader.move_to(period.end, hour=18)
    run: c.RevenueRun = loader.do(CONTROLLER, c.RecogniseRevenue(period), "close")
    posted = run.posted
    loader.do(CONTROLLER, c.ClosePeriod(period), "close")
    by_run: defaultdict[int, list[str]] = defaultdict(list)
    for oid, amount in sorted(posted.items()):
        owner = loader.owners.get(oid)
        if owner is not None:
            sign = "+" if amount.is_positive() else ""
            by_run[owner.number].append(f"{oid} {sign}{amount}")
    for run in runs:
        started = run.steps and run.steps[0].on <= period.end
        if not started or (run.finished is not None and run.finished < period.start):
            continue
        revenue = "; ".join(by_run[run.number]) or "nothing earned this month"
        run.steps.append(
            Step(period.end, CONTROLLER, StepKind.REVENUE, f"Revenue {period.key}: {revenue}")
        )
        run.steps.append(
            Step(period.end, CONTROLLER, StepKind.CLOSE, f"Accounting period {period.key} closed")
        )
