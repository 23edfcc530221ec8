"""The pickup fallback (issue 14): a pickup its store rejects moves to the next store by distance with the units and
a free window (a new attempt, committed there strictly, the channel told), else it is parked with an incident, or
ships only under ``pickup.ship_if_unavailable``. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from pickup_holds_support import LOCATIONS, SETTINGS, PickupWorld, pickup_world
from sync.fake_channel import NOW, receive

from omnibridge.access import audit
from omnibridge.models import FulfilmentMethod, GeoPoint, LineStatus, Location, LocationCapability, LocationType
from omnibridge.pickup import records
from omnibridge.pickup.fallback import PickupFallbackPlanner
from omnibridge.pickup.rules import PickupRules, StorePickup
from omnibridge.pickup.settings import PickupSettings
from omnibridge.pickup.staff import PickupService
from omnibridge.routing import RoutingRules
from omnibridge.routing.service import RoutingService
from omnibridge.store.engine import read_session
from omnibridge.store.tables import INCIDENTS, PickupRow

DOC = (Path(__file__).resolve().parents[2] / "docs" / "pickup.md").read_text(encoding="utf-8")


def _doc_block(containing: str) -> str:
    """The docs' ``text`` block that shows ``containing`` (the worked example of the fallback)."""
    blocks: list[str] = re.findall(r"```text\n(.*?)```", DOC, flags=re.DOTALL)
    return next(block for block in blocks if containing in block).strip()


BROOKLYN = Location(
    id="bkn",
    name="Brooklyn store",
    type=LocationType.STORE,
    coordinates=GeoPoint(lat=40.68, lon=-73.98),
    capabilities={LocationCapability.PICKUP},
    pickup_hours=LOCATIONS[1].pickup_hours,
)
ALL = (*LOCATIONS, BROOKLYN)


@contextmanager
def world_with_brooklyn(
    store_url: str,
    stock: dict[tuple[str, str], int],
    settings: PickupSettings = SETTINGS,
    *,
    extra: tuple[Location, ...] = (),
) -> Iterator[tuple[PickupWorld, PickupService]]:
    with pickup_world(store_url, {k: v for k, v in stock.items() if k[1] not in {e.id for e in extra}}) as world:
        for location in (BROOKLYN, *extra):
            world.store.upsert_location(location)
        for (sku, location_id), units in stock.items():
            if location_id in {e.id for e in extra}:
                receive(world.store, sku, location_id, units)
        rules = RoutingRules(channels=frozenset({"web"}), timezone="UTC")
        service = RoutingService.from_rules(world.store, (*ALL, *extra), rules)
        service.pickup_planner = PickupFallbackPlanner(settings, rules)
        world.web.location_ids.update({"W-BKN": "bkn"})
        world = replace(world, service=service)
        yield world, PickupService(world.store, settings, service)


def _pickups(world: PickupWorld, order_id: str) -> list[tuple[str, str, str]]:
    with read_session(world.store.engine) as session:
        return [(p.id, p.location_id, p.status) for p in records.of_order(session, order_id)]


def test_a_rejected_pickup_moves_to_the_next_store_with_stock_and_a_window(store_url: str) -> None:
    with world_with_brooklyn(store_url, {("TENT", "nyc"): 2, ("TENT", "bkn"): 3, ("TENT", "wh"): 9}) as (world, staff):
        world.place("3001", ("TENT", 2))
        result = staff.reject("web:3001#1", "shelf empty", actor="cli:ana")
        assert result.message("reject") == _doc_block("web:3001#1 at nyc")
        assert result.fallback == "pickup fallback: booked web:3001#2 at bkn, 2026-11-23 13:00-14:00 UTC"
        assert _pickups(world, "web:3001") == [("web:3001#1", "nyc", "rejected"), ("web:3001#2", "bkn", "reserved")]
        assert world.store.position("TENT", "bkn").committed == 2
        assert world.store.position("TENT", "nyc").committed == 0
        assert world.store.position("TENT", "wh").committed == 0
        line = world.store.order_line("web:order:1001:1".replace("1001", "3001"))
        assert line is not None
        assert (line.status, line.location_id, line.committed) == (LineStatus.OPEN, "bkn", 2)
        order = world.store.get_order("web:3001")
        assert order is not None
        assert (order.fulfilment_method, order.pickup_location_id) == (FulfilmentMethod.PICKUP_IN_STORE, "bkn")
        latest = world.service.decisions("web:3001")[-1]
        assert (latest.outcome, latest.strategy) == ("routed", "pickup_fallback")
        states = {task_id: payload["state"] for task_id, payload in world.tasks()}
        assert states["pickup:web:3001#2:reserved"] == "reserved"
        assert [task for task, _ in world.tasks("assign")]  # the channel is asked to move the lines
        (entry,) = audit.records(world.store, action="pickup.reject")
        assert entry.after["fallback"] == result.fallback
        assert world.store.verify() == []


