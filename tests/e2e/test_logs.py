"""What a real `throughline serve --demo-keys` writes while it works: every line on standard
error is JSON, the request lines carry the correlation id the client sent, the principal, the
route template, the status and the duration; the relay's deliveries are logged by event and
subscriber; and no credential, signing secret or cost rate appears anywhere after the banner
that prints the demo keys."""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from adapters.webhooks.signatures import signature_headers
from entrypoints.http.security import JwtSettings, issue_token
from entrypoints.http.webhook_intake import demo_secrets
from tests.support.http_sink import Sink, running_sink
from tests.support.server import Served, stop_server
from tests.support.server import start_server as start

COST_RATE = "173.4219"
WAIT_SECONDS = 20.0


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {WAIT_SECONDS} s")
        time.sleep(0.05)


def start_server(tmp_path: Path, sink: Sink, jwt_secret: str, subscriber_secret: str) -> Served:
    subscribers = tmp_path / "subscribers.json"
    subscribers.write_text(
        json.dumps(
            {
                "subscribers": [
                    {"name": "erp-sink", "url": sink.url("/hooks"), "secret": subscriber_secret}
                ]
            }
        ),
        encoding="utf-8",
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("THROUGHLINE_")},
        "THROUGHLINE_DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}",
        "THROUGHLINE_SUBSCRIBERS": str(subscribers),
        "THROUGHLINE_JWT_SECRET": jwt_secret,
    }
    return start(tmp_path, env, "--demo-keys", separate_errors=True)


def request_lines(lines: list[dict[str, Any]], correlation_id: str) -> list[dict[str, Any]]:
    return [
        line
        for line in lines
        if line["event"] == "http.request" and line.get("correlation_id") == correlation_id
    ]


def test_a_real_server_logs_json_lines_with_request_and_delivery_fields_and_no_secret(
    tmp_path: Path,
) -> None:
    jwt_secret = secrets.token_urlsafe(40)
    subscriber_secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    wrong_key = "tl_demo_not-a-key-anyone-was-given"
    with running_sink() as sink:
        server = start_server(tmp_path, sink, jwt_secret, subscriber_secret)
        process, base, out, err = server.process, server.base, server.output, server.errors
        try:
            keys = {
                k["name"]: k["key"]
                for k in json.loads((tmp_path / "var/demo-api-keys.json").read_text())
            }
            webhook_secrets = json.loads((tmp_path / "var/demo-webhook-secrets.json").read_text())
            token = issue_token(
                JwtSettings(jwt_secret),
                "jwt.lead",
                ["delivery_manager", "finance"],
                now=int(time.time()),
            )
            with httpx.Client(base_url=base, timeout=10.0) as client:
                listed = client.get(
                    "/rate-cards",
                    headers={"X-API-Key": keys["finance"], "X-Correlation-ID": "logs-get-1"},
                )
                proposed = client.post(
                    "/engagements",
                    json={"engagement_id": "E-LOG-1", "customer_id": "C-1", "contract_id": "K-1"},
                    headers={
                        "X-API-Key": keys["sales_ops"],
                        "Idempotency-Key": "logs-post-1",
                        "X-Correlation-ID": "logs-post-1",
                    },
                )
                refused = client.get(
                    "/rate-cards",
                    headers={"X-API-Key": wrong_key, "X-Correlation-ID": "logs-401"},
                )
                costed = client.post(
                    "/time-entries",
                    json={
                        "entries": [
                            {
                                "entry_id": "T-LOG-1",
                                "engagement_id": "E-LOG-1",
                                "obligation_id": "tm",
                                "resource_id": "r1",
                                "role": "consultant",
                                "work_date": "2026-03-02",
                                "hours": "7.5",
                                "cost_rate": COST_RATE,
                            }
                        ]
                    },
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Idempotency-Key": "logs-cost-1",
                        "X-Correlation-ID": "logs-jwt-1",
                    },
                )
                body = json.dumps(
                    {"type": "time.approved", "data": {"approved_by": "pm", "entries": []}}
                ).encode()
                signed = signature_headers(
                    demo_secrets().for_source("psa"), "msg-logs-1", datetime.now(UTC), body
                )
                webhook = client.post(
                    "/webhooks/psa",
                    content=body,
                    headers={
                        **signed,
                        "content-type": "application/json",
                        "X-Correlation-ID": "logs-webhook-1",
                    },
                )
            wait_for(lambda: bool(sink.at("/hooks")), "the delivery of the engagement's event")
            wait_for(lambda: '"outbox.delivery"' in err.read_text(), "the delivery's log line")
        finally:
            stop_server(process, timeout=30)

    assert listed.status_code == 200, listed.text
    assert proposed.status_code == 201, proposed.text
    assert refused.status_code == 401
    assert costed.status_code == 200, costed.text
    assert webhook.status_code in (200, 202), webhook.text

    stderr = err.read_text()
    lines = [json.loads(line) for line in stderr.splitlines()]  # every line is JSON
    assert lines

    (get,) = request_lines(lines, "logs-get-1")
    assert (get["principal"], get["method"], get["route"], get["status"]) == (
        "demo.finance",
        "GET",
        "/rate-cards",
        200,
    )
    assert isinstance(get["duration_ms"], float)
    (post,) = request_lines(lines, "logs-post-1")
    assert (post["principal"], post["route"], post["status"]) == (
        "demo.sales",
        "/engagements",
        201,
    )
    (unauthenticated,) = request_lines(lines, "logs-401")
    assert (unauthenticated["principal"], unauthenticated["status"]) == (None, 401)
    (bearer,) = request_lines(lines, "logs-jwt-1")
    assert (bearer["principal"], bearer["route"], bearer["status"]) == (
        "jwt.lead",
        "/time-entries",
        200,
    )
    (signed_webhook,) = request_lines(lines, "logs-webhook-1")
    assert signed_webhook["principal"] is None
    assert signed_webhook["route"].startswith("/webhooks/")

    delivered = {r.headers["webhook-id"] for r in sink.at("/hooks")}
    deliveries = [line for line in lines if line["event"] == "outbox.delivery"]
    assert {d["event_id"] for d in deliveries} >= delivered
    assert {(d["subscriber"], d["outcome"]) for d in deliveries} == {("erp-sink", "delivered")}
    assert all(d["event_type"].startswith("com.throughline.") for d in deliveries)

    stdout = out.read_text()
    demo_webhook_secrets = [s for texts in webhook_secrets.values() for s in texts]
    banner_end = max(stdout.rindex(s) for s in [*keys.values(), *demo_webhook_secrets])
    after_banner = stdout[banner_end:].split("\n", 1)[-1]
    never_logged = [
        *keys.values(),
        wrong_key,
        *demo_webhook_secrets,
        *(s.removeprefix("whsec_") for s in demo_webhook_secrets),
        jwt_secret,
        token,
        subscriber_secret,
        subscriber_secret.removeprefix("whsec_"),
        COST_RATE,
        sink.url("/hooks"),  # a subscriber's URL may carry credentials: named, never shown
    ]
    for secret in never_logged:
        assert secret not in stderr, f"{secret[:12]}... appears in the log"
        assert secret not in after_banner, f"{secret[:12]}... appears on standard output"
