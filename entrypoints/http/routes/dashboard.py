"""The finance dashboard's data: one read for the overview a controller opens first."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get
from litestar.concurrency import sync_to_thread
from litestar.response.base import ASGIResponse

from application.queries.dashboard import DashboardQueries
from entrypoints.http.answer_cache import AnswerCache
from entrypoints.http.routes.common import MoneyOut, answer, documented, money_out, permission
from entrypoints.http.runtime import JSON, encode, finance_of


class CurrencyFiguresOut(msgspec.Struct):
    currency: str
    outstanding: MoneyOut
    disputed: MoneyOut
    issued_gross: MoneyOut
    paid: MoneyOut


class DashboardOut(msgspec.Struct):
    invoices_by_state: dict[str, int]
    awaiting_approval: int
    credit_memos_by_state: dict[str, int]
    receivables: list[CurrencyFiguresOut]
    open_exceptions_by_kind: dict[str, int]
    dead_exceptions: int


def _eur(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


_EXAMPLE = {
    "invoices_by_state": {"draft": 1, "issued": 2, "paid": 5},
    "awaiting_approval": 1,
    "credit_memos_by_state": {"issued": 1},
    "receivables": [
        {
            "currency": "EUR",
            "outstanding": _eur("14400.00"),
            "disputed": _eur("0.00"),
            "issued_gross": _eur("86400.00"),
            "paid": _eur("72000.00"),
        }
    ],
    "open_exceptions_by_kind": {"master_data": 1},
    "dead_exceptions": 0,
}


@get(
    "/dashboard",
    opt=permission("billing:read"),
    tags=["dashboard"],
    summary="Finance overview: documents by state, receivables per currency, queues",
    responses={**answer(DashboardOut, _EXAMPLE), **documented()},
)
async def dashboard(request: Request[Any, Any, Any]) -> ASGIResponse:
    # The same answer for everyone allowed to ask (billing:read; client viewers are not), so
    # one answer is kept per app while the data version holds (answer_cache.py). The read
    # itself waits in a worker thread, off the event loop; a kept answer needs none.
    # The answer is Litestar's ASGI response itself, with the headers `Response` would give
    # it (content type and length), and the kept one is sent again as it is: sending it
    # builds a new header list each time and changes nothing of the response (there is no
    # after-request hook to change it), so nothing is built per request.
    queries = finance_of(request).dashboard
    cache: AnswerCache[ASGIResponse] = request.app.state["dashboard_answer"]
    version = queries.version()  # before the read: a commit after it changes the version
    response = cache.get(queries, version)
    if response is None:
        content = await sync_to_thread(_encoded, queries)
        response = ASGIResponse(body=content, media_type=JSON)
        cache.keep(queries, version, response)
    return response


def _encoded(queries: DashboardQueries) -> bytes:
    overview = queries.overview()
    return encode(
        DashboardOut(
            invoices_by_state=overview.invoices_by_state,
            awaiting_approval=overview.awaiting_approval,
            credit_memos_by_state=overview.credit_memos_by_state,
            receivables=[
                CurrencyFiguresOut(
                    f.currency,
                    money_out(f.outstanding),
                    money_out(f.disputed),
                    money_out(f.issued_gross),
                    money_out(f.paid),
                )
                for f in overview.by_currency
            ],
            open_exceptions_by_kind=overview.open_exceptions_by_kind,
            dead_exceptions=overview.dead_exceptions,
        )
    )


ROUTES = [dashboard]
