"""The four reference scenarios of the domain guide (section 9), and a fifth for usage-based
billing (ADR 0051), one module each: the terms, the people and the dated steps, as data. Each
names the months it spans (closed one by one when the demo runs it alone)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import TYPE_CHECKING

import attrs

from domain.period import Period
from entrypoints.demo.scenarios import bellerive, kestrel, kestrel_usage, lumiere, verhaegen

if TYPE_CHECKING:
    from entrypoints.demo.run import ScenarioRun

Script = Callable[["ScenarioRun"], Iterator[date]]


@attrs.frozen
class Scenario:
    """One reference scenario: its number, title, summary, months and script."""

    number: int
    title: str
    summary: str
    months: tuple[Period, ...]
    script: Script

    @property
    def as_of(self) -> date:
        """The day its books are reported at: the end of its last month."""
        return self.months[-1].end


SCENARIOS = {
    module.NUMBER: Scenario(
        module.NUMBER, module.TITLE, module.SUMMARY, module.MONTHS, module.script
    )
    for module in (lumiere, kestrel, verhaegen, bellerive, kestrel_usage)
}
