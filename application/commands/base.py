"""The marker every command carries."""

from __future__ import annotations


class Command:
    """Marker base class of every command."""
