"""Standard Webhooks verification: the published vector, the time window on our clock,
rotation, several signatures, and a typed refusal for each way a delivery can be wrong."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from adapters.webhooks.signatures import (
    BadMessageIdError,
    BadTimestampError,
    InvalidSecretError,
    MissingHeadersError,
    NoMatchingSignatureError,
    OutsideToleranceError,
    UnknownSourceError,
    WebhookSecret,
    WebhookSecrets,
    sign,
    signature_headers,
    verify,
)

# The test vector published with the Standard Webhooks reference libraries.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
SPEC_TIME = datetime.fromtimestamp(SPEC_TIMESTAMP, tz=UTC)

OLD = WebhookSecret(b"o" * 32)
NEW = WebhookSecret(b"n" * 32)
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
BODY = b'{"type": "time.approved", "data": {}}'


def spec_headers(signature: str = SPEC_SIGNATURE) -> dict[str, str]:
    return {
        "webhook-id": SPEC_ID,
        "webhook-timestamp": str(SPEC_TIMESTAMP),
        "webhook-signature": signature,
    }


def test_the_published_vector_signs_and_verifies() -> None:
    secret = WebhookSecret.parse(SPEC_SECRET)
    assert sign(secret, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE
    delivery = verify([secret], spec_headers(), SPEC_BODY, now=SPEC_TIME)
    assert (delivery.message_id, delivery.signed_at) == (SPEC_ID, SPEC_TIME)


def test_the_reference_library_agrees_both_ways() -> None:
    reference = Webhook(SPEC_SECRET)
    assert reference.sign(SPEC_ID, SPEC_TIME, SPEC_BODY.decode()) == SPEC_SIGNATURE
    # what the library signs for a fresh delivery verifies here, and the other way round
    # (its verify reads the wall clock, so this half uses the real time)
    now = datetime.now(tz=UTC).replace(microsecond=0)
    theirs = reference.sign("msg_1", now, BODY.decode())
    headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(now.timestamp()))}
    verify([WebhookSecret.parse(SPEC_SECRET)], {**headers, "webhook-signature": theirs}, BODY, now)
    ours = signature_headers([WebhookSecret.parse(SPEC_SECRET)], "msg_1", now, BODY)
    reference.verify(BODY, ours)


def test_a_tampered_body_does_not_verify() -> None:
    secret = WebhookSecret.parse(SPEC_SECRET)
    with pytest.raises(NoMatchingSignatureError):
        verify([secret], spec_headers(), b'{"test": 2432232315}', now=SPEC_TIME)
    with pytest.raises(NoMatchingSignatureError):  # a body re-serialized is a different body
        verify([secret], spec_headers(), b'{"test":2432232314}', now=SPEC_TIME)


def test_a_tampered_id_or_timestamp_does_not_verify() -> None:
    secret = WebhookSecret.parse(SPEC_SECRET)
    with pytest.raises(NoMatchingSignatureError):
        verify([secret], {**spec_headers(), "webhook-id": "msg_other"}, SPEC_BODY, SPEC_TIME)
    later = str(SPEC_TIMESTAMP + 1)
    with pytest.raises(NoMatchingSignatureError):
        verify([secret], {**spec_headers(), "webhook-timestamp": later}, SPEC_BODY, SPEC_TIME)


@pytest.mark.parametrize("skew", [timedelta(minutes=5), timedelta(minutes=-5)])
def test_five_minutes_either_way_of_our_clock_is_accepted(skew: timedelta) -> None:
    headers = signature_headers([NEW], "msg_1", NOW + skew, BODY)
    assert verify([NEW], headers, BODY, now=NOW).signed_at == NOW + skew


@pytest.mark.parametrize(
    "skew", [timedelta(minutes=5, seconds=1), timedelta(minutes=-5, seconds=-1)]
)
def test_outside_the_window_either_way_is_refused_even_when_signed_right(skew: timedelta) -> None:
    headers = signature_headers([NEW], "msg_1", NOW + skew, BODY)
    with pytest.raises(OutsideToleranceError):
        verify([NEW], headers, BODY, now=NOW)


def test_the_window_is_measured_on_the_clock_we_are_given_not_the_wall_clock() -> None:
    long_ago = datetime(2001, 1, 1, tzinfo=UTC)
    headers = signature_headers([NEW], "msg_1", long_ago, BODY)
    assert verify([NEW], headers, BODY, now=long_ago + timedelta(minutes=4)).message_id == "msg_1"


def test_during_a_rotation_the_old_and_the_new_secret_both_verify() -> None:
    rotating = [OLD, NEW]
    for signer in (OLD, NEW):
        headers = signature_headers([signer], "msg_1", NOW, BODY)
        assert verify(rotating, headers, BODY, NOW).message_id == "msg_1"


def test_a_secret_removed_after_the_rotation_no_longer_verifies() -> None:
    headers = signature_headers([OLD], "msg_1", NOW, BODY)
    with pytest.raises(NoMatchingSignatureError):
        verify([NEW], headers, BODY, NOW)


def test_one_matching_signature_among_several_is_enough() -> None:
    stranger = WebhookSecret(b"s" * 32)
    headers = signature_headers([stranger, OLD, NEW], "msg_1", NOW, BODY)
    assert len(headers["webhook-signature"].split(" ")) == 3
    assert verify([NEW], headers, BODY, NOW).message_id == "msg_1"
    # unknown versions, malformed entries and extra spaces are skipped, not fatal
    good = sign(NEW, "msg_1", int(NOW.timestamp()), BODY)
    messy = f"v1a,abc  nonsense v1,@@@ v1, {good}"
    assert verify([NEW], {**headers, "webhook-signature": messy}, BODY, NOW)


def test_only_v1_signatures_count() -> None:
    good = sign(NEW, "msg_1", int(NOW.timestamp()), BODY)
    headers = signature_headers([NEW], "msg_1", NOW, BODY)
    with pytest.raises(NoMatchingSignatureError):
        verify([NEW], {**headers, "webhook-signature": good.replace("v1,", "v2,")}, BODY, NOW)


def test_headers_are_found_whatever_their_case() -> None:
    headers = {k.upper(): v for k, v in signature_headers([NEW], "msg_1", NOW, BODY).items()}
    assert verify([NEW], headers, BODY, NOW).message_id == "msg_1"


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_or_empty_header_is_refused_by_name(missing: str) -> None:
    headers = signature_headers([NEW], "msg_1", NOW, BODY)
    with pytest.raises(MissingHeadersError, match=missing):
        verify([NEW], {k: v for k, v in headers.items() if k != missing}, BODY, NOW)
    with pytest.raises(MissingHeadersError, match=missing):
        verify([NEW], {**headers, missing: "  "}, BODY, NOW)


@pytest.mark.parametrize("value", ["1614265330.5", "-1", "1e9", "soon", "99999999999999"])
def test_a_timestamp_that_is_not_whole_seconds_is_refused(value: str) -> None:
    headers = {**signature_headers([NEW], "msg_1", NOW, BODY), "webhook-timestamp": value}
    with pytest.raises(BadTimestampError):
        verify([NEW], headers, BODY, NOW)


@pytest.mark.parametrize("message_id", ["msg 1", "msg\n1", "m" * 256])
def test_a_message_id_that_cannot_key_the_inbox_is_refused(message_id: str) -> None:
    headers = signature_headers([NEW], message_id, NOW, BODY)
    with pytest.raises(BadMessageIdError):
        verify([NEW], headers, BODY, NOW)


def test_secrets_are_whsec_base64_of_24_to_64_bytes_and_never_shown() -> None:
    text = "whsec_" + base64.b64encode(b"k" * 24).decode()
    assert WebhookSecret.parse(text).text() == text
    assert WebhookSecret.parse(text.rstrip("=")).key == b"k" * 24  # padding is optional
    for bad in ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_!!!!", "whsec_" + "QUJD"):
        with pytest.raises(InvalidSecretError) as refused:
            WebhookSecret.parse(bad)
        assert bad.removeprefix("whsec_") not in str(refused.value)
    secrets = WebhookSecrets.of({"crm": [text, SPEC_SECRET]})
    assert repr(secrets) == "WebhookSecrets(crm: 2)"
    assert "k" * 8 not in repr(secrets.for_source("crm"))


def test_a_source_without_secrets_is_unknown() -> None:
    secrets = WebhookSecrets.of({"crm": [SPEC_SECRET], "psa": []})
    assert secrets.sources == {"crm"}
    for source in ("psa", "erp"):
        with pytest.raises(UnknownSourceError):
            secrets.for_source(source)


def test_the_signing_snippet_in_the_documentation_gives_the_published_vector() -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
    snippet = doc.read_text(encoding="utf-8").split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)  # the documentation's own code, nothing else
    assert namespace["sign"](SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE
