"""Booking a pickup (issue 14): a channel pickup order is pinned at its store, its units held there with an
expiry, and its channel told; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from pickup_holds_support import SETTINGS, order, pickup_world
from sync.fake_channel import NOW

from omnibridge.models import FulfilmentMethod
from omnibridge.pickup import records
from omnibridge.sdk.pickup import PickupDetails, PickupState
from omnibridge.store.engine import read_session


def test_a_pickup_order_is_pinned_at_its_store_and_held_for_the_next_window_plus_the_hold(store_url: str) -> None:
    with pickup_world(store_url, {("TENT", "wh"): 5, ("TENT", "nyc"): 2}) as world:
        outcome = world.place("1001", ("TENT", 2))
        assert outcome.messages == []
        order = world.store.get_order("web:1001")
        assert order is not None
        assert (order.fulfilment_method, order.pickup_location_id) == (FulfilmentMethod.PICKUP_IN_STORE, "nyc")
        # routing pinned it: committed at the store, not at the nearer-to-ship warehouse
        assert world.store.position("TENT", "nyc").committed == 2
        assert world.store.position("TENT", "wh").committed == 0
        with read_session(world.store.engine) as session:
            (pickup,) = records.of_order(session, "web:1001")
        assert pickup.id == "web:1001#1"
        assert pickup.status == PickupState.RESERVED
        # 12:00 + 30 min prep: the store's 13:00-14:00 window; held 24 hours after it ends
        assert (pickup.window_start, pickup.window_end) == (NOW + timedelta(hours=1), NOW + timedelta(hours=2))
        assert pickup.expires_at == NOW + timedelta(hours=26)
        assert [(line["line_id"], line["quantity"]) for line in pickup.lines] == [("web:order:1001:1", 2)]
        ((task_id, payload),) = world.tasks()
        assert task_id == "pickup:web:1001#1:reserved"
        assert payload["state"] == "reserved"
        assert payload["order_ref"] == "1001"


def test_a_channel_window_is_booked_and_its_earlier_expiry_wins(store_url: str) -> None:
    at = NOW + timedelta(days=1)
    details = PickupDetails(
        location_ref="W-NYC", pickup_at=at, window_minutes=15, curbside=True, expires_at=at + timedelta(hours=2)
    )
    with pickup_world(store_url, {("TENT", "nyc"): 2}) as world:
        world.place("1002", ("TENT", 1), pickup=details)
        order = world.store.get_order("web:1002")
        assert order is not None
        assert order.fulfilment_method is FulfilmentMethod.CURBSIDE
        with read_session(world.store.engine) as session:
            (pickup,) = records.of_order(session, "web:1002")
        assert (pickup.window_start, pickup.window_end) == (at, at + timedelta(minutes=15))
        assert pickup.curbside
        assert pickup.expires_at == at + timedelta(hours=2)  # Square's expires_at, before window end + 24 h


def test_an_order_placed_twice_books_one_pickup(store_url: str) -> None:
    with pickup_world(store_url, {("TENT", "nyc"): 4}) as world:
        world.place("1003", ("TENT", 1))
        world.place("1003", ("TENT", 1))
        with read_session(world.store.engine) as session:
            assert [p.id for p in records.of_order(session, "web:1003")] == ["web:1003#1"]
        assert world.store.position("TENT", "nyc").committed == 1


def test_a_shipped_order_books_no_pickup(store_url: str) -> None:
    with pickup_world(store_url, {("TENT", "wh"): 4}) as world:
        world.applier().apply_all([order("1004", ("TENT", 1), at="W-WH")])
        shipped = world.store.get_order("web:1004")
        assert shipped is not None
        assert shipped.fulfilment_method is FulfilmentMethod.SHIP
        with read_session(world.store.engine) as session:
            assert records.of_order(session, "web:1004") == []
        assert SETTINGS.hold == timedelta(hours=24)
