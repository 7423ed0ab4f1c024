"""Every pattern a field or parameter declares is refused in words: what the field takes and an
example, never the regular expression itself (ADR 0023's refusals are read by people)."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from entrypoints.http.problems import _in_words
from entrypoints.http.routes.journal import DimensionName, Key
from tests.e2e.http.routing import SPEC


def _patterns(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["pattern"]} if isinstance(node.get("pattern"), str) else set()
        return found.union(*(_patterns(v) for k, v in node.items() if k != "pattern"))
    if isinstance(node, list):
        return set().union(*(_patterns(v) for v in node))
    return set()


#: Patterns of map keys, which the OpenAPI document does not show.
KEY_PATTERNS = {get_args(t)[1].pattern for t in (DimensionName, Key)}
PATTERNS = sorted(_patterns(SPEC) | KEY_PATTERNS)


def test_the_document_declares_the_patterns_this_check_walks() -> None:
    assert len(PATTERNS) >= 20


@pytest.mark.parametrize("pattern", PATTERNS)
def test_a_value_outside_a_declared_pattern_is_refused_in_words(pattern: str) -> None:
    said = _in_words(f"Expected `str` matching regex {pattern!r}")
    assert said.startswith("expected ")
    assert "regex" not in said
    assert "`" not in said
    assert pattern not in said
