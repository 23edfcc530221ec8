"""The pickup scenes of the demo's third act (:mod:`omnibridge.demo.collect_day`), all through the real services.

1. ``pickup``: a customer near Boulder asks for pickup options (the decision); a web (Shopify) pickup order for the
   nearest store's first window is pulled by the engine and booked there, its units held; staff mark it ready
   (Shopify: ``fulfillmentOrderLineItemsPreparedForPickup``) and collected (a Shopify fulfillment; the units leave
   the store in the ledger);
2. ``pickup_expired``: a pickup nobody collects: the ledger's clock is moved past its expiry and the expiry job
   (:func:`~omnibridge.pickup.expiry.expire_due`) releases it, with an incident; Shopify is told (order cancelled);
3. ``curbside``: a curbside pickup on Square: the customer's arrival at the till reaches omnibridge as ARRIVED
   (Square fires no webhook for it: the engine's pull reads it back); staff hand it over; Square shows COMPLETED.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from omnibridge.access.actors import Actor
from omnibridge.demo.collect_world import CollectWorld
from omnibridge.demo.script import EventRecord
from omnibridge.demo.settings import POS, WEB
from omnibridge.models import GeoPoint, Order
from omnibridge.pickup.expiry import expire_due
from omnibridge.store.engine import read_session
from omnibridge.store.routing_records import tasks_of_order
from omnibridge.store.tables import PickupRow

__all__ = ["STAFF", "curbside", "pickup", "pickup_expired", "position", "tasks"]

STAFF = Actor.system("demo-staff")
BOULDER_CUSTOMER = GeoPoint(lat=39.9997, lon=-105.2585)
"""A customer in south Boulder (2400 Baseline Rd)."""


def position(world: CollectWorld, sku: str, location_id: str) -> dict[str, int]:
    p = world.store.position(sku, location_id)
    return {"on_hand": p.on_hand, "committed": p.committed, "available": p.available}


async def tasks(world: CollectWorld, order_id: str) -> list[dict[str, Any]]:
    """One pass of the dispatcher (the daemon's ``fulfilment`` job); the order's tasks as they stand."""
    await world.dispatcher.run_once()
    with read_session(world.store.engine) as session:
        found = tasks_of_order(session, order_id)
    return [{"id": t["id"], "kind": t["kind"], "status": t["status"]} for t in found]


def _pickup_of(world: CollectWorld, order_id: str) -> PickupRow | None:
    return next((p for p in world.staff.list() if p.order_id == order_id), None)


async def _pulled(world: CollectWorld, channel: str, ref: str) -> Order:
    await world.engine.pull(world.engine.channels[channel])
    order = world.store.find_order(channel, ref)
    assert order is not None, f"the {channel} order {ref} did not reach the ledger"
    return order


def _shopify_order(world: CollectWorld, order: Order) -> Any:
    return world.shopify.state.order(int(order.external_id.rsplit("/", 1)[1]))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def pickup(world: CollectWorld) -> EventRecord:
    sku = "TENT-2P-GRN"
    record = EventRecord("pickup", WEB, f"a customer near Boulder asks for pickup of 1 x {sku}, orders it on the web")
    started = time.perf_counter()
    options = world.desk.options(sku, 1, BOULDER_CUSTOMER)
    answer = options.to_json()
    if not options.stores:
        record.outcome = f"NOT offered: {options.message}"
        record.detail.update(ok=False, options=answer)
        return record
    first = options.stores[0]
    store_id = first.location_id
    before = position(world, sku, store_id)
    payload = world.shopify.place_order([(sku, 1)], world.shopify_location[store_id], pickup=True)
    order = await _pulled(world, WEB, payload["admin_graphql_api_id"])
    booked = _pickup_of(world, order.id)
    if booked is None:
        record.outcome = "NOT booked: the pickup order has no pickup"
        record.detail.update(ok=False, options=answer)
        return record
    held = position(world, sku, store_id)
    ready = world.staff.ready(booked.id, actor=STAFF)
    ready_tasks = await tasks(world, order.id)
    prepared = any(fo.prepared for fo in _shopify_order(world, order).fulfillment_orders)
    collected = world.staff.collected(booked.id, actor=STAFF)
    done_tasks = await tasks(world, order.id)
    after = position(world, sku, store_id)
    record.ms_until_all_channels = (time.perf_counter() - started) * 1000
    fulfillments = len(_shopify_order(world, order).fulfillments)
    same_window = _aware(booked.window_start) == first.window.start
    ok = (
        store_id == "boulder"
        and same_window
        and held["committed"] == before["committed"] + 1
        and prepared
        and fulfillments == 1
        and after["on_hand"] == before["on_hand"] - 1
        and after["committed"] == before["committed"]
        and all(t["status"] == "done" for t in done_tasks)
    )
    record.outcome = (
        f"booked at {store_id} {first.to_json()['local_window']}, made ready, collected"
        if ok
        else f"NOT as expected: booked {booked.id} at {booked.location_id}, prepared {prepared}, "
        f"{fulfillments} fulfillment(s)"
    )
    record.detail.update(
        ok=ok,
        order_id=order.id,
        pickup_id=booked.id,
        options=answer,
        booked_at=booked.location_id,
        booked_window=first.to_json()["local_window"],
        same_window_as_offered=same_window,
        position={"before": before, "held": held, "collected": after},
        ready=ready.change.pickup.status,
        collected=collected.change.pickup.status,
        shopify_prepared_for_pickup=prepared,
        shopify_fulfillments=fulfillments,
        tasks=ready_tasks + [t for t in done_tasks if t not in ready_tasks],
    )
    return record


async def pickup_expired(world: CollectWorld) -> EventRecord:
    sku, store_id = "STOVE-SOLO", "golden"
    record = EventRecord(
        "pickup_expired", WEB, f"a web pickup of 1 x {sku} at {store_id} is never collected; its hold expires"
    )
    before = position(world, sku, store_id)
    payload = world.shopify.place_order([(sku, 1)], world.shopify_location[store_id], pickup=True)
    order = await _pulled(world, WEB, payload["admin_graphql_api_id"])
    booked = _pickup_of(world, order.id)
    if booked is None:
        record.outcome = "NOT booked: the pickup order has no pickup"
        return record
    held = position(world, sku, store_id)
    await tasks(world, order.id)
    started = time.perf_counter()
    expires_at = _aware(booked.expires_at)
    # The act does not wait a day: the ledger's clock (the store's clock injection the tests use) moves to one
    # minute past the hold's expiry, the expiry job and the dispatcher run then, and the clock goes back to the
    # wall clock.
    moved = expires_at - world.clock() + timedelta(minutes=1)
    world.clock.offset += moved
    try:
        report = expire_due(world.store, world.pickup)
        channel_tasks = await tasks(world, order.id)
    finally:
        world.clock.offset -= moved
    record.ms_until_all_channels = (time.perf_counter() - started) * 1000
    after = position(world, sku, store_id)
    incidents = world.store.incidents(kind="pickup", order_id=order.id)
    cancelled = _shopify_order(world, order).cancelled_at is not None
    told = [t for t in channel_tasks if t["kind"] == "pickup" and t["id"].endswith(":expired")]
    ok = (
        report.released.get(booked.id) == 1
        and held["available"] == before["available"] - 1
        and after == before
        and len(incidents) == 1
        and cancelled
        and all(t["status"] == "done" for t in told)
        and bool(told)
    )
    record.outcome = (
        "released by the expiry job, an incident recorded, the order cancelled on Shopify"
        if ok
        else f"NOT released as expected: {report.released}, incidents {len(incidents)}, cancelled {cancelled}"
    )
    record.detail.update(
        ok=ok,
        order_id=order.id,
        pickup_id=booked.id,
        expires_at=_iso(expires_at),
        clock_moved_hours=round(moved.total_seconds() / 3600, 1),
        released=report.released,
        position={"before": before, "held": held, "after": after},
        incidents=[f"{i.kind} {i.decision}: {i.summary}" for i in incidents],
        shopify_cancelled=cancelled,
        tasks=channel_tasks,
    )
    return record


def _square_state(world: CollectWorld, square_order_id: str) -> str | None:
    order = world.square.state.orders[square_order_id]
    states = [f.get("state") for f in order.get("fulfillments", []) if f.get("type") == "PICKUP"]
    return states[0] if states else None


async def curbside(world: CollectWorld) -> EventRecord:
    sku, store_id = "JKT-RAIN-M", "boulder"
    record = EventRecord("curbside", POS, f"a curbside pickup of 1 x {sku} at {store_id}, ordered on Square")
    before = position(world, sku, store_id)
    options = world.desk.options(sku, 1, BOULDER_CUSTOMER, curbside=True)
    offer = next((s for s in options.stores if s.location_id == store_id), None)
    if offer is None:
        record.outcome = f"NOT offered curbside at {store_id}: {options.message}"
        return record
    placed = world.square.pickup_order(
        world.square_location[store_id],
        [(sku, 1)],
        {"display_name": "Sam Rivera", "phone_number": "+13035550142"},
        pickup_at=_iso(offer.window.start),
        schedule_type="SCHEDULED",
        is_curbside_pickup=True,
        curbside_pickup_details={"curbside_details": "green Subaru, bay 2"},
    )
    square_id = str(placed["id"])
    order = await _pulled(world, POS, square_id)
    booked = _pickup_of(world, order.id)
    if booked is None:
        record.outcome = "NOT booked: the Square pickup order has no pickup"
        return record
    await tasks(world, order.id)
    started = time.perf_counter()
    world.square.till_pickup(square_id, arrived=True)  # the customer taps "I'm here" in Square's app
    await world.engine.pull(world.engine.channels[POS])
    arrived = _pickup_of(world, order.id)
    handed = world.staff.collected(booked.id, actor=STAFF)
    channel_tasks = await tasks(world, order.id)
    record.ms_until_all_channels = (time.perf_counter() - started) * 1000
    after = position(world, sku, store_id)
    square_state = _square_state(world, square_id)
    arrived_status = arrived.status if arrived else None
    ok = (
        arrived_status == "arrived"
        and square_state == "COMPLETED"
        and after["on_hand"] == before["on_hand"] - 1
        and after["committed"] == before["committed"]
    )
    record.outcome = (
        "the arrival reached omnibridge, handed over, COMPLETED on Square"
        if ok
        else f"NOT as expected: {arrived_status} in omnibridge, Square {square_state}"
    )
    record.detail.update(
        ok=ok,
        order_id=order.id,
        pickup_id=booked.id,
        curbside=booked.curbside,
        window=offer.to_json()["local_window"],
        status_after_arrival=arrived_status,
        status_after_handover=handed.change.pickup.status,
        square_fulfillment_state=square_state,
        position={"before": before, "after": after},
        tasks=channel_tasks,
    )
    return record
