"""Square PICKUP fulfillments mapped to OrderEvent.pickup and PickupEvent (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.square import mapper, pickups
from omnibridge.sdk.pickup import PickupState

PICKUP_AT = "2026-03-03T16:00:00Z"


def order(state: str = "PROPOSED", **details: Any) -> dict[str, Any]:
    pickup_details = {
        "recipient": {"display_name": "Jaiden Urie"},
        "schedule_type": "SCHEDULED",
        "pickup_at": PICKUP_AT,
        "pickup_window_duration": "PT30M",
        "prep_time_duration": "PT1H",
        "expires_at": "2026-03-05T16:00:00Z",
        **details,
    }
    return {
        "id": "ORDER1",
        "location_id": "LOC1",
        "state": "OPEN",
        "version": 2,
        "created_at": "2026-03-02T15:00:00Z",
        "updated_at": "2026-03-02T15:30:00Z",
        "line_items": [{"uid": "L1", "quantity": "2", "catalog_object_id": "VAR1"}],
        "fulfillments": [{"uid": "F1", "type": "PICKUP", "state": state, "pickup_details": pickup_details}],
    }


def test_an_order_to_collect_carries_its_store_window_and_expiry() -> None:
    event = mapper.map_order(order(), {"VAR1": "TEE"}).value
    assert event is not None
    assert event.pickup is not None
    pickup = event.pickup
    assert pickup.location_ref == "LOC1"
    assert pickup.pickup_at == datetime(2026, 3, 3, 16, tzinfo=UTC)
    assert pickup.window_minutes == 30
    assert pickup.expires_at == datetime(2026, 3, 5, 16, tzinfo=UTC)
    assert (pickup.curbside, pickup.state) == (False, PickupState.RESERVED)
    assert event.ship_to is None


def test_an_order_to_ship_has_no_pickup() -> None:
    raw = order()
    raw["fulfillments"][0] = {"uid": "F1", "type": "SHIPMENT", "state": "PROPOSED", "shipment_details": {}}
    event = mapper.map_order(raw, {}).value
    assert event is not None
    assert event.pickup is None


@pytest.mark.parametrize(
    ("square", "expected"),
    [
        ("PROPOSED", PickupState.RESERVED),
        ("RESERVED", PickupState.RESERVED),
        ("PREPARED", PickupState.READY),
        ("COMPLETED", PickupState.COLLECTED),
        ("CANCELED", PickupState.CANCELLED),
        ("FAILED", PickupState.REJECTED),
    ],
)
def test_square_states_map_to_pickup_states(square: str, expected: PickupState) -> None:
    raw = order(square)
    assert pickups.state_of(raw["fulfillments"][0]) is expected
    details = pickups.pickup_details(raw)
    assert details is not None
    assert details.state is expected


def test_a_canceled_pickup_square_let_expire_is_expired() -> None:
    raw = order("CANCELED", expired_at="2026-03-05T16:00:00Z", canceled_at="2026-03-05T16:00:00Z")
    (event,) = pickups.pickup_events(raw)
    assert (event.state, event.occurred_at) == (PickupState.EXPIRED, datetime(2026, 3, 5, 16, tzinfo=UTC))
    assert event.ref == "ORDER1:F1:expired"


def test_a_curbside_buyer_who_arrived_is_arrived_with_their_note() -> None:
    arrived = {"curbside_details": "Blue van, plate K-123", "buyer_arrived_at": "2026-03-03T16:05:00Z"}
    raw = order("PREPARED", is_curbside_pickup=True, curbside_pickup_details=arrived)
    details = pickups.pickup_details(raw)
    assert details is not None
    assert (details.curbside, details.state) == (True, PickupState.ARRIVED)
    (event,) = pickups.pickup_events(raw)
    assert (event.state, event.curbside, event.note) == (PickupState.ARRIVED, True, "Blue van, plate K-123")
    assert event.occurred_at == datetime(2026, 3, 3, 16, 5, tzinfo=UTC)
    assert (event.ref, event.order_ref, event.location_ref) == ("ORDER1:F1:arrived", "ORDER1", "LOC1")


def test_a_reservation_is_no_pickup_event_and_later_states_are_one_each() -> None:
    assert pickups.pickup_events(order("PROPOSED")) == []
    assert pickups.pickup_events(order("RESERVED")) == []
    (ready,) = pickups.pickup_events(order("PREPARED", ready_at="2026-03-03T15:50:00Z"))
    assert (ready.ref, ready.state, ready.occurred_at) == (
        "ORDER1:F1:ready",
        PickupState.READY,
        datetime(2026, 3, 3, 15, 50, tzinfo=UTC),
    )
    (cancelled,) = pickups.pickup_events(order("CANCELED", cancel_reason="Customer called"))
    assert (cancelled.state, cancelled.reason) == (PickupState.CANCELLED, "Customer called")
    assert cancelled.occurred_at == datetime(2026, 3, 2, 15, 30, tzinfo=UTC)  # no stamp: the order's updated_at


@pytest.mark.parametrize(
    ("raw", "minutes"),
    [("PT30M", 30), ("PT1H30M", 90), ("P1D", 1440), ("PT45S", 0), ("P", None), ("30 minutes", None), (None, None)],
)
def test_durations(raw: Any, minutes: int | None) -> None:
    parsed = pickups.parse_duration(raw)
    assert (None if parsed is None else int(parsed / timedelta(minutes=1))) == minutes


def test_formatted_durations_read_back() -> None:
    for minutes in (0, 15, 60, 95, 24 * 60):
        assert pickups.parse_duration(pickups.format_duration(minutes)) == timedelta(minutes=minutes)


def test_an_asap_pickup_is_due_after_its_prep_time() -> None:
    raw = order(schedule_type="ASAP", pickup_at=None, placed_at="2026-03-02T15:00:00Z", prep_time_duration="PT20M")
    details = pickups.pickup_details(raw)
    assert details is not None
    assert details.pickup_at == datetime(2026, 3, 2, 15, 20, tzinfo=UTC)
