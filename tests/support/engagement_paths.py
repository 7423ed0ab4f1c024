"""Lifecycle paths an engagement's audit trail tells, as the stories expect them."""

from __future__ import annotations

#: Set up, blocked for missing master data, provisioned again once the data was healed.
THROUGH_A_BLOCKED_SETUP = (
    "proposed",
    "contracted",
    "provisioning",
    "setup_blocked",
    "provisioning",
    "active",
)
