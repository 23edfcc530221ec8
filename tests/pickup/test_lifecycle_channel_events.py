"""Pickup events from channels (issue 14): a curbside arrival is recorded with a 'customer waiting' notice;
ready, collected and cancelled apply the staff transitions once; a repeat or the echo of omnibridge's own update
changes nothing; on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import structlog
from pickup_holds_support import SETTINGS, order, pickup_world
from sync.fake_channel import NOW

from omnibridge.models import LineStatus
from omnibridge.pickup.expiry import expire_due
from omnibridge.pickup.staff import PickupService
from omnibridge.sdk.channel import OrderEventKind
from omnibridge.sdk.pickup import PickupDetails, PickupEvent, PickupState


def event(ref: str, state: PickupState, order_ref: str = "1001") -> PickupEvent:
    return PickupEvent(ref, order_ref, state, NOW + timedelta(minutes=5), location_ref="W-NYC", curbside=True)


def test_a_curbside_arrival_is_recorded_with_a_customer_waiting_notice(store_url: str) -> None:
    with pickup_world(store_url, {("TENT", "nyc"): 3}) as world:
        world.place("1001", ("TENT", 1), pickup=PickupDetails(location_ref="W-NYC", curbside=True))
        with structlog.testing.capture_logs() as logs:
            outcome = world.applier().apply_all([event("f1:arrived", PickupState.ARRIVED)])
        assert outcome.messages == []
        (pickup,) = PickupService(world.store, SETTINGS).list(status="arrived")
        assert pickup.id == "web:1001#1"
        waiting = [entry for entry in logs if entry["event"] == "pickup.customer_waiting"]
        assert [(entry["log_level"], entry["pickup"]) for entry in waiting] == [("warning", "web:1001#1")]
        # no task back: the channel told us
        assert [task for task, _ in world.tasks()] == ["pickup:web:1001#1:reserved"]


def test_collected_on_the_channel_applies_once_and_a_late_ready_changes_nothing(store_url: str) -> None:
    with pickup_world(store_url, {("TENT", "nyc"): 3}) as world:
        world.place("1001", ("TENT", 2))
        applier = world.applier()
        applier.apply_all([event("f1:ready", PickupState.READY)])
        first = applier.apply_all([event("f1:completed", PickupState.COLLECTED)])
        assert first.applied == 1
        repeat = applier.apply_all([event("f1:completed", PickupState.COLLECTED)])
        late = applier.apply_all([event("f1:ready", PickupState.READY)])
        assert (repeat.applied, late.applied) == (0, 0)
        assert late.duplicates == 1
        position = world.store.position("TENT", "nyc")
        assert (position.on_hand, position.committed) == (1, 0)
        assert world.store.verify() == []


def test_the_echo_of_our_own_ready_changes_nothing(store_url: str) -> None:
    with pickup_world(store_url, {("TENT", "nyc"): 3}) as world:
        world.place("1001", ("TENT", 1))
        PickupService(world.store, SETTINGS).ready("web:1001#1", actor="cli:ana")
        echo = world.applier().apply_all([event("f1:prepared", PickupState.READY)])
        assert (echo.applied, echo.duplicates, echo.messages) == (0, 1, [])


def test_cancelled_on_the_channel_releases_the_hold_without_telling_it_back(store_url: str) -> None:
    with pickup_world(store_url, {("TENT", "nyc"): 3}) as world:
        world.place("1001", ("TENT", 2))
        outcome = world.applier().apply_all([event("f1:canceled", PickupState.CANCELLED)])
        assert outcome.applied == 1
        assert world.store.position("TENT", "nyc").committed == 0
        assert world.movement_keys(":cancel") == ["web:order:1001:1:v2:cancel"]
        line = world.store.order_line("web:order:1001:1")
        assert line is not None
        assert line.status is LineStatus.CANCELLED
        assert [task for task, _ in world.tasks()] == ["pickup:web:1001#1:reserved"]


def test_an_event_for_an_order_without_a_pickup_is_a_message(store_url: str) -> None:
    with pickup_world(store_url, {("TENT", "nyc"): 3}) as world:
        outcome = world.applier().apply_all([event("x", PickupState.READY, order_ref="404")])
        assert outcome.messages == ["web: pickup event x: order 404 has no pickup"]


def test_an_order_the_channel_cancels_takes_its_pickup_along_and_never_expires(store_url: str) -> None:
    with pickup_world(store_url, {("TENT", "nyc"): 3}) as world:
        world.place("1001", ("TENT", 2))
        cancelled = replace(order("1001", ("TENT", 2)), kind=OrderEventKind.CANCELLED, occurred_at=NOW + timedelta(1))
        world.applier().apply_all([cancelled])
        assert world.store.position("TENT", "nyc").committed == 0
        assert [p.id for p in PickupService(world.store, SETTINGS).list(status="cancelled")] == ["web:1001#1"]
        world.clock.now = NOW + timedelta(days=3)
        assert expire_due(world.store, SETTINGS).due == []
        assert world.store.verify() == []
