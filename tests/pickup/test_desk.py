"""The pickup decision over the store, on SQLite and PostgreSQL: stock after the brokering safety stock (the
router's figure), places taken by live pickups only, an unknown SKU refused, and the profile's pickup rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from pickup_support import CUSTOMER, LOCATIONS, MONDAY_0900
from support import WriteFile
from sync.fake_channel import receive

from omnibridge.config import load_profile
from omnibridge.models import Product, Variant
from omnibridge.pickup.capacity import booked
from omnibridge.pickup.desk import PickupDesk, UnknownSkuError
from omnibridge.pickup.rules import PickupRules, StorePickup
from omnibridge.routing import LocationRules, RoutingRules
from omnibridge.store import Store
from omnibridge.store.engine import read_session
from omnibridge.store.tables import PICKUPS

TEN = datetime(2026, 12, 7, 15, tzinfo=UTC)
RULES = PickupRules(radius_km=50, horizon_days=1, defaults=StorePickup(60, 2, 30))


def desk(store: Store, routing: RoutingRules | None = None) -> PickupDesk:
    store.upsert_product(Product(id="P", title="Tent", variants=[Variant(sku="TENT", product_id="P")]))
    return PickupDesk(store, LOCATIONS, routing or RoutingRules(timezone="America/New_York"), RULES)


def book(store: Store, location_id: str, start: datetime, status: str, n: int = 1) -> None:
    rows: list[dict[str, object]] = [
        {"id": f"{location_id}:{start:%d%H}:{status}:{i}#1", "order_id": f"o{i}", "channel": "web", "attempt": 1,
         "location_id": location_id, "window_start": start, "window_end": start + timedelta(hours=1),
         "curbside": False, "status": status, "expires_at": start + timedelta(days=1), "lines": [], "reason": None,
         "version": 1, "created_at": MONDAY_0900, "updated_at": MONDAY_0900}
        for i in range(n)
    ]  # fmt: skip
    with store.engine.begin() as conn:
        conn.execute(sa.insert(PICKUPS), rows)


def test_stock_is_what_routing_may_take_after_the_brokering_safety_stock(store: Store) -> None:
    routing = RoutingRules(timezone="America/New_York", locations={"soho": LocationRules(safety_stock=2)})
    counter = desk(store, routing)
    receive(store, "TENT", "soho", 3)
    receive(store, "TENT", "bk", 2)
    found = counter.options("TENT", 2, CUSTOMER, now=MONDAY_0900)
    assert [(o.location_id, o.available) for o in found.stores] == [("bk", 2)]
    [soho] = [left for left in found.left_out if left.location_id == "soho"]
    assert soho.reason == "no stock: 1 available after safety stock 2, 2 asked"
    assert found.fallback == "next_store"


def test_only_live_pickups_take_a_place_in_their_window(store: Store) -> None:
    counter = desk(store)
    receive(store, "TENT", "soho", 5)
    for status in ("collected", "cancelled", "expired", "rejected"):
        book(store, "soho", TEN, status, 2)
    book(store, "bk", TEN, "reserved", 2)
    book(store, "soho", TEN + timedelta(hours=1), "reserved", 2)
    first = counter.options("TENT", 1, CUSTOMER, now=MONDAY_0900).stores[0]
    assert (first.window.start, first.free, first.step) == (TEN, 2, "first_window")
    book(store, "soho", TEN, "reserved")
    book(store, "soho", TEN, "ready")
    found = counter.options("TENT", 1, CUSTOMER, now=MONDAY_0900)
    assert (found.stores[0].window.start, found.fallback) == (TEN + timedelta(days=1), "later_day")
    book(store, "soho", TEN + timedelta(days=1), "arrived", 2)
    assert counter.options("TENT", 1, CUSTOMER, now=MONDAY_0900).stores[0].window.start == TEN + timedelta(
        days=1, hours=1
    )


def test_booked_counts_every_store_in_one_query_within_the_range(store: Store) -> None:
    book(store, "soho", TEN, "reserved", 3)
    book(store, "bk", TEN, "ready")
    book(store, "bk", TEN + timedelta(days=5), "reserved")
    book(store, "nwk", TEN, "reserved")
    with read_session(store.engine) as session:
        found = booked(session, ["soho", "bk"], TEN - timedelta(hours=1), TEN + timedelta(days=2))
    assert found == {("soho", TEN): 3, ("bk", TEN): 1}


def test_an_unknown_sku_is_refused(store: Store) -> None:
    with pytest.raises(UnknownSkuError, match="unknown SKU 'NOPE'"):
        desk(store).options("NOPE", 1, CUSTOMER, now=MONDAY_0900)


def test_the_profile_carries_the_pickup_rules_with_each_stores_own_windows_and_time_zone(write: WriteFile) -> None:
    loaded = load_profile(
        write(
            "omnibridge.yaml",
            """
            version: 1
            merchant: {name: M, currency: USD, timezone: America/New_York}
            pickup: {window_minutes: 45, capacity_per_window: 3, prep_minutes: 10, radius_km: 20, horizon_days: 4,
                     ship_if_unavailable: true}
            locations:
              - id: a
                name: A
                type: store
                capabilities: [pickup]
                pickup_hours: {mon: "10:00-12:00"}
                timezone: Europe/Berlin
                pickup: {capacity_per_window: 1}
              - {id: b, name: B, type: store, capabilities: [pickup], pickup_hours: {mon: "10:00-12:00"}}
            """,
        ),
        env={},
    )
    rules = loaded.pickup
    assert (rules.radius_km, rules.horizon_days, rules.ship_if_unavailable) == (20, 4, True)
    assert rules.store("a") == StorePickup(window_minutes=45, capacity_per_window=1, prep_minutes=10)
    assert rules.store("b") == StorePickup(window_minutes=45, capacity_per_window=3, prep_minutes=10)
    assert loaded.routing.location("a").timezone == "Europe/Berlin"


def test_a_stores_own_time_zone_reads_its_hours(store: Store) -> None:
    routing = RoutingRules(timezone="America/New_York", locations={"soho": LocationRules(timezone="Europe/London")})
    counter = desk(store, routing)
    receive(store, "TENT", "soho", 5)
    found = counter.options("TENT", 1, CUSTOMER, now=MONDAY_0900 - timedelta(hours=5))  # 09:00 in London
    assert found.stores[0].window.start == datetime(2026, 12, 7, 10, tzinfo=UTC)
    assert found.stores[0].timezone == "Europe/London"
