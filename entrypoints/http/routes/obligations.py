"""Obligation terms as the API carries them: one JSON object per obligation, tagged with its
billing model's registered name (`domain.obligation`), the terms' fields beside the tag.

    {"model": "time_and_materials", "obligation_id": "tm", "name": "Advisory",
     "rate_card_id": "RC-UK", "cap": {"amount": "50000.00", "policy": "hold"}}

They are structured by the project's one converter (`adapters.serialization`), so the API,
the stored snapshots and the CLM webhook read the same shape. A new billing model needs no
change here beyond an example.
"""

from __future__ import annotations

import re
from typing import Any

from litestar.openapi.spec import Example

from adapters.serialization import SerializationError, TermsRuleError, structure_obligations
from entrypoints.http.problems import FieldError, Problem

#: Obligations in one version, at most.
MAX_OBLIGATIONS = 100

OBLIGATIONS_DOC = (
    "The obligations of the version, each an object tagged with its billing model: "
    '`{"model": "time_and_materials" | "fixed_fee" | "retainer" | "milestones" | '
    '"recurring", "obligation_id": ..., "name": ..., ...the terms}`. Decimals are strings; '
    "`currency` may be left out (it is the contract's). An amendment lists every obligation "
    "as it is to be from its effective date: one left out ends there."
)


_TM = {
    "model": "time_and_materials",
    "obligation_id": "tm",
    "name": "Advisory time and materials",
    "rate_card_id": "RC-UK",
    "billing_increment": "0.25",
    "increment_rounding": "up",
    "daily_cap_hours": "8",
    "cap": {"amount": "50000.00", "policy": "hold"},
    "expenses": {"markup": "0.10", "category_caps": {"travel": "2000.00"}},
}
_FIXED_FEE = {
    "model": "fixed_fee",
    "obligation_id": "ff",
    "name": "Implementation",
    "fee": "90000.00",
    "installments": [
        {"installment_id": "ff-1", "due_date": "2026-04-30", "percentage": "50"},
        {"installment_id": "ff-2", "due_date": "2026-06-30", "percentage": "50"},
    ],
    "estimate_hours": "600",
}
_RETAINER = {
    "model": "retainer",
    "obligation_id": "ret",
    "name": "Support retainer",
    "fee_per_period": "8000.00",
    "hours_per_period": "40",
    "start": "2026-01-01",
    "end": "2026-12-31",
    "rollover_cap_hours": "20",
    "rollover_periods": 2,
    "overage_rate": "220.00",
    "overage_policy": "bill",
}
_MILESTONES = {
    "model": "milestones",
    "obligation_id": "prog",
    "name": "Transformation program",
    "fee": "400000.00",
    "milestones": [
        {"milestone_id": "M1", "name": "Discovery", "percentage": "25"},
        {"milestone_id": "M2", "name": "Design", "percentage": "25"},
        {"milestone_id": "M3", "name": "Build", "percentage": "25"},
        {"milestone_id": "M4", "name": "Go-live", "percentage": "25", "final": True},
    ],
    "retention_percent": "10",
    "passive_acceptance_days": 10,
}
_RECURRING = {
    "model": "recurring",
    "obligation_id": "ms",
    "name": "Managed service",
    "amount_per_period": "12000.00",
    "service_start": "2026-01-15",
    "service_end": "2026-12-31",
}


def _version_example(summary: str, *obligations: dict[str, Any], **extra: Any) -> Example:
    value = {"effective_from": "2026-01-01", "obligations": list(obligations), **extra}
    return Example(summary=summary, value=value)


VERSION_EXAMPLES = [
    _version_example("time and materials on a rate card, with a cap", _TM, label="SOW"),
    _version_example("a fixed fee in two installments", _FIXED_FEE),
    _version_example("a monthly retainer with rollover", _RETAINER),
    _version_example("a fee billed by milestones with a 10 % holdback", _MILESTONES),
    _version_example("a recurring managed-service fee", _RECURRING),
    _version_example(
        "an amendment: the program plus a T&M change request",
        _MILESTONES,
        {**_TM, "obligation_id": "cr-1", "name": "Change request 1"},
        effective_from="2026-04-01",
        label="Change order 1",
    ),
]

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
