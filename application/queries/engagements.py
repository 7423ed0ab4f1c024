"""Engagements as the delivery screens read them: the list, one engagement with the states it
went through (its lifecycle path, read from the audit trail by subject) and what blocks its
setup.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Protocol

import attrs

from application.queries.paging import Page, PageRequest
from application.records import ExceptionState, IntegrationException
from domain.engagement import Engagement


def subject_of(engagement_id: str) -> str:
    """The audit and exception subject of an engagement."""
    return f"engagement:{engagement_id}"


@attrs.frozen
class EngagementFilter:
    """Which engagements a list shows; `visible_to` is the one customer a scoped caller sees."""

    state: str | None = None
    customer_id: str | None = None
    visible_to: str | None = None

    def admits(self, state: str, customer_id: str) -> bool:
        """The filter as the in-memory store applies it (SQL states the same in a WHERE)."""
        return (
            (self.state is None or state == self.state)
            and (self.customer_id is None or customer_id == self.customer_id)
            and (self.visible_to is None or customer_id == self.visible_to)
        )


@attrs.frozen
class EngagementSummary:
    engagement_id: str
    customer_id: str
    contract_id: str
    state: str


@attrs.frozen
class SetupIssue:
    """An open exception of an engagement's setup: what to fix before a replay."""

    exception_id: str
    kind: str
    reason_code: str
    detail: str
    state: str
    raised_at: datetime

    @classmethod
    def of(cls, exception: IntegrationException) -> SetupIssue:
        return cls(
            exception.exception_id,
            exception.kind.value,
            exception.reason_code,
            exception.detail,
            exception.state.value,
            exception.created_at,
        )


@attrs.frozen
class EngagementView:
    """One engagement as it stands, the states it went through and its open setup issues."""

    engagement_id: str
    customer_id: str
    contract_id: str
    state: str
    #: Set once closing started: no time is accepted for work from this date on.
    close_date: date | None
    #: Why setup is blocked, while it is.
    blocked_reason: str | None
    #: The PSA's reference of the engagement's project, kept when setup completes: the
    #: `project_code` dimension of its journal lines. None before, and for an engagement set
    #: up before the code was kept (ADR 0040).
    project_code: str | None
    #: The states it went through, oldest first, as the audit trail records them.
    path: tuple[str, ...]
    open_exceptions: tuple[SetupIssue, ...]

    @classmethod
    def of(
        cls,
        engagement: Engagement,
        path: tuple[str, ...],
        exceptions: Iterable[IntegrationException],
    ) -> EngagementView:
        """The view from the aggregate, its path and its exceptions (resolved ones left out)."""
        issues = sorted(
            (x for x in exceptions if x.state is not ExceptionState.RESOLVED),
            key=lambda x: x.exception_id,
        )
        return cls(
            engagement.engagement_id,
            engagement.customer_id,
            engagement.contract_id,
            engagement.state.value,
            engagement.close_date,
            engagement.blocked_reason,
            engagement.project_code,
            path,
            tuple(SetupIssue.of(x) for x in issues),
        )


def lifecycle_path(
    moves: Iterable[tuple[str | None, str | None]], start: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """The states a subject went through, oldest first, from its recorded (before, after)
    moves: a state is listed once per stay, however many records repeat it."""
    path = list(start)
    for before, after in moves:
        for state in (before, after):
            if state is not None and (not path or path[-1] != state):
                path.append(state)
    return tuple(path)


class EngagementQueries(Protocol):
    """The questions the engagement screens ask, one call each."""

    def engagements(
        self, where: EngagementFilter, page: PageRequest
    ) -> Page[EngagementSummary]: ...

    def engagement(self, engagement_id: str) -> EngagementView | None: ...

    def lifecycle_path(self, engagement_id: str) -> tuple[str, ...]: ...


def summary_key(summary: EngagementSummary) -> tuple[str]:
    """The keyset of the engagement list: its id."""
    return (summary.engagement_id,)
