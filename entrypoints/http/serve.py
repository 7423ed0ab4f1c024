"""Running the API as a server process: API keys, the app factory the server calls in every
worker, and the optional in-process outbox relay.

Each worker reads the typed `Settings` from the environment once
(`entrypoints.composition.settings`, so `--workers N` needs nothing else): the database, the
API keys file, the JWT secret, the webhook secrets, `THROUGHLINE_RELAY=in-process` for a relay
thread per worker, the rate limit.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
from litestar import Litestar

from adapters.sqlalchemy.wal_checkpoint import wal_checkpointer_of
from entrypoints.composition.container import (
    configure,
    provide_bus,
    provide_clock,
    provide_database,
    provide_finance_queries,
    provide_ops_reads,
    provide_reader,
    provide_settings,
    release_connections,
)
from entrypoints.composition.logs import configure_logging
from entrypoints.composition.settings import (
    API_KEYS_VARIABLE,
    RELAY_VARIABLE,
    RelayMode,
    Settings,
    SettingsError,
)
from entrypoints.composition.tracing import configure_tracing, traced_bus
from entrypoints.http.app import create_app
from entrypoints.http.metrics import server_metrics
from entrypoints.http.runtime import Limits, Services
from entrypoints.http.security import ROLES, ApiKey, Authenticator, JwtSettings, Principal
from entrypoints.http.webhook_intake import WebhookIntake, demo_secrets, load_secrets_file

__all__ = ["API_KEYS_VARIABLE", "RELAY_VARIABLE"]

#: The demo's clients: one per role, two client viewers for two customers.
DEMO_CLIENTS: tuple[tuple[str, str, tuple[str, ...], str | None], ...] = (
    ("sales_ops", "demo.sales", ("sales_ops",), None),
    ("delivery_manager", "demo.delivery", ("delivery_manager",), None),
    ("finance", "demo.finance", ("finance",), None),
    ("finance_approver", "demo.approver", ("finance_approver",), None),
    ("integration", "demo.integration", ("integration",), None),
    ("auditor", "demo.auditor", ("auditor",), None),
    ("client_viewer", "demo.viewer.lumiere", ("client_viewer",), "lumiere-retail"),
    ("client_viewer_b", "demo.viewer.kestrel", ("client_viewer",), "kestrel-fr"),
)


class ApiConfigError(ValueError):
    """The API's configuration (keys file, JWT settings) cannot be used."""


def load_api_keys(path: Path) -> list[ApiKey]:
    """A JSON list of `{"principal", "roles", "customer_id"?, "key" | "key_sha256"}`.

    Prefer `key_sha256` (the hex SHA-256 of the key) so the file holds no usable secret.
    """
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ApiConfigError(f"{path}: cannot read the API keys ({error})") from None
    if not isinstance(entries, list):
        raise ApiConfigError(f"{path}: expected a JSON list of API keys")
    return [_api_key(path, n, entry) for n, entry in enumerate(entries)]


def _api_key(path: Path, n: int, entry: Any) -> ApiKey:
    where = f"{path}: entry {n}"
    if not isinstance(entry, dict):
        raise ApiConfigError(f"{where}: expected an object")
    unknown = set(entry) - {"principal", "roles", "customer_id", "key", "key_sha256"}
    if unknown:
        raise ApiConfigError(f"{where}: unknown field(s) {sorted(unknown)}")
    principal, roles = entry.get("principal"), entry.get("roles")
    customer = entry.get("customer_id")
    if not isinstance(principal, str) or not principal:
        raise ApiConfigError(f"{where}: 'principal' must be a non-empty string")
    if not isinstance(roles, list) or not roles or not all(r in ROLES for r in roles):
        raise ApiConfigError(f"{where}: 'roles' must be a list of {', '.join(ROLES)}")
    if customer is not None and not isinstance(customer, str):
        raise ApiConfigError(f"{where}: 'customer_id' must be a string")
    if "client_viewer" in roles and not customer:
        raise ApiConfigError(f"{where}: a client_viewer needs a customer_id")
    key, digest = entry.get("key"), entry.get("key_sha256")
    if isinstance(key, str) and len(key) >= 16 and digest is None:
        return ApiKey.of(key, principal, roles, customer)
    if isinstance(digest, str) and len(digest) == 64 and key is None:
        return ApiKey(digest.lower(), Principal(principal, frozenset(roles), customer))
    raise ApiConfigError(
        f"{where}: give exactly one of 'key' (16 characters or more) or 'key_sha256' (hex)"
    )


