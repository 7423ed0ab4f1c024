"""A read model filled from the object it shows: each field read from the attribute of the same
name, so a view states only what it shows differently (an enum by its value, a count, a renamed
field). A field renamed on one side fails at the first read instead of drifting."""

from __future__ import annotations

from typing import Any, TypeVar

import attrs

View = TypeVar("View", bound=attrs.AttrsInstance)


def projected(view: type[View], source: object, /, **given: Any) -> View:
    """`view` with every field not `given` read from `source`'s attribute of the same name."""
    copied = {f.name: getattr(source, f.name) for f in attrs.fields(view) if f.name not in given}
    return view(**copied, **given)
