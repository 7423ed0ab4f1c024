"""Who is calling and what they may do: API keys and JWT bearer tokens, roles, permissions,
object-level scoping and property-level protection.

- A request carries `X-API-Key: <key>` or `Authorization: Bearer <jwt>` (HS256, `sub`,
  `roles`, optional `customer_id`, `exp`; issuer and audience checked). Keys are kept only as
  SHA-256 digests, and no credential is ever logged.
- Every route names one permission (its `opt["permission"]`); one check in the app
  (`check_permission`) tests it against the principal's roles (`ROLE_PERMISSIONS`). A test
  walks the route table to prove every route names one and every role is refused what it
  lacks.
- A `client_viewer` is bound to one customer: anything of another customer is answered 404,
  in lists too (`Principal.sees`).
- Cost rates and margins are only ever written into a response for principals holding
  `rates:read_cost`; for everybody else the keys are absent, not null.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import jwt

ROLES = (
    "sales_ops",
    "delivery_manager",
    "finance",
    "finance_approver",
    "integration",
    "auditor",
    "client_viewer",
)

_READ_BOOKS = {
    "customers:read",
    "contracts:read",
    "rates:read",
    "engagements:read",
    "delivery:read",
    "invoices:read",
    "billing:read",
    "revenue:read",
    "periods:read",
    "legal_entities:read",  # the seller's master data documents print (ADR 0037)
}

#: What each role may do. `rates:read_cost` is the property-level permission for cost and margin.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "sales_ops": frozenset(
        {
            "customers:read",
            "contracts:read",
            "contracts:write",
            "contracts:approve",
            "rates:read",
            "engagements:read",
            "engagements:write",
        }
    ),
    "delivery_manager": frozenset(
        {
            "customers:read",
            "contracts:read",
            "rates:read",
            "engagements:read",
            "engagements:write",
            "delivery:read",
            "delivery:write",
            "delivery:approve",
            "milestones:write",
            "invoices:read",
            "revenue:read",  # WIP and backlog of their engagements (never cost or margin)
        }
    ),
    "finance": frozenset(
        _READ_BOOKS
        | {
            "rates:read_cost",
            "rates:write",
            "customers:write",
            "delivery:approve",
            "billing:run",
            "billing:commit",
            "invoices:write",
            "invoices:issue",
            "credits:write",
            "credits:issue",
            "payments:write",
            "disputes:write",
            "revenue:run",
            "periods:close",
            "exceptions:read",
            "exceptions:replay",
            "reconciliation:read",
            "outbox:read",
            "intercompany:read",
            "journal:read",
            "journal:write",
            "intercompany:write",
            "legal_entities:write",  # the seller's master data (ADR 0037)
        }
    ),
    "finance_approver": frozenset(
        _READ_BOOKS
        | {
            "rates:read_cost",
            "rates:approve",
            "invoices:approve",
            "invoices:write_off",  # bad debt: a receivable given up (ADR 0040)
            "credits:approve",
            "periods:close",
            "periods:reopen",
            "exceptions:read",
            "exceptions:replay",
            "reconciliation:read",
            "outbox:read",
            "outbox:replay",
            "intercompany:read",
            "journal:read",
        }
    ),
    "integration": frozenset(
        {
            "customers:read",
            "customers:write",
            "customers:master",  # the full customer record: the ERP's, pushed (ADR 0035)
            "contracts:read",
            "contracts:write",
            "contracts:approve",
            "engagements:read",
            "engagements:write",
            "delivery:read",
            "delivery:write",
            "milestones:write",
            "invoices:read",
            "payments:write",
            "disputes:write",
        }
    ),
    "auditor": frozenset(
        _READ_BOOKS
        | {
            "rates:read_cost",
            "exceptions:read",
            "audit:read",
            "reconciliation:read",
            "outbox:read",
            "intercompany:read",
            "journal:read",
        }
    ),
    "client_viewer": frozenset(
        {"customers:read", "contracts:read", "engagements:read", "invoices:read"}
    ),
}

_NONE: frozenset[str] = frozenset()
ALL_PERMISSIONS: frozenset[str] = frozenset().union(*ROLE_PERMISSIONS.values()) | {"audit:read"}

#: Keys that only principals with `rates:read_cost` ever see.
COST_KEYS = frozenset({"cost_rate", "cost", "margin", "margin_percent"})

#: Keys naming the firm's people (who made or approved what): never shown to a client viewer.
STAFF_KEYS = frozenset({"created_by", "approved_by", "proposed_by", "closed_by", "resolved_by"})


class AuthenticationError(Exception):
    """No credential, or one that does not verify."""


@attrs.frozen
class Principal:
    """An authenticated caller: a person or a machine client."""

    id: str
    roles: frozenset[str]
    customer_id: str | None = None

    @property
    def permissions(self) -> frozenset[str]:
        return frozenset().union(*(ROLE_PERMISSIONS.get(role, frozenset()) for role in self.roles))

    def may(self, permission: str) -> bool:
        # Asked once per request: a look-up per role, without building the union of them all.
        return any(permission in ROLE_PERMISSIONS.get(role, _NONE) for role in self.roles)

    @property
    def scoped(self) -> bool:
        """A client viewer sees one customer's objects only."""
        return "client_viewer" in self.roles and not (self.roles - {"client_viewer"})

    def sees(self, customer_id: str) -> bool:
        return not self.scoped or customer_id == self.customer_id


