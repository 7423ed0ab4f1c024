"""Every router of the API, in the order the OpenAPI document lists them."""

from __future__ import annotations

from typing import Any

from entrypoints.http.routes import invoices, ops

ROUTERS: list[Any] = [*ops.ROUTES, *invoices.ROUTES]
