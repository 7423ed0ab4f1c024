"""The per-source secrets file: rotation lists, clear errors that never show a secret, no
secret in the logs; and the demo secrets `make run` prints."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.webhooks.mappings import MAPPINGS
from adapters.webhooks.signatures import signature_headers, verify
from entrypoints.http.webhook_intake import (
    SECRETS_VARIABLE,
    WebhookConfigError,
    demo_secret_lines,
    demo_secrets,
    load_secrets,
)

OLD = "whsec_" + base64.b64encode(b"old secret of the crm, 32 bytes").decode()
NEW = "whsec_" + base64.b64encode(b"new secret of the crm, 32 bytes").decode()
PSA = "whsec_" + base64.b64encode(b"the psa's only secret, 32 bytes").decode()


def secrets_file(tmp_path: Path, content: object) -> dict[str, str]:
    path = tmp_path / "webhook-secrets.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return {SECRETS_VARIABLE: str(path)}


def test_each_source_has_its_list_of_current_secrets(tmp_path: Path) -> None:
    secrets = load_secrets(secrets_file(tmp_path, {"crm": [OLD, NEW], "psa": [PSA]}))
    assert secrets.sources == {"crm", "psa"}
    assert [s.text() for s in secrets.for_source("crm")] == [OLD, NEW]


def test_without_the_variable_no_source_can_deliver() -> None:
    assert load_secrets({}).sources == frozenset()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not valid JSON"),
        (["whsec_x"], "expected"),
        ({"hr": [PSA]}, "'hr' is not a webhook source"),
        ({"crm": []}, "crm needs a list of one or more secrets"),
        ({"crm": OLD}, "crm needs a list of one or more secrets"),
        ({"crm": [OLD, "whsec_!!not base64!!"]}, "crm[1]: a webhook secret is base64"),
        ({"crm": [OLD.removeprefix("whsec_")]}, "crm[0]: a webhook secret starts with 'whsec_'"),
        ({"crm": [7]}, "crm[0]: a webhook secret is a string"),
    ],
)
def test_a_bad_secrets_file_is_refused_without_showing_a_secret(
    tmp_path: Path, content: object, message: str
) -> None:
    with pytest.raises(WebhookConfigError, match=message.replace("[", r"\[")) as refused:
        load_secrets(secrets_file(tmp_path, content))
    assert OLD.removeprefix("whsec_")[:12] not in str(refused.value)
    assert "!!not base64!!" not in str(refused.value)


def test_a_missing_secrets_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(WebhookConfigError, match="cannot read"):
        load_secrets({SECRETS_VARIABLE: str(tmp_path / "absent.json")})


def test_loading_logs_the_sources_and_counts_never_a_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="throughline.webhooks"):
        load_secrets(secrets_file(tmp_path, {"crm": [OLD, NEW], "psa": [PSA]}))
    assert "crm: 2, psa: 1" in caplog.text
    for secret in (OLD, NEW, PSA):
        assert secret.removeprefix("whsec_")[:12] not in caplog.text


def test_the_demo_has_one_working_secret_per_source() -> None:
    demo = demo_secrets()
    assert demo.sources == set(MAPPINGS)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    for source in MAPPINGS:
        (secret,) = demo.for_source(source)
        assert secret.text().startswith("whsec_")
        headers = signature_headers([secret], "msg_demo", now, b"{}")
        assert verify(demo.for_source(source), headers, b"{}", now).message_id == "msg_demo"
    assert [s.text() for s in demo_secrets().for_source("crm")] == [
        s.text() for s in demo.for_source("crm")
    ]


def test_make_run_can_print_a_demo_secret_per_source() -> None:
    lines = demo_secret_lines()
    assert [line.split(": ")[0] for line in lines] == sorted(MAPPINGS)
    assert all(line.split(": ")[1].startswith("whsec_") for line in lines)
