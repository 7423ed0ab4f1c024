"""Every router of the API, in the order the OpenAPI document lists them."""

from __future__ import annotations

from typing import Any

from entrypoints.http.routes import (
    billing,
    contracts,
    credit_memos,
    customer_records,
    customers,
    dashboard,
    delivery,
    delivery_records,
    engagements,
    finance,
    intercompany,
    invoices,
    journal,
    journal_export,
    leakage,
    legal_entities,
    milestones,
    operations,
    ops,
    outbox,
    rate_cards,
    webhooks,
)

ROUTERS: list[Any] = [*ops.ROUTES, *dashboard.ROUTES, *invoices.ROUTES]
ROUTERS += [
    *delivery.ROUTES,
    *milestones.ROUTES,
    *billing.ROUTES,
    *credit_memos.ROUTES,
    *finance.ROUTES,
    *operations.ROUTES,
]
ROUTERS += [
    *customers.ROUTES,
    *customer_records.ROUTES,
    *contracts.ROUTES,
    *rate_cards.ROUTES,
    *engagements.ROUTES,
]
ROUTERS += intercompany.ROUTES
ROUTERS += outbox.ROUTES
ROUTERS += webhooks.ROUTES
ROUTERS += leakage.ROUTES
ROUTERS += journal.ROUTES
ROUTERS += legal_entities.ROUTES
ROUTERS += journal_export.ROUTES
ROUTERS += delivery_records.ROUTES
