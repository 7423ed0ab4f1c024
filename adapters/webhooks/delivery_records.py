"""The inbound webhook of records of declared delivery kinds (ADR 0050): one event type,
`delivery.reported`, for every kind, the kind named in the payload.

    {"kind": "usage", "reported_by": "metering", "records": [{...}, ...]}

Each record is built strictly as the kind's record class (docs/webhooks.md): a malformed field
is a problem at its pointer (`/data/records/2/units`) and the message goes to the exception
queue; a record its class refuses is rejected with that rule's code, like a refusal of the
handler, and the rest of the batch is recorded.
"""

from __future__ import annotations

from typing import Final

from adapters.delivery_intake import structure_records
from adapters.webhooks.fields import JsonObject
from application import commands as c
from domain.delivery_kinds import UnknownDeliveryKindError, delivery_kind, delivery_kinds

#: Records in one message (a bigger batch is split by the sender).
MAX_RECORDS: Final = 1000


def delivery_reported(data: JsonObject) -> list[object]:
    """A batch of one declared kind's records; each is accepted, a duplicate, a correction
    or refused with a reason."""
    name = data.identifier("kind")
    reported_by = data.identifier("reported_by", required=False, default="webhook")
    raw = [item.whole() for item in data.objects("records", max_items=MAX_RECORDS)]
    data.finish()
    data.problems.raise_if_any()
    try:
        kind = delivery_kind(name)
    except UnknownDeliveryKindError:
        known = ", ".join(k.name for k in delivery_kinds()) or "none"
        data.problems.add(data.at("kind"), f"no delivery kind {name!r} (registered: {known})")
        data.problems.raise_if_any()
        raise
    built = structure_records(kind, raw)
    for problem in built.problems:
        pointer = "/".join((data.at("records"), str(problem.position), *problem.path))
        data.problems.add(pointer, problem.detail)
    data.problems.raise_if_any()
    return [c.RecordDeliveryRecords(kind.name, built.records, built.refused, reported_by)]
