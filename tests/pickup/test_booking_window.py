"""Booking uses the pickup decision (issue 14): the pinned store's first window with a free place, counted in the
booking's unit of work so two bookings cannot overfill a window; a store with no window within the horizon books
nothing and parks the order with an incident. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from pickup_holds_support import LOCATIONS, SETTINGS, order, pickup_world
from sync.fake_channel import NOW

from omnibridge.pickup import records
from omnibridge.pickup.rules import PickupRules, StorePickup
from omnibridge.pickup.slot import first_free_window
from omnibridge.sdk.pickup import PickupDetails, PickupState
from omnibridge.store import Store
from omnibridge.store.engine import read_session
from omnibridge.store.tables import INCIDENTS, PickupRow
from omnibridge.sync.apply import EventApplier

ONE_PLACE = replace(SETTINGS, rules=PickupRules(hold_hours=24, defaults=StorePickup(60, 1, 30)))
NYC = LOCATIONS[1]


def _windows(store: Store, *order_ids: str) -> list[tuple[datetime, datetime]]:
    with read_session(store.engine) as session:
        return [(p.window_start, p.window_end) for o in order_ids for p in records.of_order(session, o)]


def test_a_full_window_books_the_next_one_with_a_place(store_url: str) -> None:
    with pickup_world(store_url, {("TENT", "nyc"): 5}) as world:
        applier = EventApplier(world.store, world.web, placer=world.service, pickup=ONE_PLACE)
        details = PickupDetails(location_ref="W-NYC")
        applier.apply_all([order("2001", ("TENT", 1), pickup=details)])
        applier.apply_all([order("2002", ("TENT", 1), pickup=details)])
        first, second = NOW + timedelta(hours=1), NOW + timedelta(hours=2)
        assert _windows(world.store, "web:2001", "web:2002") == [
            (first, first + timedelta(hours=1)),
            (second, second + timedelta(hours=1)),
        ]


def test_a_channel_pickup_at_is_honoured_even_in_a_full_window(store_url: str) -> None:
    with pickup_world(store_url, {("TENT", "nyc"): 5}) as world:
        applier = EventApplier(world.store, world.web, placer=world.service, pickup=ONE_PLACE)
        at = NOW + timedelta(hours=1)
        for ref in ("2011", "2012"):
            applier.apply_all([order(ref, ("TENT", 1), pickup=PickupDetails(location_ref="W-NYC", pickup_at=at))])
        assert [start for start, _ in _windows(world.store, "web:2011", "web:2012")] == [at, at]


def test_a_store_without_a_window_in_the_horizon_books_nothing_and_parks_the_order(store_url: str) -> None:
    today_only = replace(ONE_PLACE, rules=replace(ONE_PLACE.rules, horizon_days=0))
    with pickup_world(store_url, {("TENT", "nyc"): 5}) as world:
        world.clock.now = NOW + timedelta(hours=5)  # 17:00: with 30 min prep, today's last window (17-18) is gone
        applier = EventApplier(world.store, world.web, placer=world.service, pickup=today_only)
        outcome = applier.apply_all([order("2021", ("TENT", 1), pickup=PickupDetails(location_ref="W-NYC"))])
        assert outcome.messages == []
        assert _windows(world.store, "web:2021") == []
        # still held at the store for a person to decide: never shipped from elsewhere
        assert world.store.position("TENT", "nyc").committed == 1
        assert world.store.position("TENT", "wh").committed == 0
        with read_session(world.store.engine) as session:
            rows = session.connection().execute(sa.select(INCIDENTS.c.kind, INCIDENTS.c.decision, INCIDENTS.c.order_id))
            assert [tuple(row) for row in rows] == [("pickup", "no_window", "web:2021")]


def _take(store: Store, pickup_id: str, *, then: threading.Event | None = None) -> datetime:
    """Count and book one place at the New York store in one unit of work; with ``then``, signal it after
    booking and keep the transaction open a moment (a concurrent booking must wait for it)."""
    with store.unit_of_work() as uow:
        window = first_free_window(uow, NYC, ONE_PLACE)
        assert window is not None
        now = uow.now()
        row = PickupRow(id=pickup_id, order_id=pickup_id, channel="web", location_id="nyc",
                        window_start=window.start, window_end=window.end, status=PickupState.RESERVED.value,
                        expires_at=window.end, lines=[], version=1, created_at=now, updated_at=now)  # fmt: skip
        records.insert(uow.session, row)
        if then is not None:
            then.set()
            time.sleep(0.5)
        return window.start


def test_two_concurrent_bookings_do_not_overfill_a_window(store_url: str) -> None:
    with pickup_world(store_url, {("TENT", "nyc"): 5}) as world:
        booked = threading.Event()
        starts: dict[str, datetime] = {}

        def first() -> None:
            starts["a"] = _take(world.store, "a", then=booked)

        thread = threading.Thread(target=first)
        thread.start()
        assert booked.wait(10)
        starts["b"] = _take(world.store, "b")  # counts while "a" is still uncommitted: it must wait for it
        thread.join()
        assert sorted(starts.values()) == [NOW + timedelta(hours=1), NOW + timedelta(hours=2)]


def test_a_store_without_pickup_hours_books_one_window_after_its_prep_time(store_url: str) -> None:
    with pickup_world(store_url, {("TENT", "nyc"): 5}) as world:
        world.store.upsert_location(NYC.model_copy(update={"pickup_hours": {}}))
        applier = EventApplier(world.store, world.web, placer=world.service, pickup=ONE_PLACE)
        applier.apply_all([order("2031", ("TENT", 1), pickup=PickupDetails(location_ref="W-NYC"))])
        ((start, end),) = _windows(world.store, "web:2031")
        assert end - start == timedelta(hours=1)
        assert NOW + timedelta(minutes=30) <= start < NOW + timedelta(minutes=31)
