"""Kinds of delivery data that billing models declare, beyond time, expenses and milestones.

Time entries, expenses and milestones are the delivery data every firm records: they have
their own lifecycles, WIP and leakage rules, and several models read them. A billing model that
bills something else (units of usage reported by a metering system, say) declares a
`DeliveryKind`: a name and a frozen record class. The store, the ingestion routes, the CSV
import and the billing and revenue contexts handle every registered kind alike
(docs/adr/0009-adding-a-billing-model.md).

A record's `record_id` is its natural key in the reporting system. A record reported again
under the same id with other values is a correction: it replaces the earlier revision, and the
billed ledger (keyed on the record's `SourceRef`) tells the model what was billed before.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, Generic, Protocol, TypeVar, cast, runtime_checkable

import attrs

from domain.errors import DomainError
from domain.ids import ObligationId

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


@runtime_checkable
class DeliveryRecord(Protocol):
    """What every record of a declared delivery kind offers."""

    @property
    def record_id(self) -> str: ...

    @property
    def obligation_id(self) -> ObligationId: ...

    @property
    def occurred_on(self) -> date: ...


R = TypeVar("R", bound=DeliveryRecord)


class UnknownDeliveryKindError(DomainError):
    code = "unknown_delivery_kind"


class InvalidDeliveryKindError(DomainError):
    code = "invalid_delivery_kind"


@attrs.frozen
class DeliveryKind(Generic[R]):
    """A kind of delivery record: its name (a URL segment and a table suffix) and its class."""

    name: str
    record_type: type[R]
    description: str
    #: One record as a reporting system sends it (field names to JSON values), for the docs
    #: and the OpenAPI examples of the ingestion routes; none when the kind gives none.
    example: Mapping[str, Any] | None = attrs.field(default=None, eq=False)


_KINDS: dict[str, DeliveryKind[Any]] = {}


def register_delivery_kind(
    name: str,
    record_type: type[R],
    description: str,
    *,
    example: Mapping[str, Any] | None = None,
) -> DeliveryKind[R]:
    """Declare a kind of delivery record; a name is registered once, by one record class."""
    if not _NAME.match(name):
        raise InvalidDeliveryKindError(
            f"a delivery kind is named in lower-case letters, digits and underscores: {name!r}"
        )
    known = _KINDS.get(name)
    if known is not None and known.record_type is not record_type:
        raise InvalidDeliveryKindError(f"the delivery kind {name!r} is registered already")
    kind = DeliveryKind(name, record_type, description, example)
    _KINDS[name] = kind
    return kind


def delivery_kind(name: str) -> DeliveryKind[Any]:
    """The registered delivery kind of this name."""
    try:
        return _KINDS[name]
    except KeyError:
        raise UnknownDeliveryKindError(f"no delivery kind is named {name!r}") from None


def delivery_kinds() -> tuple[DeliveryKind[Any], ...]:
    """Every registered delivery kind, by name."""
    return tuple(_KINDS[name] for name in sorted(_KINDS))


def kind_of(record: DeliveryRecord) -> DeliveryKind[Any]:
    """The registered kind whose record class this record is."""
    for kind in _KINDS.values():
        if type(record) is kind.record_type:
            return kind
    raise UnknownDeliveryKindError(f"no delivery kind has records of {type(record).__name__}")


@attrs.frozen
class DeliveryRecords:
    """Records of declared delivery kinds, by kind name, each kind's in a stable order."""

    by_kind: Mapping[str, tuple[DeliveryRecord, ...]] = attrs.field(factory=dict)

    @classmethod
    def of(cls, records: Iterable[DeliveryRecord]) -> DeliveryRecords:
        """Group records by their kind, ordered by date, then id."""
        grouped: dict[str, list[DeliveryRecord]] = defaultdict(list)
        for record in records:
            grouped[kind_of(record).name].append(record)
        return cls(
            {
                name: tuple(sorted(found, key=lambda r: (r.occurred_on, r.record_id)))
                for name, found in grouped.items()
            }
        )

    def get(self, kind: DeliveryKind[R]) -> tuple[R, ...]:
        """The records of one kind (none when nothing of that kind was reported)."""
        return cast("tuple[R, ...]", self.by_kind.get(kind.name, ()))

    def for_obligation(self, obligation_id: ObligationId) -> DeliveryRecords:
        """Only the records reported against one obligation."""
        return DeliveryRecords(
            {
                name: mine
                for name, records in self.by_kind.items()
                if (mine := tuple(r for r in records if r.obligation_id == obligation_id))
            }
        )

    def for_obligations(self, obligation_ids: Iterable[ObligationId]) -> DeliveryRecords:
        """Only the records reported against these obligations (a contract's, say)."""
        wanted = set(obligation_ids)
        return DeliveryRecords(
            {
                name: mine
                for name, records in self.by_kind.items()
                if (mine := tuple(r for r in records if r.obligation_id in wanted))
            }
        )

    def __bool__(self) -> bool:
        return any(self.by_kind.values())
