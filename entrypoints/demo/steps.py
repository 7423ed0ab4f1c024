"""The vocabulary the scenarios and the report share: who works, what they send, what happened."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

import attrs

from domain.ids import ResourceId, Role


class StepKind(StrEnum):
    """What kind of thing happened, so a report can group or colour it."""

    LIFECYCLE = "lifecycle"
    MASTER_DATA = "master_data"
    CONTRACT = "contract"
    DELIVERY = "delivery"
    TIME = "time"
    REFUSED = "refused"
    BILLING = "billing"
    BLOCKED = "blocked"
    INVOICE = "invoice"
    DISPUTE = "dispute"
    CREDIT = "credit"
    PAYMENT = "payment"
    REVENUE = "revenue"
    CLOSE = "close"


@attrs.frozen
class Step:
    """One dated thing that happened in a scenario, and who did it."""

    on: date
    actor: str
    kind: StepKind
    text: str


@attrs.frozen
class Consultant:
    resource_id: ResourceId
    name: str
    role: Role


@attrs.frozen
class Work:
    """One approved time entry as the time app sends it."""

    entry_id: str
    who: Consultant
    day: date
    hours: str
    billable: bool = True
