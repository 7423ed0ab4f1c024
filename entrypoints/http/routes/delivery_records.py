"""Records of the delivery kinds billing models declare (ADR 0050): one pair of routes for
every registered kind, `POST` and `GET /delivery-records/{kind}`.

A batch answers 200 with one result per record in the order sent: `accepted` (new),
`duplicate` (the same values again; nothing changes), `corrected` (other values for a known
record id: a new revision, the earlier one kept) or `rejected` with the rule's code. Each record
is built strictly as the kind's record class: an unknown, missing or mistyped field is a 400
pointing at it (`/records/2/units`) and nothing is stored; a record its class refuses is
rejected with that rule's code, the rest of the batch goes on. An unknown kind is a 404 that
names the kinds there are.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.openapi.spec import Example
from litestar.params import PathParameter

from adapters.delivery_intake import outcomes, record_ids, structure_records
from adapters.serialization import unstructure
from application import commands as c
from domain.delivery_kinds import (
    DeliveryKind,
    UnknownDeliveryKindError,
    delivery_kind,
    delivery_kinds,
)
from domain.ids import CustomerId, ObligationId
from domain.reported_record import ReportedRecord
from entrypoints.http.problems import KIND_PATTERN, FieldError, Problem
from entrypoints.http.routes.common import (
    ID_PATTERN,
    WRITE_PROBLEMS,
    IdempotencyKey,
    Limit,
    documented,
    permission,
    refuse_fields,
)
from entrypoints.http.routes.declare import optional_query, respond_after
from entrypoints.http.routes.delivery_text import body_example
from entrypoints.http.routes.keyset import KeysetCursor, page_out, page_request
from entrypoints.http.runtime import Page, context_of, principal_of, services_of

MAX_ITEMS = 1_000

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]

KindPath = Annotated[
    str,
    PathParameter(
        pattern=KIND_PATTERN,
        description="A registered delivery kind (see docs/http-api.md for each kind's fields).",
        examples=[Example(summary="usage reported by a metering system", value="usage")],
    ),
]
ObligationQuery = Annotated[
    str | None,
    optional_query(
        "obligation_id",
        "one obligation",
        "usage",
        pattern=ID_PATTERN,
        description="Only the records reported against this obligation.",
    ),
]


class DeliveryRecordsBody(msgspec.Struct, forbid_unknown_fields=True):
    #: Each an object with exactly the fields of the kind's record class.
    records: Annotated[list[dict[str, Any]], msgspec.Meta(min_length=1, max_length=MAX_ITEMS)]
    #: Who reported the records (kept in the audit trail).
    reported_by: Name = "api"


class RecordCounts(msgspec.Struct):
    accepted: int
    duplicates: int
    corrected: int
    rejected: int


class RecordResult(msgspec.Struct):
    record_id: str
    status: str  # accepted | duplicate | corrected | rejected
    reason_code: str | None
    detail: str | None


class DeliveryRecordsOut(msgspec.Struct):
    counts: RecordCounts
    results: list[RecordResult]


class DeliveryRecordOut(msgspec.Struct):
    kind: str
    record_id: str
    obligation_id: str
    occurred_on: str
    revision: int
    reported_at: str
    #: The record's fields as reported (its current revision).
    values: dict[str, Any]


def registered(kind: str) -> DeliveryKind[Any]:
    """The registered kind, or a 404 that names every kind there is."""
    try:
        return delivery_kind(kind)
    except UnknownDeliveryKindError:
        known = ", ".join(k.name for k in delivery_kinds()) or "none"
        raise Problem(
            "not-found", f"there is no delivery kind {kind!r} (registered: {known})"
        ) from None


def record_out(reported: ReportedRecord) -> DeliveryRecordOut:
    return DeliveryRecordOut(
        kind=reported.kind,
        record_id=reported.record_id,
        obligation_id=str(reported.obligation_id),
        occurred_on=reported.occurred_on.isoformat(),
        revision=reported.revision,
        reported_at=reported.reported_at.isoformat(),
        values=unstructure(reported.record),
    )


_EXAMPLE = {
    "records": [
        {
            "record_id": "MTR-2026-03-05-001",
            "obligation_id": "usage",
            "occurred_on": "2026-03-05",
            "quantity": "120",
        }
    ],
    "reported_by": "metering",
}


@post(
    "/delivery-records/{kind:str}",
    opt=permission("delivery:write"),
    tags=["delivery"],
    summary="Record a batch of one delivery kind's records (accepted, duplicate, corrected "
    "or rejected)",
    description=(
        "At most 1,000 records, each an object with exactly the fields of the kind's record "
        "class (docs/http-api.md lists the registered kinds). A record id seen before with the "
        "same values is a `duplicate`; with other values it is `corrected` (a new revision; the "
        "earlier one is kept). A record is rejected when its obligation is unknown, its "
        "obligation's billing model does not bill the kind, its date (or, for a correction, "
        "its earlier date) falls in a closed period, its own class refuses it, or its id "
        "appears earlier in the batch with other values."
    ),
    responses=documented(*WRITE_PROBLEMS),
    status_code=200,
    sync_to_thread=True,
)
def record_delivery_records(
    request: Request[Any, Any, Any],
    kind: KindPath,
    idempotency_key: IdempotencyKey,
    data: Annotated[DeliveryRecordsBody, body_example("one usage record", _EXAMPLE)],
) -> Response[DeliveryRecordsOut]:
    services = services_of(request)
    declared = registered(kind)
    if len(data.records) > services.limits.max_batch_items:
        raise Problem(
            "validation-error",
            f"a batch holds at most {services.limits.max_batch_items} records",
            errors=[FieldError("/records", "too many items")],
        )
    built = structure_records(declared, data.records)
    errors = [
        FieldError("/" + "/".join(("records", str(p.position), *p.path)), p.detail)
        for p in built.problems
    ]
    refuse_fields(errors, located=True)
    command = c.RecordDeliveryRecords(declared.name, built.records, built.refused, data.reported_by)

    def answer(report: c.DeliveryRecordsReport) -> DeliveryRecordsOut:
        results = [RecordResult(*row) for row in outcomes(record_ids(data.records), report)]
        counts = RecordCounts(
            len(report.accepted),
            len(report.duplicates),
            len(report.corrected),
            len(report.rejected),
        )
        return DeliveryRecordsOut(counts, results)

    return respond_after(request, data, command, answer)


@get(
    "/delivery-records/{kind:str}",
    opt=permission("delivery:read"),
    tags=["delivery"],
    summary="List one delivery kind's records by record id (current revisions)",
    responses=documented("not-found"),
    sync_to_thread=True,
)
def list_delivery_records(
    request: Request[Any, Any, Any],
    kind: KindPath,
    obligation_id: ObligationQuery = None,
    limit: Limit = None,
    cursor: KeysetCursor = None,
) -> Page[DeliveryRecordOut]:
    declared = registered(kind)
    principal = principal_of(request)
    query = c.ListDeliveryRecords(
        declared.name,
        page_request(limit, cursor),
        None if obligation_id is None else ObligationId(obligation_id),
        CustomerId(principal.customer_id or "") if principal.scoped else None,
    )
    page = services_of(request).bus.handle(query, context_of(request))
    return page_out(page, record_out)


#: GET and POST on one path are registered together, as one router (see delivery.py).
ROUTES: list[Any] = [
    Router(path="/", route_handlers=[record_delivery_records, list_delivery_records]),
]
