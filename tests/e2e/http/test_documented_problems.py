"""The OpenAPI document lists every problem a route names: one response per status, with each
problem of that status as an example, so a 422 that may be a business rule or a reused key
says both."""

from __future__ import annotations

from entrypoints.http.problems import REGISTRY
from entrypoints.http.routes.common import RULED_WRITE_PROBLEMS, documented
from tests.e2e.http.routing import PROBLEM_BASE, SPEC


def test_each_problem_of_a_shared_status_is_an_example_of_it() -> None:
    responses = documented(*RULED_WRITE_PROBLEMS)
    named: dict[int, set[str]] = {}
    for slug in RULED_WRITE_PROBLEMS:
        named.setdefault(REGISTRY[slug].status, set()).add(REGISTRY[slug].title)
    assert {409, 422} <= {status for status, titles in named.items() if len(titles) > 1}
    for status, titles in named.items():
        assert {example.summary for example in responses[status].examples or []} == titles


def test_a_payment_documents_a_broken_rule_and_a_reused_key_under_422() -> None:
    operation = SPEC["paths"]["/invoices/{invoice_id}/payments"]["post"]
    examples = operation["responses"]["422"]["content"]["application/problem+json"]["examples"]
    assert {example["value"]["type"] for example in examples.values()} == {
        PROBLEM_BASE + "business-rule",
        PROBLEM_BASE + "idempotency-key-reused",
    }
    conflict = operation["responses"]["409"]["description"]
    assert conflict == (
        "One of: The resource is not in a state that allows this; "
        "A request with this Idempotency-Key is still running"
    )