@attrs.frozen
class ApiKey:
    """A configured API key: only its SHA-256 digest is kept."""

    digest: str
    principal: Principal

    @classmethod
    def of(
        cls, key: str, principal_id: str, roles: Iterable[str], customer_id: str | None = None
    ) -> ApiKey:
        unknown = set(roles) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown role(s) {sorted(unknown)} for API key of {principal_id}")
        if "client_viewer" in roles and not customer_id:
            raise ValueError(f"client viewer {principal_id} needs a customer_id")
        return cls(digest_of(key), Principal(principal_id, frozenset(roles), customer_id))


def digest_of(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@attrs.frozen
class JwtSettings:
    secret: str
    issuer: str = "throughline"
    audience: str = "throughline-api"
    algorithms: tuple[str, ...] = ("HS256",)


@attrs.define
class Authenticator:
    """Turns a request's credential into a `Principal`."""

    api_keys: Mapping[str, ApiKey] = attrs.field(factory=dict)  # by digest
    jwt: JwtSettings | None = None

    @classmethod
    def of(cls, keys: Iterable[ApiKey], jwt_settings: JwtSettings | None = None) -> Authenticator:
        return cls({key.digest: key for key in keys}, jwt_settings)

    def authenticate(self, headers: Mapping[str, str]) -> Principal:
        api_key = headers.get("x-api-key")
        if api_key:
            return self._by_key(api_key)
        authorization = headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return self._by_token(token.strip())
        raise AuthenticationError("send an API key (X-API-Key) or a bearer token")

    def _by_key(self, key: str) -> Principal:
        digest = digest_of(key)
        for known, entry in self.api_keys.items():
            if hmac.compare_digest(known, digest):
                return entry.principal
        raise AuthenticationError("the API key is not valid")

    def _by_token(self, token: str) -> Principal:
        if self.jwt is None:
            raise AuthenticationError("bearer tokens are not accepted by this server")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.jwt.secret,
                algorithms=list(self.jwt.algorithms),
                audience=self.jwt.audience,
                issuer=self.jwt.issuer,
                options={"require": ["sub", "exp", "roles"]},
            )
        except jwt.PyJWTError as error:
            raise AuthenticationError(f"the bearer token is not valid ({error})") from None
        roles = claims.get("roles")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise AuthenticationError("the bearer token's roles claim must be a list of strings")
        unknown = set(roles) - set(ROLES)
        if unknown:
            raise AuthenticationError(f"the bearer token names unknown roles {sorted(unknown)}")
        customer = claims.get("customer_id")
        if "client_viewer" in roles and not isinstance(customer, str):
            raise AuthenticationError("a client viewer's token must carry customer_id")
        return Principal(
            str(claims["sub"]), frozenset(roles), customer if isinstance(customer, str) else None
        )


def issue_token(
    settings: JwtSettings,
    subject: str,
    roles: Iterable[str],
    *,
    now: int,
    ttl_seconds: int = 3600,
    customer_id: str | None = None,
) -> str:
    """A bearer token (for tests, the demo and machine clients minting their own)."""
    claims: dict[str, Any] = {
        "sub": subject,
        "roles": sorted(roles),
        "iss": settings.issuer,
        "aud": settings.audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if customer_id is not None:
        claims["customer_id"] = customer_id
    return jwt.encode(claims, settings.secret, algorithm=settings.algorithms[0])


def without_cost(value: Any) -> Any:
    """The value with every cost or margin key removed, at any depth."""
    if isinstance(value, dict):
        return {k: without_cost(v) for k, v in value.items() if k not in COST_KEYS}
    if isinstance(value, list):
        return [without_cost(v) for v in value]
    return value
