"""A generated correlation id is a random UUID's 32 hex digits (entrypoints/http/correlation.py)."""

from __future__ import annotations

import uuid

from entrypoints.http.correlation import correlation_id_for, new_correlation_id


def test_a_generated_correlation_id_is_the_hex_of_a_random_version_4_uuid() -> None:
    ids = [new_correlation_id() for _ in range(2_000)]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(hex=text)
        assert parsed.hex == text
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


def test_a_request_without_an_id_gets_one_generated_once() -> None:
    scope: dict[str, object] = {"headers": [(b"x-correlation-id", b"has spaces")]}
    first = correlation_id_for(scope)
    assert uuid.UUID(hex=first).version == 4
    assert correlation_id_for(scope) == first
