"""Natural keys: a fact that has an id in its source system is recorded once.

A payment the ERP numbered `PAY-1` is the same payment whether it arrives over HTTP under one
Idempotency-Key, under another, or by webhook under a new message id. The kind of fact, the
system that numbers it and its id, `(kind, source, key)`, are unique in the store (a database
constraint on SQL), and the row keeps what the fact said, when, by whom and under which
correlation id it was first recorded (ADR 0024).

A handler calls `admit` first, inside its own unit of work, before it changes anything:

- `NEW`: the fact is recorded in this unit of work; the handler applies its effect, and the
  commit stores both or neither (a refusal after `admit` leaves no key behind, so a corrected
  retry with the same id works);
- `REPLAY`: the same fact with the same content was recorded before; the handler changes
  nothing and answers as it did the first time;
- `NaturalKeyConflictError`: the same id with other content; the error names the first field
  that differs.

Two writers of one key at once: the store's `record` waits for the other writer's transaction
and then reports what it committed, so the second is a replay or a conflict, never a second
effect.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Protocol

import attrs

from application.context import RequestContext
from application.errors import ConflictError
from domain.money import EXACT, Money

if TYPE_CHECKING:
    from application.unit_of_work import UnitOfWork

#: What a fact's content field may be given as; each is stored as one canonical string.
ContentValue = str | date | Decimal | Money


class Admission(Enum):
    """What `admit` found: a fact seen for the first time, or one already recorded."""

    NEW = "new"
    REPLAY = "replay"


def canonical(value: ContentValue) -> str:
    """One text per value, so equal facts compare equal: a date in ISO form, a decimal without
    trailing zeros (`8.50` and `8.5` are the same hours), an amount at its currency's minor
    digits (`20` and `20.00` EUR are the same payment; more digits stay as sent)."""
    if isinstance(value, Money):
        quantum = value.currency.exponent
        at_minor = value.amount.quantize(quantum, context=EXACT)
        exact = at_minor if at_minor == value.amount else value.amount.normalize(EXACT)
        return f"{exact:f}"
    if isinstance(value, Decimal):
        return f"{value.normalize(EXACT):f}"
    if isinstance(value, date):
        return value.isoformat()
    return value


@attrs.frozen
class Fact:
    """A fact as its source system identifies it, with the content that makes it that fact
    (field name → canonical text, in the order a conflict is looked for)."""

    kind: str
    source: str
    key: str
    content: Mapping[str, str]

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.kind, self.source, self.key)

    def first_difference(self, other: Mapping[str, str]) -> str | None:
        """The first field whose value differs from `other`'s (fields of either side)."""
        fields = list(self.content) + [name for name in other if name not in self.content]
        return next((f for f in fields if self.content.get(f) != other.get(f)), None)

    def __str__(self) -> str:
        return f"{self.kind} {self.key!r} from the {self.source}"


@attrs.frozen
class FactKind:
    """A kind of fact and the system that numbers it (domain guide, section 2): its id means
    the same fact whichever channel brings it."""

    name: str
    source: str

    def fact(self, key: str, **content: ContentValue) -> Fact:
        return Fact(self.name, self.source, key, {k: canonical(v) for k, v in content.items()})


#: Payments are numbered by the ERP, which owns receivables; the HTTP route and the ERP's
#: `payment.received` webhook both carry that id.
PAYMENT = FactKind("payment", "erp")
#: Disputes are raised on the billing platform (its `dispute.opened` webhook); over HTTP the
#: optional `dispute_id` is that platform's id.
DISPUTE = FactKind("dispute", "billing")
#: Milestone completions are reported by the PSA (its `milestone.completed` webhook); over
#: HTTP the optional `completion_id` is the PSA's id.
MILESTONE_COMPLETION = FactKind("milestone_completion", "psa")


@attrs.frozen
class RecordedFact:
    """A fact as first recorded: what it said, when, by whom, under which correlation id."""

    fact: Fact
    recorded_at: datetime
    actor: str
    correlation_id: str


def content_json(content: Mapping[str, str]) -> str:
    """The stored form of a fact's content: canonical JSON (sorted keys, no spaces)."""
    return json.dumps(dict(content), sort_keys=True, separators=(",", ":"))


class NaturalKeyConflictError(ConflictError):
    """The source's id was already recorded for a fact with other content."""

    code = "natural_key_conflict"

    def __init__(self, fact: Fact, first: RecordedFact, field: str) -> None:
        self.fact, self.field = fact, field
        self.recorded = first.fact.content.get(field)
        self.received = fact.content.get(field)
        super().__init__(
            f"{fact} was recorded on {first.recorded_at.date().isoformat()} with "
            f"{field} {_shown(self.recorded)}, not {_shown(self.received)}: the same id is the "
            f"same {fact.kind}; another {fact.kind} needs its own id"
        )

    @property
    def field_detail(self) -> str:
        """What is wrong with the field alone (for a pointer at it)."""
        return f"recorded as {_shown(self.recorded)}; this says {_shown(self.received)}"


def _shown(value: str | None) -> str:
    return "(none)" if value is None else repr(value)


class NaturalKeyStore(Protocol):
    """Facts by `(kind, source, key)`, each recorded once."""

    def record(self, recorded: RecordedFact) -> RecordedFact | None:
        """Record the fact in this unit of work unless its key is taken: None when recorded,
        else the fact recorded under the key before (a writer of the same key in another
        transaction is waited for, and what it committed is the answer)."""

    def find(self, kind: str, source: str, key: str) -> RecordedFact | None: ...


def admit(uow: UnitOfWork, fact: Fact, ctx: RequestContext, at: datetime) -> Admission:
    """Record a fact the first time its source's id is seen; the same fact again is a replay;
    the same id with other content is refused, naming the field."""
    first = uow.natural_keys.record(RecordedFact(fact, at, ctx.actor, ctx.correlation_id))
    if first is None:
        return Admission.NEW
    field = fact.first_difference(first.fact.content)
    if field is not None:
        raise NaturalKeyConflictError(fact, first, field)
    return Admission.REPLAY
