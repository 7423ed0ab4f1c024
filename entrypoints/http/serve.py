"""Running the API as a server process: configuration from the environment, API keys, the
app factory uvicorn calls in every worker, and the optional in-process outbox relay.

Environment (read in each worker, so `--workers N` needs nothing else):

- `THROUGHLINE_DATABASE_URL`: the database (default: the SQLite file under `var/`);
- `THROUGHLINE_API_KEYS`: a JSON file of API keys (see `load_api_keys`);
- `THROUGHLINE_JWT_SECRET` (and optionally `THROUGHLINE_JWT_ISSUER`, `THROUGHLINE_JWT_AUDIENCE`):
  accept HS256 bearer tokens signed with it;
- `THROUGHLINE_WEBHOOK_SECRETS`: a JSON file of Standard Webhooks secrets per source
  (docs/webhooks.md);
- `THROUGHLINE_RELAY=in-process`: run the outbox relay in a thread of each worker;
- `THROUGHLINE_RATE_LIMIT`: requests per minute per client (default 1,200).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
from litestar import Litestar

from entrypoints.container import (
    configure,
    provide_bus,
    provide_clock,
    provide_reader,
    release_connections,
)
from entrypoints.http.app import create_app
from entrypoints.http.runtime import Limits, Services
from entrypoints.http.security import ROLES, ApiKey, Authenticator, JwtSettings, Principal
from entrypoints.settings import Settings
from entrypoints.webhooks import WebhookIntake, demo_secrets, load_secrets

API_KEYS_VARIABLE = "THROUGHLINE_API_KEYS"
JWT_SECRET_VARIABLE = "THROUGHLINE_JWT_SECRET"
JWT_ISSUER_VARIABLE = "THROUGHLINE_JWT_ISSUER"
JWT_AUDIENCE_VARIABLE = "THROUGHLINE_JWT_AUDIENCE"
RELAY_VARIABLE = "THROUGHLINE_RELAY"
RATE_LIMIT_VARIABLE = "THROUGHLINE_RATE_LIMIT"

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


def authenticator_from_env(env: Mapping[str, str]) -> Authenticator:
    keys_file = env.get(API_KEYS_VARIABLE)
    keys = load_api_keys(Path(keys_file)) if keys_file else []
    secret = env.get(JWT_SECRET_VARIABLE)
    if secret is not None and len(secret) < 32:
        raise ApiConfigError(f"{JWT_SECRET_VARIABLE} must be at least 32 characters long")
    jwt_settings = (
        JwtSettings(
            secret,
            env.get(JWT_ISSUER_VARIABLE, "throughline"),
            env.get(JWT_AUDIENCE_VARIABLE, "throughline-api"),
        )
        if secret
        else None
    )
    return Authenticator.of(keys, jwt_settings)


def limits_from_env(env: Mapping[str, str]) -> Limits:
    value = env.get(RATE_LIMIT_VARIABLE)
    if value is None:
        return Limits()
    if not value.isdigit() or int(value) < 1:
        raise ApiConfigError(f"{RATE_LIMIT_VARIABLE} must be a positive whole number")
    return Limits(rate_limit=int(value))


def create_from_env() -> Litestar:
    """The app factory every server worker calls (`uvicorn ... --factory`)."""
    env = os.environ
    configure(Settings.from_env())
    bus, clock = provide_bus(), provide_clock()
    intake = WebhookIntake(bus, load_secrets(env), clock)
    services = Services(bus, provide_reader(), clock, limits_from_env(env), intake)
    app = create_app(services, authenticator_from_env(env))
    if env.get(RELAY_VARIABLE) == "in-process":
        _attach_relay(app)
    app.on_shutdown.append(release_connections)
    return app


def _attach_relay(app: Litestar) -> None:
    """Run the outbox relay in a thread of this worker for as long as the app runs."""
    from entrypoints.relay import start_in_process_relay

    handles: list[Any] = []

    def start() -> None:
        handles.append(start_in_process_relay())

    def stop() -> None:
        for handle in handles:
            handle.stop()

    app.on_startup.append(start)
    app.on_shutdown.append(stop)
