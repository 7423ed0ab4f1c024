"""Standard Webhooks signatures, checked on the raw body before anything parses it.

A sender signs `{webhook-id}.{webhook-timestamp}.{body}` with HMAC-SHA256 under a shared
secret (`whsec_` + base64 of 24 to 64 random bytes) and sends `webhook-signature: v1,<base64>`;
during a rotation it signs with the old and the new secret and sends both, space-separated.
We accept a delivery when any `v1` signature matches any secret configured for its source, and
its timestamp is within five minutes of our clock (either way), which bounds how long a captured
request can be replayed. The clock is injected (the `Clock` port), never the wall clock, so
tests move it by hand.

The `standardwebhooks` package implements the same scheme, but its `verify` reads the wall
clock and raises untyped errors on malformed headers; the tests check that both agree on the
published test vector and on each other's signatures.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

import attrs

SECRET_PREFIX = "whsec_"
TOLERANCE = timedelta(minutes=5)
MIN_SECRET_BYTES, MAX_SECRET_BYTES = 24, 64
MAX_MESSAGE_ID_LENGTH = 255
ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER = (
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
)

_TIMESTAMP = re.compile(r"[0-9]{1,11}")  # until the year 5138; more overflows datetime
#: Printable ASCII without spaces: the id is half of the inbox key and appears in logs.
_MESSAGE_ID = re.compile(r"[!-~]+")


class WebhookVerificationError(Exception):
    """The delivery does not prove it came from the source (HTTP 401)."""

    code = "invalid_signature"


class MissingHeadersError(WebhookVerificationError):
    code = "missing_headers"


class BadMessageIdError(WebhookVerificationError):
    code = "bad_message_id"


class BadTimestampError(WebhookVerificationError):
    code = "bad_timestamp"


class OutsideToleranceError(WebhookVerificationError):
    """Signed more than five minutes before or after our clock: a replay or a skewed clock."""

    code = "outside_tolerance"


class NoMatchingSignatureError(WebhookVerificationError):
    """No `v1` signature matches a current secret: a tampered body or a wrong secret."""

    code = "no_matching_signature"


class UnknownSourceError(Exception):
    """No secret is configured for the source, so nothing from it can verify (HTTP 404)."""

    code = "unknown_source"


class InvalidSecretError(ValueError):
    """A configured secret is not `whsec_` + base64 of 24 to 64 bytes (its value never
    appears in the message)."""


@attrs.frozen(repr=False)
class WebhookSecret:
    """One signing key; its repr never shows it."""

    key: bytes

    @classmethod
    def parse(cls, text: str) -> WebhookSecret:
        if not text.startswith(SECRET_PREFIX):
            raise InvalidSecretError(f"a webhook secret starts with {SECRET_PREFIX!r}")
        encoded = text[len(SECRET_PREFIX) :]
        try:
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidSecretError("a webhook secret is base64 after its prefix") from None
        if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
            raise InvalidSecretError(
                f"a webhook secret holds {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes, "
                f"not {len(key)}"
            )
        return cls(key)

    def __repr__(self) -> str:
        return "WebhookSecret(<redacted>)"

    def text(self) -> str:
        """The `whsec_...` form, to hand to the sender."""
        return SECRET_PREFIX + base64.b64encode(self.key).decode("ascii")


@attrs.frozen(repr=False)
class WebhookSecrets:
    """The current secrets of each source; during a rotation a source has two (or more)."""

    by_source: Mapping[str, tuple[WebhookSecret, ...]] = attrs.field(factory=dict)

    @classmethod
    def of(cls, texts: Mapping[str, Iterable[str]]) -> WebhookSecrets:
        return cls({s: tuple(WebhookSecret.parse(t) for t in ts) for s, ts in texts.items()})

    def for_source(self, source: str) -> tuple[WebhookSecret, ...]:
        secrets = self.by_source.get(source, ())
        if not secrets:
            raise UnknownSourceError(f"no webhook secret is configured for {source!r}")
        return secrets

    @property
    def sources(self) -> frozenset[str]:
        return frozenset(s for s, secrets in self.by_source.items() if secrets)

    def __repr__(self) -> str:
        counts = ", ".join(f"{s}: {len(k)}" for s, k in sorted(self.by_source.items()))
        return f"WebhookSecrets({counts})"


@attrs.frozen
class VerifiedDelivery:
    """What the headers of a verified delivery say: its message id and when it was signed."""

    message_id: str
    signed_at: datetime


def _signature(secret: WebhookSecret, message_id: str, timestamp: str, body: bytes) -> bytes:
    signed = message_id.encode() + b"." + timestamp.encode() + b"." + body
    return hmac.new(secret.key, signed, hashlib.sha256).digest()


def sign(secret: WebhookSecret, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of a delivery."""
    digest = _signature(secret, message_id, str(timestamp), body)
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_headers(
    secrets: Sequence[WebhookSecret], message_id: str, at: datetime, body: bytes
) -> dict[str, str]:
    """The three headers a sender sends, signed with every secret given (a rotation)."""
    timestamp = int(at.timestamp())
    return {
        ID_HEADER: message_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: " ".join(sign(s, message_id, timestamp, body) for s in secrets),
    }


def _header(headers: Mapping[str, str], name: str) -> str:
    """A header by case-insensitive name ('' when absent)."""
    found = headers.get(name)
    if found is None:
        found = next((v for k, v in headers.items() if k.lower() == name), None)
    return (found or "").strip()


def _candidates(header: str) -> list[bytes]:
    """The decoded `v1` signatures of a header; other versions and malformed entries are
    skipped, not fatal (a sender may add schemes we do not know)."""
    found = []
    for entry in header.split():
        version, _, encoded = entry.partition(",")
        if version != "v1" or not encoded:
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return found


def verify(
    secrets: Sequence[WebhookSecret],
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    tolerance: timedelta = TOLERANCE,
) -> VerifiedDelivery:
    """Check a delivery's headers and signature against the raw body, at our clock's `now`."""
    message_id = _header(headers, ID_HEADER)
    timestamp = _header(headers, TIMESTAMP_HEADER)
    signature = _header(headers, SIGNATURE_HEADER)
    missing = [
        name
        for name, value in (
            (ID_HEADER, message_id),
            (TIMESTAMP_HEADER, timestamp),
            (SIGNATURE_HEADER, signature),
        )
        if not value
    ]
    if missing:
        raise MissingHeadersError(f"missing {', '.join(missing)}")
    if len(message_id) > MAX_MESSAGE_ID_LENGTH or not _MESSAGE_ID.fullmatch(message_id):
        raise BadMessageIdError(
            f"{ID_HEADER} is up to {MAX_MESSAGE_ID_LENGTH} printable ASCII characters"
        )
    if not _TIMESTAMP.fullmatch(timestamp):
        raise BadTimestampError(f"{TIMESTAMP_HEADER} is whole seconds since 1970 (UTC)")
    signed_at = datetime.fromtimestamp(int(timestamp), tz=UTC)
    if abs(now - signed_at) > tolerance:
        raise OutsideToleranceError(
            f"signed at {signed_at.isoformat()}, more than {tolerance} away from our clock"
        )
    offered = _candidates(signature)
    for secret in secrets:
        expected = _signature(secret, message_id, timestamp, body)
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return VerifiedDelivery(message_id, signed_at)
    raise NoMatchingSignatureError("no signature matches a current secret of the source")
