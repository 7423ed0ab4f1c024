"""Which rendition of a document URL a request gets from its Accept header (RFC 9110 12.5.1):
JSON unless the client weighs another served type higher; nothing when it accepts none."""

from __future__ import annotations

import pytest

from entrypoints.http.renditions import negotiate


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "application/json"),
        ("", "application/json"),
        ("*/*", "application/json"),
        ("application/*", "application/json"),
        ("application/xml", "application/xml"),
        ("application/vnd.oasis.ubl+xml", "application/vnd.oasis.ubl+xml"),
        ("application/json;q=0.5, application/xml", "application/xml"),
        ("application/xml;q=0.4, application/json;q=0.9", "application/json"),
        ("text/html, application/xml;q=0.9, */*;q=0.1", "application/xml"),
        ("APPLICATION/XML", "application/xml"),
        ("application/pdf", "application/pdf"),
        ("application/pdf;q=0.5, application/json", "application/json"),
        ("application/xml;q=0.8, application/pdf", "application/pdf"),
        ("text/csv", None),
        ("application/xml;q=0", None),
        ("application/xml;q=high", None),
        ("*/*;q=0", None),
    ],
)
def test_the_accept_header_chooses_the_rendition(accept: str | None, chosen: str | None) -> None:
    assert negotiate(accept) == chosen
