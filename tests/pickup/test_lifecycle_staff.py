"""Staff actions on pickups (issue 14): ready, collected (the units leave once), reject (the hold released, the
fallback asked, never shipped), each audited and told to the channel; illegal transitions refused naming the
state; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Collection
from datetime import timedelta

import pytest
from pickup_holds_support import SETTINGS, pickup_world
from sync.fake_channel import NOW

from omnibridge.access import audit
from omnibridge.models import LineStatus, Order, OrderStatus
from omnibridge.pickup.expiry import expire_due
from omnibridge.pickup.lifecycle import PickupConflict, PickupError, PickupNotFound
from omnibridge.pickup.staff import PickupService
from omnibridge.routing.model import RoutingDecision
from omnibridge.sdk.channel import FulfilmentEvent, FulfilmentLineEvent
from omnibridge.store.unit_of_work import UnitOfWork


def test_ready_then_collected_takes_the_units_out_of_the_store_once_and_tells_the_channel(store_url: str) -> None:
    with pickup_world(store_url, {("TENT", "nyc"): 3}) as world:
        world.place("1001", ("TENT", 2))
        staff = PickupService(world.store, SETTINGS)
        assert staff.ready("web:1001#1", actor="cli:ana").message("ready") == (
            "pickup web:1001#1 at nyc: reserved -> ready"
        )
        assert [p.id for p in staff.list(at="nyc", status="ready")] == ["web:1001#1"]
        collected = staff.collected("web:1001#1", actor="cli:ana")
        assert collected.change.units == 2
        again = staff.collected("web:1001#1", actor="cli:ana")
        assert not again.change.changed
        assert again.message("collected") == "pickup web:1001#1 is already collected: nothing changed"
        position = world.store.position("TENT", "nyc")
        assert (position.on_hand, position.committed) == (1, 0)
        line = world.store.order_line("web:order:1001:1")
        assert line is not None
        assert (line.status, line.shipped) == (LineStatus.SHIPPED, 2)
        order = world.store.get_order("web:1001")
        assert order is not None
        assert order.status is OrderStatus.FULFILLED
        assert [state for state in (p["state"] for _, p in world.tasks())] == ["collected", "ready", "reserved"]
        entries = audit.records(world.store, action="pickup.")
        assert [(e.action, e.subject, e.after["status"]) for e in entries] == [
            ("pickup.ready", "web:1001#1", "ready"),
            ("pickup.collected", "web:1001#1", "collected"),
        ]
        # collected: nothing left to expire
        world.clock.now = NOW + timedelta(days=3)
        assert expire_due(world.store, SETTINGS).due == []
        assert world.store.verify() == []


class Fallback:
    def __init__(self) -> None:
        self.asked: list[tuple[str, tuple[str, ...]]] = []

    def pickup_fallback(
        self, uow: UnitOfWork, order: Order, rejected: Collection[str], trigger: str
    ) -> RoutingDecision | None:
        self.asked.append((order.id, tuple(sorted(rejected))))
        return None


def test_reject_releases_the_hold_asks_the_fallback_and_never_ships(store_url: str) -> None:
    with pickup_world(store_url, {("TENT", "nyc"): 3, ("TENT", "wh"): 5}) as world:
        world.place("1001", ("TENT", 2))
        fallback = Fallback()
        staff = PickupService(world.store, SETTINGS, fallback)
        result = staff.reject("web:1001#1", "  shelf   empty ", actor="cli:ana")
        assert result.message("reject") == (
            "pickup web:1001#1 at nyc: reserved -> rejected (2 unit(s) released); the pickup fallback found "
            "nothing: the order waits for an operator (a pickup is never turned into a shipment)"
        )
        assert fallback.asked == [("web:1001", ("nyc",))]
        assert world.store.position("TENT", "nyc").committed == 0
        assert world.store.position("TENT", "wh").committed == 0  # not shipped from the warehouse
        line = world.store.order_line("web:order:1001:1")
        assert line is not None
        assert line.status is LineStatus.ON_HOLD
        order = world.store.get_order("web:1001")
        assert order is not None
        assert order.status is OrderStatus.ON_HOLD
        assert world.tasks()[0][1]["state"] == "rejected"
        assert world.tasks()[0][1]["reason"] == "shelf empty"
        (entry,) = audit.records(world.store, action="pickup.reject")
        assert entry.after["reason"] == "shelf empty"
        with pytest.raises(PickupConflict, match="pickup web:1001#1 is rejected: it cannot become collected"):
            staff.collected("web:1001#1", actor="cli:ana")
        assert world.store.verify() == []


def test_unknown_pickups_and_states_are_one_line_errors(store_url: str) -> None:
    with pickup_world(store_url, {("TENT", "nyc"): 3}) as world:
        staff = PickupService(world.store, SETTINGS)
        with pytest.raises(PickupNotFound, match="no pickup 'web:9#1'"):
            staff.ready("web:9#1", actor="cli:ana")
        with pytest.raises(PickupError, match="unknown pickup status 'lost': expected one of reserved, ready"):
            staff.list(status="lost")
        world.place("1001", ("TENT", 1))
        with pytest.raises(PickupError, match="a reason is needed"):
            staff.reject("web:1001#1", " ", actor="cli:ana")


def test_the_channels_fulfilment_of_a_collected_pickup_is_its_echo_and_takes_nothing_twice(store_url: str) -> None:
    """Found by the demo's third act: Shopify records a collected pickup as a fulfillment (no tracking); pulled
    back, it must not ship the line again (it used to book a second sale at the store)."""
    with pickup_world(store_url, {("TENT", "nyc"): 3}) as world:
        world.place("1001", ("TENT", 2))
        PickupService(world.store, SETTINGS).collected("web:1001#1", actor="cli:ana")
        echo = FulfilmentEvent("F-1", "1001", NOW, (FulfilmentLineEvent("1", "TENT", 2),), location_ref="W-NYC")
        outcome = world.applier().apply_all([echo])
        position = world.store.position("TENT", "nyc")
        assert (position.on_hand, position.committed) == (1, 0)
        assert outcome.duplicates == 1
        assert world.store.verify() == []
