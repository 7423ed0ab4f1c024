"""The webhook intake: what `POST /webhooks/{source}` does, without the web framework.

    intake = WebhookIntake(bus, load_secrets(), clock)
    outcome = intake.receive("psa", request_headers, raw_body, ctx)

In order, and nothing later happens when an earlier step refuses:

1. the source must have secrets configured and a mapping (`UnknownSourceError`, 404);
2. the Standard Webhooks signature must verify on the raw bytes, within five minutes of our
   clock (`WebhookVerificationError` and its subclasses, 401);
3. the body must be strict UTF-8 JSON, read by the same `application.strict_json` as every
   HTTP body (`MalformedJsonError`, 400: not JSON, a repeated key, NaN, nested more than 32
   levels) holding an envelope with a `type` and a `data` object (`PayloadError` with a
   pointer per problem, 400).

Only then is the message stored in the inbox, raw, and processed. From here on nothing is
refused: a `data` that does not map, a string with a control character (NUL included) or over
the length limit, an event type we do not handle, a missing contract, a business rule or an
error nobody foresaw puts the stored message on the exception queue (`IntakeOutcome` FAILED,
with the exception's id, HTTP 202), where it waits for a fix and a replay; the sender must not
retry. A second delivery of a message whose processing finished is acknowledged (DUPLICATE,
200 or 202) and changes nothing; of one whose processing never finished, it is processed now,
unless another processor is at it (`MessageInProgressError`, 409: try again later). A
delivery under a stored message's id with another body is refused (`MessageIdReusedError`,
409) and stores nothing.

The secrets come from the JSON file `THROUGHLINE_WEBHOOK_SECRETS` names,
`{"crm": ["whsec_...", "whsec_..."], ...}`; two secrets for a source while it rotates. No
secret is ever logged or shown in an error.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from adapters.webhooks.mappings import MAPPINGS
from adapters.webhooks.signatures import (
    InvalidSecretError,
    UnknownSourceError,
    WebhookSecret,
    WebhookSecrets,
    WebhookVerificationError,
    verify,
)
from application import commands as c
from application.context import RequestContext
from application.errors import MalformedJsonError
from application.inbox import MessageInProgressError, Receipt, ReceiptStatus, parse_envelope
from application.messagebus import MessageBus
from application.ports import Clock, WebhookTranslator
from application.queries.projection import projected

SECRETS_VARIABLE = "THROUGHLINE_WEBHOOK_SECRETS"

log = logging.getLogger("throughline.webhooks")

__all__ = [
    "SECRETS_VARIABLE",
    "IntakeOutcome",
    "MessageInProgressError",
    "UnknownSourceError",
    "WebhookConfigError",
    "WebhookIntake",
    "WebhookVerificationError",
    "demo_secret_lines",
    "demo_secrets",
    "load_secrets",
]


class WebhookConfigError(ValueError):
    """The secrets file is missing or malformed (the message never shows a secret)."""


@attrs.frozen
class IntakeOutcome:
    """What the route answers a delivery the intake took."""

    status: ReceiptStatus
    source: str
    message_id: str
    state: str
    exception_id: str | None = None

    @classmethod
    def of(cls, receipt: Receipt) -> IntakeOutcome:
        return projected(cls, receipt, state=receipt.state.value)

    @property
    def http_status(self) -> int:
        """200 when processed (now or by an earlier delivery), 202 when stored but waiting on
        the exception queue: 2xx either way, so the sender does not send it again."""
        return 202 if self.state == "failed" else 200

    def body(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "source": self.source,
            "message_id": self.message_id,
            "state": self.state,
            "exception_id": self.exception_id,
        }


class WebhookIntake:
    """Verify, store, process: the whole of an inbound webhook but the HTTP route."""

    def __init__(
        self,
        bus: MessageBus,
        secrets: WebhookSecrets,
        clock: Clock,
        translator: WebhookTranslator | None = None,
    ) -> None:
        self._bus, self._secrets, self._clock = bus, secrets, clock
        self._translator = translator or bus.deps.webhooks

    @property
    def sources(self) -> frozenset[str]:
        """Sources that can deliver: a secret configured and a mapping to translate with."""
        return self._secrets.sources & self._translator.sources

    def receive(
        self, source: str, headers: Mapping[str, str], body: bytes, ctx: RequestContext
    ) -> IntakeOutcome:
        if source not in self.sources:
            raise UnknownSourceError(f"no webhooks are received from {source[:40]!r}")
        try:
            delivery = verify(self._secrets.for_source(source), headers, body, self._clock.now())
        except WebhookVerificationError as refused:
            log.warning("webhook from %s refused: %s", source, refused.code)
            raise
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedJsonError([("", "the body is not UTF-8")]) from None
        envelope = parse_envelope(text, check_text=False)  # text rules: in processing
        receipt: Receipt = self._bus.handle(
            c.ReceiveInboxMessage(source, delivery.message_id, envelope.event_type, text),
            RequestContext(f"webhook:{source}", ctx.correlation_id, frozenset({"integration"})),
        )
        outcome = IntakeOutcome.of(receipt)
        log.info(
            "webhook %s/%s (%s): %s",
            source,
            delivery.message_id,
            envelope.event_type,
            outcome.status.value,
        )
        return outcome


# Secrets ----------------------------------------------------------------------------------


def load_secrets(environ: Mapping[str, str] | None = None) -> WebhookSecrets:
    """The secrets of each source from the file `THROUGHLINE_WEBHOOK_SECRETS` names; none
    (every source unknown) when the variable is not set."""
    env = os.environ if environ is None else environ
    name = env.get(SECRETS_VARIABLE)
    return load_secrets_file(Path(name) if name else None)


def load_secrets_file(path: Path | None) -> WebhookSecrets:
    """The secrets of each source from a JSON file; none (every source unknown) without one."""
    if path is None:
        return WebhookSecrets()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise WebhookConfigError(f"cannot read {path}: {error.strerror}") from None
    except ValueError:
        raise WebhookConfigError(f"{path} is not valid JSON") from None
    secrets = _parse_secrets(document, path)
    log.info("webhook secrets loaded from %s: %r", path, secrets)  # counts, never keys
    return secrets


def _parse_secrets(document: object, path: Path) -> WebhookSecrets:
    if not isinstance(document, dict):
        raise WebhookConfigError(f'{path}: expected {{"source": ["whsec_...", ...], ...}}')
    parsed: dict[str, tuple[WebhookSecret, ...]] = {}
    for source, texts in document.items():
        if source not in MAPPINGS:
            known = ", ".join(MAPPINGS)
            raise WebhookConfigError(f"{path}: {source!r} is not a webhook source ({known})")
        if not isinstance(texts, list) or not texts:
            raise WebhookConfigError(f"{path}: {source} needs a list of one or more secrets")
        keys = []
        for index, text in enumerate(texts):
            try:
                if not isinstance(text, str):
                    raise InvalidSecretError("a webhook secret is a string")
                keys.append(WebhookSecret.parse(text))
            except InvalidSecretError as error:
                raise WebhookConfigError(f"{path}: {source}[{index}]: {error}") from None
        parsed[source] = tuple(keys)
    return WebhookSecrets(parsed)


def demo_secrets() -> WebhookSecrets:
    """One well-known secret per source, for the demo and local runs only: anyone who reads
    this code can sign with them."""
    return WebhookSecrets(
        {
            source: (WebhookSecret(hashlib.sha256(f"throughline demo {source}".encode()).digest()),)
            for source in MAPPINGS
        }
    )


def demo_secret_lines() -> list[str]:
    """What `make run` prints so a local sender can sign: one `source: whsec_...` per line."""
    demo = demo_secrets()
    return [f"{source}: {demo.for_source(source)[0].text()}" for source in sorted(demo.sources)]


if __name__ == "__main__":  # python -m entrypoints.http.webhook_intake
    print("Demo webhook secrets (local runs only; never configure these in production):")
    for line in demo_secret_lines():
        print(f"  {line}")
