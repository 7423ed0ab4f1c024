"""Declared delivery kinds: a name, a record class, records grouped by kind and obligation."""

from __future__ import annotations

from datetime import date

import attrs
import pytest

from domain.delivery_kinds import (
    DeliveryRecords,
    InvalidDeliveryKindError,
    UnknownDeliveryKindError,
    delivery_kind,
    delivery_kinds,
    kind_of,
    register_delivery_kind,
)
from domain.ids import ObligationId


@attrs.frozen
class Reading:
    record_id: str
    obligation_id: ObligationId
    occurred_on: date
    units: int


@attrs.frozen
class Stranger:
    record_id: str
    obligation_id: ObligationId
    occurred_on: date


READINGS = register_delivery_kind("test_readings", Reading, "meter readings, for these tests")


def test_a_registered_kind_is_found_by_its_name_and_by_its_records() -> None:
    assert delivery_kind("test_readings") is READINGS
    assert READINGS in delivery_kinds()
    assert kind_of(Reading("r1", ObligationId("OB-1"), date(2026, 3, 1), 4)) is READINGS


def test_registering_the_same_class_again_is_harmless_but_another_class_is_refused() -> None:
    assert register_delivery_kind("test_readings", Reading, "again").record_type is Reading
    with pytest.raises(InvalidDeliveryKindError):
        register_delivery_kind("test_readings", Stranger, "a second class under the same name")


@pytest.mark.parametrize("name", ["", "Usage", "usage-records", "9lives", "a" * 32])
def test_a_kind_name_must_be_usable_as_a_url_segment_and_a_table_suffix(name: str) -> None:
    with pytest.raises(InvalidDeliveryKindError):
        register_delivery_kind(name, Stranger, "badly named")


def test_an_unknown_kind_or_record_class_is_a_clear_error() -> None:
    with pytest.raises(UnknownDeliveryKindError, match="no delivery kind is named 'nope'"):
        delivery_kind("nope")
    with pytest.raises(UnknownDeliveryKindError, match="Stranger"):
        kind_of(Stranger("s1", ObligationId("OB-1"), date(2026, 3, 1)))


def test_records_are_grouped_by_kind_in_date_then_id_order_and_sliced_by_obligation() -> None:
    late = Reading("r2", ObligationId("OB-1"), date(2026, 3, 9), 1)
    early_b = Reading("r3", ObligationId("OB-2"), date(2026, 3, 1), 2)
    early_a = Reading("r1", ObligationId("OB-1"), date(2026, 3, 1), 3)
    records = DeliveryRecords.of([late, early_b, early_a])
    assert records.get(READINGS) == (early_a, early_b, late)
    assert records.for_obligation(ObligationId("OB-1")).get(READINGS) == (early_a, late)
    assert not records.for_obligation(ObligationId("OB-9"))
    assert not DeliveryRecords()
