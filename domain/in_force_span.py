"""How long what is in force on a date stays in force: the last date, from a date on, through
which an engagement accepts time, a contract's version in force stays that version, and a rate
card's version in force stays that version (`date.max`: no end).

Admission decides an obligation's terms once per engagement, obligation and date (ADR 0058); a
batch spans weeks of dates over many engagements, so most of those decisions repeat the one
before. With these bounds, a decision taken on one date holds for the later dates up to the
earliest bound, and only the period lock is asked again for each date. Each bound is the answer
of the rule it follows (`accepts_time_on`, `version_in_force`) read forward, and is tested
against that rule date by date.
"""

from __future__ import annotations

from datetime import date, timedelta

from domain.contract import Contract, ContractVersion, VersionState
from domain.engagement import Engagement, EngagementState
from domain.ratecard import RateCard

#: No end: in force for every later date.
NO_END = date.max
_DAY = timedelta(days=1)


def time_accepted_through(engagement: Engagement) -> date:
    """The last work date an engagement that accepts time on some date accepts it for, from
    that date on: none while active; the day before its close date while closing."""
    if engagement.state is EngagementState.CLOSING and engagement.close_date is not None:
        return engagement.close_date - _DAY
    return NO_END


def version_in_force_through(contract: Contract, version: ContractVersion, on: date) -> date:
    """The last date from `on` on that `version`, the version in force on `on`, stays so: the
    day before a binding version listed after it takes effect, or the day a version was
    terminated, whichever comes first."""
    last = NO_END
    after = False
    for listed in contract.versions:
        if after and listed.is_binding and listed.effective_from > on:
            last = min(last, listed.effective_from - _DAY)
        if listed is version:
            after = True
        if listed.state is VersionState.TERMINATED and listed.terminated_on is not None:
            last = min(last, listed.terminated_on)
    return last


def card_version_through(card: RateCard, on: date) -> date:
    """The last date from `on` on that the card's version in force on `on` stays so: the day
    before any later-dated version takes effect."""
    later = [version.effective_from for version in card.versions if version.effective_from > on]
    return min(later) - _DAY if later else NO_END
