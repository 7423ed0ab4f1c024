"""Operations: the typed exception queue and its audited replay, the audit-trail verifier,
and the reconciliation report.

Reconciliation only reads (our books, the PSA's approved hours and the ERP's receivables) and
changes nothing, so it is a GET without an Idempotency-Key.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Request, Response

from application import commands as c
from application.queries.operations import ExceptionFilter
from application.queries.paging import PageRequest
from application.reconciliation import ReconciliationReport
from application.records import IntegrationException
from entrypoints.http.routes.common import (
    MONTH,
    RULED_WRITE_PROBLEMS,
    MoneyOut,
    answer,
    money_out,
    or_not_found,
    out_of,
    query_param,
    to_period,
)
from entrypoints.http.routes.declare import (
    RouteFamily,
    Subject,
    optional_query,
    path_param,
    respond_after,
)
from entrypoints.http.routes.keyset import Rows, paged
from entrypoints.http.runtime import context_of, ops_reads_of, services_of

ExceptionPath = Annotated[
    str,
    path_param("The exception's id.", "an exception", "EXC-000001"),
]


class ExceptionOut(msgspec.Struct):
    exception_id: str
    kind: str  # validation | master_data | downstream_unavailable | conflict
    workflow: str
    subject: str
    reason_code: str
    detail: str
    state: str  # open | retry_scheduled | resolved | dead
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    replayable: bool
    correlation_id: str
    created_at: datetime
    resolved_by: str | None
    resolved_at: datetime | None


class ReplayOut(msgspec.Struct):
    #: Whether the replay cured it (the exception is resolved); otherwise it failed again.
    healed: bool
    exception: ExceptionOut


def exception_out(item: IntegrationException) -> ExceptionOut:
    return out_of(
        ExceptionOut,
        item,
        kind=item.kind.value,
        state=item.state.value,
        replayable=bool(item.replay.get("command")),
    )


def _find(request: Request[Any, Any, Any], exception_id: str) -> ExceptionOut:
    found = ops_reads_of(request).operations.exception(exception_id)
    return exception_out(or_not_found(found, "exception", exception_id))


def _replay(
    request: Request[Any, Any, Any], exception_id: str, body: object, command: object
) -> Response[ReplayOut]:
    """Replay an exception that exists (404 otherwise): whether it healed, and the exception
    as it now stands."""
    _find(request, exception_id)

    return respond_after(
        request,
        body,
        command,
        lambda healed: ReplayOut(bool(healed), _find(request, exception_id)),
    )


_EXCEPTION = Subject("exception_id", ExceptionPath, ReplayOut, _replay)


_OPERATIONS = RouteFamily("operations", "exceptions:read")


@_OPERATIONS.get("/exceptions", "The typed exception queue, oldest first")
@paged(ExceptionOut, exception_out)
def list_exceptions(
    request: Request[Any, Any, Any],
    page: PageRequest,
    state_filter: Annotated[
        str | None,
        optional_query(
            "state", "dead ones", "dead", pattern=r"^(open|retry_scheduled|resolved|dead)$"
        ),
    ] = None,
    kind: Annotated[
        str | None,
        optional_query(
            "kind",
            "master data problems",
            "master_data",
            pattern=r"^(validation|master_data|downstream_unavailable|conflict)$",
        ),
    ] = None,
) -> Rows:
    where = ExceptionFilter(state_filter, kind)
    return ops_reads_of(request).operations.exceptions(where, page)


@_OPERATIONS.get(
    "/exceptions/{exception_id:str}",
    "One exception: what failed, why, and its retries",
    "not-found",
)
def get_exception(request: Request[Any, Any, Any], exception_id: ExceptionPath) -> ExceptionOut:
    return _find(request, exception_id)


@_OPERATIONS.post(
    "/exceptions/{exception_id:str}/replay",
    "Replay what an exception kept, once its cause is fixed (audited either way)",
    *RULED_WRITE_PROBLEMS,
    permission="exceptions:replay",
)
@_EXCEPTION.command()
def replay_exception(exception_id: str) -> object:
    return c.ReplayException(exception_id)


class ChainOut(msgspec.Struct):
    intact: bool
    records: int
    #: The sequence number of the first record that does not verify; null when intact.
    first_broken: int | None
    problem: str


@_OPERATIONS.get(
    "/audit/verify",
    "Verify the audit trail's hash chain from its first record",
    permission="audit:read",
    answers=answer(
        ChainOut, {"intact": True, "records": 1284, "first_broken": None, "problem": ""}
    ),
)
def verify_audit(request: Request[Any, Any, Any]) -> ChainOut:
    report = ops_reads_of(request).operations.audit_trail()
    return ChainOut(report.intact, report.records, report.first_broken, report.problem)


class ReconciliationExceptionOut(msgspec.Struct):
    area: str  # hours | receivables
    kind: str
    subject: str
    expected: str
    actual: str


class ControlTotalsOut(msgspec.Struct):
    psa_hours: str
    approved_hours: str
    billed_hours: str
    issued_gross: list[MoneyOut]
    erp_gross: list[MoneyOut]


class ReconciliationOut(msgspec.Struct):
    period: str
    clean: bool
    exceptions: list[ReconciliationExceptionOut]
    totals: ControlTotalsOut


def _hours(value: Decimal) -> str:
    return str(value)


def reconciliation_out(report: ReconciliationReport) -> ReconciliationOut:
    totals = report.totals
    return ReconciliationOut(
        period=report.period.key,
        clean=report.clean,
        exceptions=[
            ReconciliationExceptionOut(x.area, x.kind, x.subject, x.expected, x.actual)
            for x in report.exceptions
        ],
        totals=ControlTotalsOut(
            psa_hours=_hours(totals.psa_hours),
            approved_hours=_hours(totals.approved_hours),
            billed_hours=_hours(totals.billed_hours),
            issued_gross=[money_out(m) for m in totals.issued_gross],
            erp_gross=[money_out(m) for m in totals.erp_gross],
        ),
    )


@_OPERATIONS.get(
    "/reconciliation",
    "Reconcile a month: PSA hours vs ours vs billed, our invoices vs ERP receivables",
    "downstream-unavailable",
    permission="reconciliation:read",
    description=(
        "Each exception (missing, duplicate, mismatch) with the control totals; a clean month "
        "lists none. Reads only: nothing is stored."
    ),
)
def reconciliation(
    request: Request[Any, Any, Any],
    period: Annotated[
        str,
        query_param(
            "period",
            "March 2026",
            "2026-03",
            pattern=MONTH,
            description="The month to reconcile (YYYY-MM).",
        ),
    ],
) -> ReconciliationOut:
    services = services_of(request)
    report = services.bus.handle(c.Reconcile(to_period(period)), context_of(request))
    return reconciliation_out(report)


ROUTES = [list_exceptions, get_exception, replay_exception, verify_audit, reconciliation]
