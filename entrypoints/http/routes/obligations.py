"""Obligation terms as the API carries them: one JSON object per obligation, tagged with its
billing model's registered name (`domain.obligation`), the terms' fields beside the tag.

    {"model": "time_and_materials", "obligation_id": "tm", "name": "Advisory",
     "rate_card_id": "RC-UK", "cap": {"amount": "50000.00", "policy": "hold"}}

They are structured by the project's one converter (`adapters.serialization`), so the API,
the stored snapshots and the CLM webhook read the same shape. The models, their names and their
examples come from the registry (`BillingModel.example`): a new model needs no change here.
"""

from __future__ import annotations

import re
from typing import Any

from litestar.openapi.spec import Example

import domain.billing_models  # noqa: F401  (registers every billing model)
from adapters.serialization import SerializationError, TermsRuleError, structure_obligations
from domain.obligation import BillingModel, registered_models
from entrypoints.http.problems import FieldError, Problem

#: Obligations in one version, at most.
MAX_OBLIGATIONS = 100


def _model_names() -> str:
    return " | ".join(f'"{model.name}"' for model in registered_models())


OBLIGATIONS_DOC = (
    "The obligations of the version, each an object tagged with its billing model: "
    f'`{{"model": {_model_names()}, "obligation_id": ..., "name": ..., ...the terms}}`. '
    "Decimals are strings; `currency` may be left out (it is the contract's). An amendment "
    "lists every obligation as it is to be from its effective date: one left out ends there."
)


def model_example(model: BillingModel, **changes: Any) -> dict[str, Any]:
    """One obligation of this model as the API carries it: its registered example, tagged."""
    return {"model": model.name, **model.example, **changes}


def _version_example(summary: str, *obligations: dict[str, Any], **extra: Any) -> Example:
    value = {"effective_from": "2026-01-01", "obligations": list(obligations), **extra}
    return Example(summary=summary, value=value)


def _version_examples() -> list[Example]:
    """One version per registered model, then an amendment adding a second obligation."""
    models = registered_models()
    examples = [_version_example(model.summary, model_example(model)) for model in models]
    first = models[0]
    examples.append(
        _version_example(
            "an amendment: the obligation as it was plus a change request",
            model_example(first),
            model_example(first, obligation_id="cr-1", name="Change request 1"),
            effective_from="2026-04-01",
            label="Change order 1",
        )
    )
    return examples


VERSION_EXAMPLES = _version_examples()

_STEP = re.compile(r"\.([^.\[]+)|\[(-?\d+|'[^']*')\]")


def _pointer(path: str) -> str:
    """A converter path (`$[0].installments[1].percentage`) as a JSON pointer into the body."""
    parts = ["obligations"]
    for name, index in _STEP.findall(path[1:]):
        parts.append(name or index.strip("'"))
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def obligations_from(obligations: list[dict[str, Any]], currency: str) -> tuple[Any, ...]:
    """The terms objects (`currency` defaulting to the contract's), or a problem naming every
    bad field: 400 for malformed terms, 422 for well-formed terms that break a rule of their
    billing model."""
    data = [item if "currency" in item else {"currency": currency, **item} for item in obligations]
    try:
        return structure_obligations(data)
    except SerializationError as error:
        errors = [FieldError(_pointer(path), detail) for path, detail in error.problems]
        slug = "business-rule" if isinstance(error, TermsRuleError) else "validation-error"
        first = errors[0]
        raise Problem(slug, f"{first.detail} at {first.pointer}", errors=errors) from None
