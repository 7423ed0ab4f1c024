"""What a test reads from an HTTP answer: the body of a success, or the problem it refused with
(RFC 9457: its `type` from our registry and a `status` equal to the HTTP status)."""

from __future__ import annotations

from typing import Any

PROBLEMS = "https://throughline.dev/problems/"


def ok(response: Any, status: int = 200) -> Any:
    """The body of an answer that succeeded with `status`."""
    assert response.status_code == status, response.text
    return response.json()


def problem(response: Any, status: int, slug: str) -> Any:
    """The body of a refusal: `status`, and the problem type `slug` of our registry."""
    assert response.status_code == status, response.text
    body = response.json()
    assert (body["type"], body["status"]) == (PROBLEMS + slug, status), body
    return body


def strings_and_keys(value: Any) -> tuple[set[str], set[str]]:
    """Every string value and every key anywhere in a JSON document."""
    strings: set[str] = set()
    keys: set[str] = set()

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            keys.update(item)
            for v in item.values():
                walk(v)
        elif isinstance(item, list):
            for v in item:
                walk(v)
        elif isinstance(item, str):
            strings.add(item)

    walk(value)
    return strings, keys
