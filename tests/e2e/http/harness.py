"""The HTTP app on in-memory adapters and fakes, with one API key per role (two client
viewers for two customers, two machine clients), driven through Litestar's test client."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import attrs
from litestar import Litestar
from litestar.testing import TestClient

from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from adapters.memory.queries_finance import memory_finance_queries
from entrypoints.composition.ops_reads import ops_reads_in_memory
from entrypoints.http.app import create_app
from entrypoints.http.runtime import Limits, Services
from entrypoints.http.security import ApiKey, Authenticator, JwtSettings
from entrypoints.http.webhook_intake import WebhookIntake, demo_secrets
from tests.unit.application.conftest import App, start_clock, wire

JWT = JwtSettings("test-secret-of-at-least-32-bytes-long!!")

#: Every webhook source signs with the demo secret in these tests.
WEBHOOK_SECRETS = demo_secrets()

#: name -> (key, principal id, roles, customer)
IDENTITIES: dict[str, tuple[str, str, tuple[str, ...], str | None]] = {
    "sales_ops": ("key-sales", "sam.sales", ("sales_ops",), None),
    "delivery_manager": ("key-delivery", "dana.delivery", ("delivery_manager",), None),
    "finance": ("key-finance", "fran.finance", ("finance",), None),
    "finance2": ("key-finance-2", "fred.finance", ("finance",), None),
    "finance_approver": ("key-approver", "alex.approver", ("finance_approver",), None),
    "integration": ("key-integration", "psa-connector", ("integration",), None),
    "integration2": ("key-integration-2", "crm-connector", ("integration",), None),
    "auditor": ("key-auditor", "ada.auditor", ("auditor",), None),
    "client_viewer": ("key-client-acme", "viewer@acme", ("client_viewer",), "acme"),
    "client_viewer_b": ("key-client-globex", "viewer@globex", ("client_viewer",), "globex"),
}

ROLE_KEYS = {name: key for name, (key, *_rest) in IDENTITIES.items()}


def authenticator() -> Authenticator:
    keys = [
        ApiKey.of(key, principal, roles, customer)
        for key, principal, roles, customer in IDENTITIES.values()
    ]
    return Authenticator.of(keys, JWT)


@attrs.define
class Api:
    """The app, its test client and handles on the fakes behind it."""

    app: App
    asgi: Litestar
    client: TestClient[Litestar]
    _keys: Iterator[int] = attrs.field(factory=lambda: itertools.count(1))

    def headers(self, who: str | None, key: str | None = None, **extra: str) -> dict[str, str]:
        headers = dict(extra)
        if who is not None:
            headers["X-API-Key"] = ROLE_KEYS[who]
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    def get(self, path: str, who: str | None = "auditor", **params: Any) -> Any:
        return self.client.get(path, headers=self.headers(who), params=params or None)

    def post(
        self,
        path: str,
        body: Mapping[str, Any] | None = None,
        who: str | None = "finance",
        key: str | None = None,
        method: str = "POST",
        **headers: str,
    ) -> Any:
        key = key if key is not None else f"k-{next(self._keys)}"
        return self.client.request(
            method,
            path,
            json=body if body is not None else None,
            headers=self.headers(who, key, **headers),
        )


@contextmanager
def running_api(limits: Limits | None = None, rate_clock: Any = None) -> Iterator[Api]:
    store, clock = InMemoryStore(), start_clock()
    app = wire(store, lambda ctx, read_only=False: InMemoryUnitOfWork(store, ctx, clock.now), clock)
    services = Services(
        app.bus,
        lambda ctx: InMemoryUnitOfWork(store, ctx, clock.now),
        clock,
        limits or Limits(),
        WebhookIntake(app.bus, WEBHOOK_SECRETS, clock),
        ops=ops_reads_in_memory(store),
        finance=memory_finance_queries(store, app.master, clock.now),
    )
    asgi = create_app(services, authenticator(), rate_clock=rate_clock)
    with TestClient(asgi, raise_server_exceptions=False) as client:
        yield Api(app, asgi, client)
