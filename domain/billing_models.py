"""Importing this module registers every billing model with `domain.obligation`.

A new billing model is one module (frozen terms + `bill` + `recognise` + one
`register_billing_model` call) and one import line here; see docs/adr/0009.
"""

from __future__ import annotations

from domain import (  # noqa: F401
    fixed_fee,
    milestone_billing,
    recurring,
    retainer,
    time_and_materials,
    usage,
)
