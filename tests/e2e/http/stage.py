"""One Litestar app for a whole test module, with a fresh store, clock and fakes per test.

Building the app (a signature model per route handler) costs most of a second; the generated
suites make hundreds of cases. `Stage.fresh()` swaps the services the routes read from
`app.state` for new ones over an empty in-memory store, which is all a new world needs. The
rate limiter and the body-size limit are the app's own, fixed when the stage is built.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import attrs
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from adapters.memory import InMemoryStore, InMemoryUnitOfWork
from adapters.memory.queries_finance import memory_finance_queries
from entrypoints.composition.ops_reads import ops_reads_in_memory
from entrypoints.http.app import create_app
from entrypoints.http.runtime import Limits, Services
from tests.e2e.http.harness import Api, authenticator
from tests.e2e.http.world import World, seed
from tests.unit.application.conftest import App, start_clock, wire

#: High enough that a module's worth of calls from one key is never refused.
UNLIMITED = Limits(rate_limit=1_000_000)


@attrs.define
class Stage:
    asgi: Litestar
    client: TestClient[Litestar]
    limits: Limits

    def fresh(self) -> Api:
        """The app over a new, empty world (as `harness.running_api` builds one)."""
        return Api(fresh_world(self.asgi, self.limits), self.asgi, self.client)

    def seeded(self) -> tuple[Api, World]:
        """The app over a new world holding two customers' worlds (tests/e2e/http/world.py)."""
        fresh = self.fresh()
        return fresh, seed(fresh.app)


def fresh_world(asgi: Litestar, limits: Limits) -> App:
    """Point the app's routes at a new, empty in-memory world; its handles for the test."""
    store, clock = InMemoryStore(), start_clock()
    app = wire(store, lambda ctx, read_only=False: InMemoryUnitOfWork(store, ctx, clock.now), clock)
    asgi.state["services"] = Services(
        app.bus,
        lambda ctx: InMemoryUnitOfWork(store, ctx, clock.now),
        clock,
        limits,
        ops=ops_reads_in_memory(store),
        finance=memory_finance_queries(store, app.master, clock.now),
    )
    return app


def unstarted_app(limits: Limits = UNLIMITED, extra_routes: Sequence[Any] = ()) -> Litestar:
    """The app with placeholder services: call `fresh_world` before it answers a request."""
    nothing = cast(Any, None)
    return create_app(
        Services(nothing, nothing, nothing, limits), authenticator(), extra_routes=extra_routes
    )


@contextmanager
def staged(limits: Limits = UNLIMITED, extra_routes: Sequence[Any] = ()) -> Iterator[Stage]:
    asgi = unstarted_app(limits, extra_routes)
    with TestClient(asgi, raise_server_exceptions=False) as client:
        yield Stage(asgi, client, limits)


# Fixtures for a module that defines its own `stage`; import them into that module.


@pytest.fixture(name="api")
def staged_api(stage: Stage) -> Api:
    """An empty world on the module's one app."""
    return stage.fresh()


@pytest.fixture(name="world_api")
def staged_world_api(stage: Stage) -> tuple[Api, World]:
    """Two customers' worlds on the module's one app, fresh for a test that changes them."""
    return stage.seeded()
