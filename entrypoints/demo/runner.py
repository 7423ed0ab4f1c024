"""The demo report's runs: each reference scenario through the real application, on its own
database, read back into the report's model.

Each scenario gets a database of its own (in memory unless one is given), so its books are its
own: its documents are numbered by the application's sequences from the first, and its journal,
trial balances and positions are those of this scenario alone. There is no clock and no
randomness (the demo's clock is moved by hand, ids are sequential), so the result is the same
every time.
"""

from __future__ import annotations

import attrs

from application.context import RequestContext
from entrypoints.composition.database import Database, MemoryDatabase
from entrypoints.demo.books import scenario_result
from entrypoints.demo.loader import run_through_the_bus
from entrypoints.demo.result import ScenarioResult
from entrypoints.demo.scenarios import SCENARIOS


@attrs.frozen
class DemoResult:
    """The report of the scenarios run, in order."""

    scenarios: tuple[ScenarioResult, ...]

    def scenario(self, number: int) -> ScenarioResult:
        for scenario in self.scenarios:
            if scenario.number == number:
                return scenario
        raise KeyError(number)


class UnknownScenarioError(ValueError):
    """The demo has no scenario with that number."""


def run_scenario(number: int, database: Database | None = None) -> ScenarioResult:
    """Run one reference scenario through the application on a database of its own (a fresh
    in-memory one unless given), then read its books back."""
    try:
        scenario = SCENARIOS[number]
    except KeyError:
        raise UnknownScenarioError(
            f"there is no scenario {number}; choose one of {', '.join(map(str, SCENARIOS))}"
        ) from None
    books = database or MemoryDatabase()
    books.upgrade()
    loader, (run,) = run_through_the_bus(books, (scenario,), scenario.months)
    with loader.read(RequestContext("demo", f"demo-report-{number}")) as uow:
        return scenario_result(uow, scenario, run)


def run_demo() -> DemoResult:
    """Run the four reference scenarios, each on its own database, in order."""
    return DemoResult(tuple(run_scenario(n) for n in SCENARIOS))
