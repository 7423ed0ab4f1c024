"""Kinds named by a stable string that billing models extend from their own modules.

`SourceKind` and `LineKind` (`domain.billing`) were enums: a model that billed a new kind of
source or line had to edit `domain/billing.py`. An `OpenKind` subclass keeps what callers used
of the enum (members as class attributes, `.value`, `.name`, lookup by value, identity
comparison, pickling) and lets a model's module `register` its own kinds (docs/adr/0009).
The kinds a subclass declares in its body (`TIME_ENTRY: ClassVar[SourceKind]`) are registered
with it, each as its name in lower case, so each is written once.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar, Self, cast

from domain.errors import DomainError

_KIND_VALUE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class InvalidKindError(DomainError):
    code = "invalid_kind"


class OpenKind:
    """A kind named by a stable string (stored, serialised and shown as it is), one instance
    per string. Unlike an `Enum`, a billing model's module adds its own kinds with `register`
    without editing this module; `Kind("value")` finds a registered one (ValueError
    otherwise), as an enum's lookup by value does."""

    __slots__ = ("value",)
    _members: ClassVar[dict[str, Any]]
    value: str

    def __init_subclass__(cls) -> None:
        cls._members = {}
        declared = f"ClassVar[{cls.__name__}]"
        for name, annotation in inspect.get_annotations(cls).items():
            if annotation == declared:
                setattr(cls, name, cls.register(name.lower()))

    def __new__(cls, value: str) -> Self:
        try:
            return cast("Self", cls._members[value])
        except (KeyError, TypeError):
            raise ValueError(f"{value!r} is not a valid {cls.__name__}") from None

    @classmethod
    def register(cls, value: str) -> Self:
        """Declare a kind; declaring a registered value again returns the same kind."""
        known = cls._members.get(value)
        if known is not None:
            return cast("Self", known)
        if not _KIND_VALUE.match(value):
            raise InvalidKindError(
                f"a {cls.__name__} is named in lower-case letters, digits and underscores: "
                f"{value!r}"
            )
        member = object.__new__(cls)
        object.__setattr__(member, "value", value)
        cls._members[value] = member
        return member

    @classmethod
    def members(cls) -> tuple[Self, ...]:
        """Every registered kind, in the order they were registered."""
        return tuple(cls._members.values())

    @classmethod
    def by_value(cls) -> Mapping[str, Self]:
        """A live, read-only view of the registered kinds by value (for bulk reads)."""
        return MappingProxyType(cls._members)

    @property
    def name(self) -> str:
        return self.value.upper()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a {type(self).__name__} cannot be changed")

    def __lt__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.value < other.value

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.value))

    def __reduce__(self) -> tuple[type[Self], tuple[str]]:
        return type(self), (self.value,)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}.{self.name}: {self.value!r}>"

    def __str__(self) -> str:
        return f"{type(self).__name__}.{self.name}"
