"""The marker every command carries, and the declaration of what a command answers."""

from __future__ import annotations

from typing import Generic, TypeVar

R = TypeVar("R", covariant=True)


class Command:
    """Marker base class of every command."""


class Returning(Command, Generic[R]):
    """A command whose handler answers an `R`: `bus.handle(command, ctx)` is typed `R`."""
