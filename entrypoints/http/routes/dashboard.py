"""The finance dashboard's data: one read for the overview a controller opens first."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get

from entrypoints.http.routes.common import MoneyOut, answer, documented, money_out, permission
from entrypoints.http.runtime import finance_of


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
    sync_to_thread=True,
)
def dashboard(request: Request[Any, Any, Any]) -> DashboardOut:
    overview = finance_of(request).dashboard.overview()
    return DashboardOut(
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


ROUTES = [dashboard]
