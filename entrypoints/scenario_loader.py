"""Loading the reference scenarios into a database through the message bus.

Every change is a command handled by the application layer: the blocked setup lands in the
typed exception queue and is replayed, invoices are drafted, approved by someone else, issued,
posted and handed over, and every transition is in the hash-chained audit trail.

The scenarios are scripts (`entrypoints.scenario_scripts`): generators that yield the date of
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
from application.queries.books import Books, UnitOfWorkBooks
from application.records import IntegrationException
from domain.ids import ObligationId, Role
from domain.money import Money
from domain.period import Period
from domain.ratecard import RateCardVersion
from entrypoints import demo as ref
from entrypoints.bootstrap import Database, Reader, compose, reader
from entrypoints.demo import CONTROLLER, Step, StepKind
from entrypoints.externals import Externals
from entrypoints.scenario_run import Loader, Progress, ScenarioLoad, ScenarioRun, Script
from entrypoints.scenario_scripts import CUSTOMER_MASTER, DEMO_START, MONTH_ENDS, SCRIPTS


class DemoState(Enum):
    ABSENT = "absent"
    PARTIAL = "partial"
    LOADED = "loaded"


@attrs.frozen
class DemoLoad:
    """What the load did, and the books, exception queue and audit trail it left."""

    scenarios: tuple[ScenarioLoad, ...]
    exceptions: tuple[IntegrationException, ...]
    books: Books
    audit: ChainReport
    commands: int


def demo_state(read: Reader) -> DemoState:
    """Absent, partly loaded (an interrupted load) or loaded: the first and last things the
    load writes are the firm's rate card and the close of its last month."""
    asked = UnitOfWorkBooks(read, RequestContext("demo", "demo-check"))
    if not asked.rate_card_exists(ref.FR_RATE_CARD):
        return DemoState.ABSENT
    if asked.is_period_closed(MONTH_ENDS[-1]):
        return DemoState.LOADED
    return DemoState.PARTIAL


def load_reference_scenarios(database: Database, progress: Progress | None = None) -> DemoLoad:
    """Send the four scenarios through the bus into the database, on the demo's own clock,
    ids and customer master (the neighbouring systems are the in-memory fakes)."""
    clock = FakeClock(DEMO_START)
    master = FakeCustomerMaster(CUSTOMER_MASTER)
    # The demo books on the shipped charts of accounts (ADR 0033): its journal entries are
    # posted with ERP accounts and dimensions, ready for GET /journal-entries.
    charts = read_charts(DEFAULT_CHARTS)
    bus = compose(
        database, clock, SequentialIds(), Externals(customer_master=master), charts=charts
    )
    read = reader(database, clock)
    loader = Loader(bus, read, clock, master, progress)
    _set_up_the_firm(loader)
    runs = [
        (ScenarioRun(loader, n, title, summary), script) for n, title, summary, script in SCRIPTS
    ]
    run_scripts(loader, runs, MONTH_ENDS)
    # The ERP master's records as the demo ends are kept in the store (ADR 0035 seed), so the
    # served demo prints each buyer's legal name, address and VAT id on its documents (ADR 0037).
    kept = c.SeedCustomerRecords(tuple(master.records.values()))
    bus.handle(kept, RequestContext(ref.MASTER_DATA, "demo-customer-records"))
    asked = UnitOfWorkBooks(read, RequestContext("demo", "demo-report"))
    return DemoLoad(
        tuple(run.result() for run, _ in runs),
        tuple(asked.exceptions(include_resolved=True)),
        asked.books(),
        asked.audit_trail(),
        loader.commands,
    )


def _set_up_the_firm(loader: Loader) -> None:
    """The firm's tax rates and its French rate card, before the first deal."""
    loader.move_to(DEMO_START.date())
    loader.do(ref.MASTER_DATA, c.SetTaxRates(ref.TAX_RATES), "firm")
    # What the firm's documents say about the seller (ADR 0037): its two legal entities,
    # seeded beside the demo's commands (the clock and the command count do not move).
    seed = c.SeedLegalEntities(read_legal_entities(DEMO_LEGAL_ENTITIES))
    loader.bus.handle(seed, RequestContext(ref.MASTER_DATA, "demo-firm-legal-entities"))
    loader.do(
        ref.MASTER_DATA,
        c.CreateRateCard(ref.FR_RATE_CARD, "France regional rate card 2026", "EUR"),
        "firm",
    )
    rates = {Role(role): Decimal(rate) for role, rate in ref.FR_RATES.items()}
    version = RateCardVersion(1, date(2026, 1, 1), ref.EUR, rates)
    loader.do(ref.MASTER_DATA, c.PublishRateCardVersion(ref.FR_RATE_CARD, version), "firm")


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
    posted: dict[ObligationId, Money] = loader.do(CONTROLLER, c.RecogniseRevenue(period), "close")
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