def test_with_no_other_store_the_order_is_parked_with_an_incident_never_shipped(store_url: str) -> None:
    with world_with_brooklyn(store_url, {("TENT", "nyc"): 2, ("TENT", "wh"): 9}) as (world, staff):
        world.place("3002", ("TENT", 1))
        result = staff.reject("web:3002#1", "damaged", actor="cli:ana")
        assert result.fallback == (
            "pickup fallback: not available for pickup: no other store within 50 km has the units and a free "
            "window; the order waits for an operator (a pickup is never turned into a shipment)"
        )
        assert _pickups(world, "web:3002") == [("web:3002#1", "nyc", "rejected")]
        assert world.store.position("TENT", "wh").committed == 0
        assert world.service.parked()[0].order_id == "web:3002"
        with read_session(world.store.engine) as session:
            rows = session.connection().execute(sa.select(INCIDENTS.c.decision).where(INCIDENTS.c.kind == "pickup"))
            assert list(rows.scalars()) == ["unavailable"]


def test_ship_if_unavailable_makes_it_a_shipment_routed_normally(store_url: str) -> None:
    ships = replace(SETTINGS, rules=replace(SETTINGS.rules, ship_if_unavailable=True))
    with world_with_brooklyn(store_url, {("TENT", "nyc"): 2, ("TENT", "wh"): 9}, ships) as (world, staff):
        world.place("3003", ("TENT", 1))
        result = staff.reject("web:3003#1", "damaged", actor="cli:ana")
        assert result.fallback == "pickup fallback: shipped instead from wh (pickup.ship_if_unavailable)"
        order = world.store.get_order("web:3003")
        assert order is not None
        assert (order.fulfilment_method, order.pickup_location_id) == (FulfilmentMethod.SHIP, None)
        assert world.store.position("TENT", "wh").committed == 1
        assert world.store.position("TENT", "nyc").committed == 0
        assert _pickups(world, "web:3003") == [("web:3003#1", "nyc", "rejected")]
        assert world.service.decisions("web:3003")[-1].outcome == "routed"


def test_a_store_without_enough_stock_is_passed_over(store_url: str) -> None:
    with world_with_brooklyn(store_url, {("TENT", "nyc"): 2, ("TENT", "bkn"): 1}) as (world, staff):
        world.place("3004", ("TENT", 2))
        staff.reject("web:3004#1", "shelf empty", actor="cli:ana")
        assert _pickups(world, "web:3004") == [("web:3004#1", "nyc", "rejected")]
        assert world.store.position("TENT", "bkn").committed == 0


def test_a_store_whose_windows_are_full_is_passed_over_for_the_next_one(store_url: str) -> None:
    jersey = BROOKLYN.model_copy(
        update={"id": "jc", "name": "Jersey City store", "coordinates": GeoPoint(lat=40.72, lon=-74.07)}
    )
    today = replace(SETTINGS, rules=PickupRules(hold_hours=24, horizon_days=0, defaults=StorePickup(60, 1, 30)))
    stock = {("TENT", "nyc"): 2, ("TENT", "bkn"): 3, ("TENT", "jc"): 3}
    with world_with_brooklyn(store_url, stock, today, extra=(jersey,)) as (world, staff):
        world.place("3005", ("TENT", 1))
        with world.store.unit_of_work() as uow:  # every window Brooklyn has left today is taken
            for hour in range(13, 18):
                start = NOW.replace(hour=hour)
                records.insert(uow.session, PickupRow(
                    id=f"other:{hour}#1", order_id=f"other:{hour}", channel="web", location_id="bkn",
                    window_start=start, window_end=start + timedelta(hours=1), status="reserved",
                    expires_at=start + timedelta(hours=2), lines=[], version=1, created_at=NOW, updated_at=NOW,
                ))  # fmt: skip
        result = staff.reject("web:3005#1", "shelf empty", actor="cli:ana")
        assert result.fallback is not None
        assert "booked web:3005#2 at jc" in result.fallback
        assert world.store.position("TENT", "jc").committed == 1
        assert world.store.position("TENT", "bkn").committed == 0
