"""A kind declared in an `OpenKind` subclass's body is registered with it, as its name in lower
case; a model's module adds more with `register` (ADR 0009)."""

from __future__ import annotations

from typing import ClassVar

from domain.kinds import OpenKind


def test_the_kinds_a_class_declares_are_registered_in_order_and_the_rest_of_its_body_is_not():
    class Colour(OpenKind):
        __slots__ = ()
        DEEP_RED: ClassVar[Colour]
        GREEN: ClassVar[Colour]
        shades: ClassVar[int] = 3

    blue = Colour.register("blue")

    assert [kind.value for kind in Colour.members()] == ["deep_red", "green", "blue"]
    assert Colour.DEEP_RED is Colour("deep_red")
    assert Colour.GREEN.name == "GREEN"
    assert Colour.shades == 3
    assert blue is Colour.register("blue")
