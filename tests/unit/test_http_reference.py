"""docs/http-api.md lists every problem type and the role matrix exactly as the code has them."""

from entrypoints.http.reference import DOC, render


def test_the_http_api_document_matches_the_problem_registry_and_the_role_matrix() -> None:
    current = DOC.read_text(encoding="utf-8")
    assert render(current) == current, "run: python -m entrypoints.http.reference --write"


def test_every_problem_type_uri_appears_in_the_document() -> None:
    from entrypoints.http.problems import REGISTRY

    text = DOC.read_text(encoding="utf-8")
    missing = [t.uri for t in REGISTRY.values() if f"`{t.uri}`" not in text]
    assert missing == []