@attrs.frozen
class DemoKey:
    name: str
    key: str
    principal: str
    roles: tuple[str, ...]
    customer_id: str | None


def demo_keys(path: Path) -> list[DemoKey]:
    """The demo's API keys: made once (random) and kept in `path`, so a restart keeps them."""
    if path.exists():
        stored = json.loads(path.read_text(encoding="utf-8"))
        return [
            DemoKey(e["name"], e["key"], e["principal"], tuple(e["roles"]), e.get("customer_id"))
            for e in stored
        ]
    keys = [
        DemoKey(name, f"tl_demo_{secrets.token_urlsafe(18)}", principal, roles, customer)
        for name, principal, roles, customer in DEMO_CLIENTS
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([attrs.asdict(k) for k in keys], indent=2), encoding="utf-8")
    path.chmod(0o600)
    return keys


def write_keys_file(keys: list[DemoKey], path: Path) -> None:
    """The demo keys as a `THROUGHLINE_API_KEYS` file (digests only)."""
    entries = [
        {
            "principal": k.principal,
            "roles": list(k.roles),
            "key_sha256": ApiKey.of(k.key, k.principal, k.roles, k.customer_id).digest,
            **({"customer_id": k.customer_id} if k.customer_id else {}),
        }
        for k in keys
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entries, indent=2), encoding="utf-8")


def write_demo_webhook_secrets(path: Path) -> list[str]:
    """The demo's webhook secrets as a `THROUGHLINE_WEBHOOK_SECRETS` file; the lines to print."""
    demo = demo_secrets()
    document = {source: [demo.for_source(source)[0].text()] for source in sorted(demo.sources)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return [f"{source}: {texts[0]}" for source, texts in document.items()]


def authenticator_from(settings: Settings) -> Authenticator:
    """API keys from the keys file, bearer tokens when a JWT secret is set."""
    keys = load_api_keys(settings.api_keys) if settings.api_keys else []
    jwt_settings = (
        JwtSettings(settings.jwt_secret, settings.jwt_issuer, settings.jwt_audience)
        if settings.jwt_secret
        else None
    )
    return Authenticator.of(keys, jwt_settings)


def authenticator_from_env(env: Mapping[str, str]) -> Authenticator:
    try:
        return authenticator_from(Settings.from_env(env))
    except SettingsError as error:
        raise ApiConfigError(str(error)) from None


def create_from_env() -> Litestar:
    """The app factory every server worker calls (`uvicorn ... --factory`): the settings are
    read once, here, and a value that cannot be used stops the worker with its variable."""
    settings = Settings.from_env()
    configure_logging(settings, process="api")
    configure_tracing(settings, service="throughline-api")
    configure(settings)
    bus, clock = traced_bus(provide_bus()), provide_clock()
    intake = WebhookIntake(bus, load_secrets_file(settings.webhook_secrets), clock)
    limits = Limits(rate_limit=settings.rate_limit)
    services = Services(
        bus,
        provide_reader(),
        clock,
        limits,
        intake,
        ops=provide_ops_reads(),
        finance=provide_finance_queries(),
    )
    metrics = server_metrics(services.reader, clock, settings)
    app = create_app(services, authenticator_from(settings), metrics=metrics)
    if settings.relay is RelayMode.IN_PROCESS:
        _attach_relay(app)
    checkpointer = wal_checkpointer_of(provide_database().engine)
    if checkpointer is not None:  # SQLite: checkpoints off the requests' path
        app.on_startup.append(checkpointer.start)
        app.on_shutdown.append(checkpointer.stop)
    app.on_shutdown.append(release_connections)
    app.on_shutdown.append(metrics.worker_stopped)
    return app


def _attach_relay(app: Litestar) -> None:
    """Run the outbox relay in a thread of this worker for as long as the app runs."""
    from entrypoints.workers.relay import start_in_process_relay

    handles: list[Any] = []

    def start() -> None:
        handles.append(start_in_process_relay())

    def stop() -> None:
        for handle in handles:
            handle.stop(timeout=provide_settings().shutdown_timeout)

    app.on_startup.append(start)
    app.on_shutdown.append(stop)
