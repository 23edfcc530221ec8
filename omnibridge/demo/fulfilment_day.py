"""The demo's second act: a day of order fulfilment, in its own world (:mod:`omnibridge.demo.fulfilment_world`).

Six scenes, each an :class:`~omnibridge.demo.script.EventRecord` with its figures:

1. ``nearest_store``: a web order to a Boulder address (Shopify's geocoded latitude/longitude) is routed to the
   nearest store holding every line, reserved there, and its Shopify fulfillment order moved there;
2. ``split``: an order whose lines no single location holds ships in two packages, both over the value threshold;
3. ``dropship``: a supplier-only SKU becomes a purchase-order file; the supplier acknowledges and ships; the order
   is shipped in the ledger and confirmed on Shopify with the supplier's tracking number;
4. ``three_pl``: an order for stock only ShipBob holds becomes a ShipBob order (``reference_id``); ShipBob ships;
   confirmed on Shopify with ShipBob's tracking;
5. ``store_reject``: the store an order was routed to rejects it; it is re-routed and its reservation moves;
6. ``labels``: labels bought with EasyPost for a routed web order and an Amazon order, confirmed on Shopify
   (``fulfillmentCreate``) and on Amazon (``confirmShipment``; the order is Shipped).

The act ends with the ledger's consistency check and a check of every request the emulators received against
the vendors' official specs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from connectors.files.client import drop_file
from connectors.shopify.emulator.state import ShippingAddress
from omnibridge.demo.fulfilment_report import INDENT, act_ok, describe
from omnibridge.demo.fulfilment_steps import pull, run_tasks, units_shipped
from omnibridge.demo.fulfilment_validation import validate_traffic
from omnibridge.demo.fulfilment_world import (
    SHIPBOB_LOCATION,
    SUPPLIER,
    SUPPLIER_CODE,
    SUPPLIER_LOCATION,
    SUPPLIER_STOCK,
    THREE_PL,
    VALUE_THRESHOLD,
    FulfilmentWorld,
    fulfilment_world,
)
from omnibridge.demo.scenes import PARCEL
from omnibridge.demo.script import EventRecord
from omnibridge.demo.settings import WEB
from omnibridge.demo.vendors import AMAZON, PARCELS
from omnibridge.errors import OmnibridgeError
from omnibridge.models import Order, ShipmentLine

__all__ = ["play_fulfilment", "run_fulfilment_day"]

Emit = Callable[[str], None]


def _address(city: str, street: str, postal: str, lat: float, lon: float, region: str = "CO") -> ShippingAddress:
    return ShippingAddress(
        first_name="Sam",
        last_name="Rivera",
        address1=street,
        city=city,
        province_code=region,
        zip=postal,
        latitude=lat,
        longitude=lon,
    )


BOULDER = _address("Boulder", "2400 Baseline Rd", "80305", 39.9997, -105.2585)
DENVER = _address("Denver", "1701 Wynkoop St", "80202", 39.7527, -105.0000)
GOLDEN_HOME = _address("Golden", "1500 Illinois St", "80401", 39.7510, -105.2230)
CHICAGO = _address("Chicago", "233 S Wacker Dr", "60606", 41.8789, -87.6359, region="IL")


async def _web_order(world: FulfilmentWorld, lines: Sequence[tuple[str, int]], to: ShippingAddress) -> Order:
    """A customer checks out on the web store; omnibridge pulls the order (routing it as it records it)."""
    payload = world.shopify.place_order(list(lines), world.shopify_location["den-wh"], to)
    await world.engine.pull(world.engine.channels[WEB])
    order = world.store.find_order(WEB, payload["admin_graphql_api_id"])
    assert order is not None, "the web order did not reach the ledger"
    return order


def _latest(world: FulfilmentWorld, order_id: str) -> dict[str, Any]:
    decisions = world.routing.decisions(order_id)
    return dict(decisions[-1].decision) if decisions else {}


def _routed_to(decision: dict[str, Any]) -> dict[str, str]:
    """line ref -> location id, from a recorded decision."""
    refs = {line["line_id"]: line["line_ref"] for line in decision.get("lines", [])}
    return {refs.get(line_id, line_id): location for line_id, location in decision.get("reserved", {}).items()}


def _candidates(decision: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "location": v["location_id"],
            "kind": v["kind"],
            "rule": v["rule"],
            "distance_km": round(v["distance_km"], 1) if v.get("distance_km") is not None else None,
        }
        for v in decision.get("verdicts", [])
    ]


def _shopify_placement(world: FulfilmentWorld, order: Order) -> dict[str, int]:
    """Profile location id -> units of the order Shopify's open fulfillment orders hold there."""
    by_gid = {gid: location for location, gid in world.shopify_location.items()}
    emulated = world.shopify.state.order(int(order.external_id.rsplit("/", 1)[1]))
    out: dict[str, int] = {}
    for fo in emulated.fulfillment_orders:
        if fo.closed:
            continue
        where = by_gid.get(f"gid://shopify/Location/{fo.location_id}", str(fo.location_id))
        out[where] = out.get(where, 0) + sum(line.remaining for line in fo.lines)
    return {k: v for k, v in out.items() if v}


def _position(world: FulfilmentWorld, sku: str, location_id: str) -> dict[str, int]:
    p = world.store.position(sku, location_id)
    return {"on_hand": p.on_hand, "committed": p.committed, "available": p.available}


async def nearest_store(world: FulfilmentWorld) -> tuple[EventRecord, Order]:
    lines = [("TENT-2P-GRN", 1), ("STOVE-SOLO", 1)]
    record = EventRecord(
        "nearest_store", WEB, "web order to Boulder (1 x TENT-2P-GRN, 1 x STOVE-SOLO), geocoded by Shopify"
    )
    started = time.perf_counter()
    order = await _web_order(world, lines, BOULDER)
    decision = _latest(world, order.id)
    tasks = await run_tasks(world, order.id)
    record.ms_until_all_channels = (time.perf_counter() - started) * 1000
    where = set(_routed_to(decision).values())
    placement = _shopify_placement(world, order)
    accepted = world.routing.accept(order.id, "boulder") if where == {"boulder"} else None
    ok = where == {"boulder"} and set(placement) == {"boulder"} and accepted is not None
    record.outcome = (
        "routed to boulder, fulfillment order moved, the store accepted it"
        if ok
        else f"NOT as expected: reserved at {sorted(where)}, Shopify holds it at {placement}"
    )
    record.detail.update(
        ok=ok,
        order_id=order.id,
        destination={"lat": BOULDER.latitude, "lon": BOULDER.longitude},
        reserved_at=sorted(where),
        candidates=_candidates(decision),
        shopify_fulfillment_orders=placement,
        tasks=tasks,
        accepted_by_store=accepted.status if accepted else None,
        committed_at_boulder={sku: _position(world, sku, "boulder")["committed"] for sku, _ in lines},
    )
    return record, order


async def split(world: FulfilmentWorld) -> EventRecord:
    lines = [("JKT-DOWN-M", 1), ("BAG-0C-R", 1)]
    record = EventRecord(
        "split",
        WEB,
        f"web order to Denver (1 x JKT-DOWN-M, 1 x BAG-0C-R): no location holds both; split allowed when both "
        f"parts reach {VALUE_THRESHOLD} USD",
    )
    started = time.perf_counter()
    order = await _web_order(world, lines, DENVER)
    decision = _latest(world, order.id)
    tasks = await run_tasks(world, order.id)
    record.ms_until_all_channels = (time.perf_counter() - started) * 1000
    routed = _routed_to(decision)
    placement = _shopify_placement(world, order)
    packages = sorted(set(routed.values()))
    ok = len(packages) == 2 and set(placement) == set(packages)
    record.outcome = (
        f"split in {len(packages)} packages: {', '.join(packages)}"
        if ok
        else f"NOT split as expected: {decision.get('outcome')} ({decision.get('reason')}) at {packages}, "
        f"Shopify {placement}"
    )
    record.detail.update(
        ok=ok,
        order_id=order.id,
        packages=packages,
        value_threshold=VALUE_THRESHOLD,
        line_values={line.sku: str(line.unit_price.amount) if line.unit_price else None for line in order.lines},
        shopify_fulfillment_orders=placement,
        candidates=_candidates(decision),
        tasks=tasks,
    )
    return record


async def dropship(world: FulfilmentWorld) -> EventRecord:
    sku = "PACK-65-GRN"
    record = EventRecord("dropship", SUPPLIER, f"web order to Denver for 1 x {sku}, which only the supplier stocks")
    started = time.perf_counter()
    stock = "sku,location,quantity\n" + "".join(f"{s},{SUPPLIER_CODE},{q}\n" for s, q in SUPPLIER_STOCK.items())
    drop_file(world.supplier_inbox, "stock-summit-0001.csv", stock.encode())
    await world.engine.pull(world.engine.channels[SUPPLIER])
    feed = _position(world, sku, SUPPLIER_LOCATION)
    order = await _web_order(world, [(sku, 1)], DENVER)
    decision = _latest(world, order.id)
    tasks = await run_tasks(world, order.id)
    submitted = next((t for t in tasks if t["kind"] == "submit" and t["accepted"]), None)
    reference = submitted["id"].removeprefix("submit:") if submitted else None  # the assignment id: the PO
    po = next((p for p in world.supplier.purchase_orders() if p["po_reference"] == reference), None)
    if po is None:
        record.outcome = "NOT dropshipped: no purchase order was written"
        return record
    answer = world.supplier.ship(po["po_reference"], carrier="UPS")
    before = _position(world, sku, SUPPLIER_LOCATION)
    await pull(world, SUPPLIER)  # the supplier's files: its ship confirmation ships the web order's line
    tasks = await run_tasks(world, order.id)  # the confirmation, with the supplier's tracking, on Shopify
    await pull(world, WEB)  # Shopify's fulfilment comes back: an echo of the confirmation, nothing ships twice
    confirmation = next((t for t in tasks if t["kind"] == "confirm"), None)
    confirmed = confirmation.get("channel_ref") if confirmation else None
    accepted = bool(confirmation and confirmation["accepted"])
    units = units_shipped(world, WEB, order.external_id)
    after = _position(world, sku, SUPPLIER_LOCATION)
    record.ms_until_all_channels = (time.perf_counter() - started) * 1000
    shopify = world.shopify.state.order(int(order.external_id.rsplit("/", 1)[1]))
    tracking = [t for f in shopify.fulfillments for t in _tracking_numbers(f)]
    ok = set(_routed_to(decision).values()) == {SUPPLIER_LOCATION} and units == 1 and accepted and tracking
    record.outcome = "shipped by the supplier, confirmed on Shopify" if ok else "NOT dropshipped as expected"
    record.detail.update(
        ok=bool(ok),
        order_id=order.id,
        supplier_stock_from_feed=feed["on_hand"],
        purchase_order=po["file"],
        acknowledgement=answer.get("acknowledgement"),
        tracking_number=answer.get("tracking_number"),
        supplier_position={"before": before, "after": after},
        shopify_fulfillment=confirmed,
        shopify_tracking=tracking,
        tasks=tasks,
    )
    return record


def _tracking_numbers(fulfillment: Any) -> list[str]:
    numbers = getattr(fulfillment, "tracking_numbers", None)
    if numbers is not None:
        return list(numbers)
    number = getattr(fulfillment, "tracking_number", None)
    return [number] if number else []


async def three_pl(world: FulfilmentWorld) -> EventRecord:
    sku = "BOOT-HIKE-42"
    record = EventRecord("three_pl", "shipbob", f"web order to Chicago for 1 x {sku}, stocked only at ShipBob")
    started = time.perf_counter()
    order = await _web_order(world, [(sku, 1)], CHICAGO)
    decision = _latest(world, order.id)
    tasks = await run_tasks(world, order.id)
    submitted = next((t for t in tasks if t["kind"] == "submit"), None)
    if submitted is None or not submitted["accepted"]:
        record.outcome = f"NOT submitted to ShipBob: {submitted}"
        return record
    reference = submitted["id"].removeprefix("submit:")  # the assignment id: ShipBob's reference_id
    shipment = world.shipbob.ship(reference, carrier="USPS")
    before = _position(world, sku, SHIPBOB_LOCATION)
    await pull(world, THREE_PL)  # ShipBob's shipment (and its on-hand count) through the engine
    tasks = await run_tasks(world, order.id)  # the confirmation, with ShipBob's tracking, on Shopify
    await pull(world, WEB)  # Shopify's fulfilment comes back: an echo, nothing ships twice
    confirmation = next((t for t in tasks if t["kind"] == "confirm"), None)
    confirmed = confirmation.get("channel_ref") if confirmation else None
    accepted = bool(confirmation and confirmation["accepted"])
    units = units_shipped(world, WEB, order.external_id)
    after = _position(world, sku, SHIPBOB_LOCATION)
    record.ms_until_all_channels = (time.perf_counter() - started) * 1000
    ok = set(_routed_to(decision).values()) == {SHIPBOB_LOCATION} and units == 1 and accepted
    record.outcome = "shipped by ShipBob, confirmed on Shopify" if ok else "NOT shipped by ShipBob as expected"
    record.detail.update(
        ok=ok,
        order_id=order.id,
        reference_id=reference,
        shipbob_order=submitted.get("provider_ref"),
        tracking_number=shipment["tracking"]["tracking_number"],
        shipbob_position={"before": before, "after": after},
        shopify_fulfillment=confirmed,
        tasks=tasks,
    )
    return record


async def store_reject(world: FulfilmentWorld) -> EventRecord:
    sku = "JKT-RAIN-M"
    record = EventRecord("store_reject", WEB, f"web order to Golden for 1 x {sku}; the Golden store rejects it")
    order = await _web_order(world, [(sku, 1)], GOLDEN_HOME)
    first = _routed_to(_latest(world, order.id))
    await run_tasks(world, order.id)
    places = ("golden", "den-wh")
    before = {loc: _position(world, sku, loc) for loc in places}
    started = time.perf_counter()
    try:
        decision = world.routing.reject(order.id, "golden", "the last jacket is damaged")
    except OmnibridgeError as exc:
        record.outcome = f"NOT re-routed: {exc}"
        return record
    tasks = await run_tasks(world, order.id)
    record.ms_until_all_channels = (time.perf_counter() - started) * 1000
    after = {loc: _position(world, sku, loc) for loc in places}
    second = _routed_to(_latest(world, order.id))
    moved = (
        after["golden"]["committed"] == before["golden"]["committed"] - 1
        and after["den-wh"]["committed"] == before["den-wh"]["committed"] + 1
    )
    placement = _shopify_placement(world, order)
    ok = set(first.values()) == {"golden"} and set(second.values()) == {"den-wh"} and moved
    record.outcome = (
        "re-routed to den-wh, reservation moved"
        if ok
        else f"NOT re-routed as expected: {first} -> {second} ({decision.outcome.value})"
    )
    record.detail.update(
        ok=ok,
        order_id=order.id,
        first=sorted(set(first.values())),
        rerouted_to=sorted(set(second.values())),
        positions={"before": before, "after": after},
        shopify_fulfillment_orders=placement,
        tasks=tasks,
    )
    return record


async def labels(world: FulfilmentWorld, web_order: Order) -> EventRecord:
    record = EventRecord("labels", PARCELS, "labels for the Boulder web order and an Amazon order, confirmed back")
    started = time.perf_counter()
    amazon_id = world.amazon.control.create_order(lines=[("LAMP-BLK", 1)])
    await world.engine.pull(world.engine.channels[AMAZON])
    amazon_order = world.store.find_order(AMAZON, amazon_id)
    if amazon_order is None:
        record.outcome = "NOT confirmed: the Amazon order did not reach the ledger"
        return record
    await run_tasks(world, amazon_order.id)
    out: dict[str, Any] = {}
    placed: list[tuple[Order, str]] = []
    shipments: dict[str, Any] = {}
    tasks_by_order: dict[str, list[dict[str, Any]]] = {}
    for order, location in ((web_order, "boulder"), (amazon_order, "den-wh")):
        records = world.store.order_lines(order.channel, order.external_id)
        lines = [ShipmentLine(sku=r.sku, quantity=r.open_quantity, order_line_id=r.id) for r in records]
        if order.ship_to is None:
            out[order.channel] = {"error": "no ship-to address"}
            continue
        try:
            shipment = await world.shipping.ship(order.id, location, lines, order.ship_to, PARCEL)
        except OmnibridgeError as exc:
            out[order.channel] = {"error": f"label not bought: {exc}"}
            continue
        placed.append((order, location))
        shipments[order.channel] = shipment
    # the labels' confirmations (enqueued with the labels) go to Shopify and Amazon; then each channel's own
    # record of the shipment comes back through the engine's pulls and ships the lines in the ledger
    for order, _ in placed:
        tasks_by_order[order.channel] = await run_tasks(world, order.id)
    await pull(world, WEB)
    await pull(world, AMAZON)
    for order, location in placed:
        shipment = shipments[order.channel]
        confirmation = next((t for t in tasks_by_order[order.channel] if t["kind"] == "confirm"), None)
        accepted = bool(confirmation and confirmation["accepted"])
        channel_ref = confirmation.get("channel_ref") if confirmation else None
        units = units_shipped(world, order.channel, order.external_id)
        out[order.channel] = {
            "order_id": order.id,
            "from": location,
            "carrier": shipment.carrier,
            "service": shipment.service,
            "tracking_number": shipment.tracking_number,
            "confirmed": accepted,
            "channel_ref": channel_ref,
            "units_shipped": units,
            "assignments": [a.status for a in world.routing.assignments(order.id)],
        }
    record.ms_until_all_channels = (time.perf_counter() - started) * 1000
    amazon_status = world.amazon.control.order(amazon_id).get("OrderStatus")
    shopify = world.shopify.state.order(int(web_order.external_id.rsplit("/", 1)[1]))
    out["amazon_order_status"] = amazon_status
    out["shopify_fulfillments"] = len(shopify.fulfillments)
    ok = all(out.get(c, {}).get("confirmed") for c in (WEB, AMAZON)) and amazon_status == "Shipped"
    record.outcome = "confirmed with tracking on Shopify and Amazon" if ok else "NOT confirmed as expected"
    record.detail.update(out, ok=ok)
    return record


async def play_fulfilment(world: FulfilmentWorld, emit: Emit) -> dict[str, Any]:
    """Play the act's scenes in ``world``; returns the ``fulfilment`` section of the JSON report."""
    events: list[EventRecord] = []

    def show(record: EventRecord) -> None:
        events.append(record)
        emit(f"{record.kind:<18} {record.source:<6} {record.description}\n{INDENT}-> {describe(record)}")

    started = time.perf_counter()
    record, web_order = await nearest_store(world)
    show(record)
    show(await split(world))
    show(await dropship(world))
    show(await three_pl(world))
    show(await store_reject(world))
    show(await labels(world, web_order))
    refused = world.shopify.calls.get("invalid", 0) + len(world.shipbob.problems)  # the emulators' own refusals
    traffic = validate_traffic(world.recorded, refused)
    inconsistencies = [f"{i.check}: {i.subject}: {i.detail}" for i in world.store.verify()]
    emit(
        f"fulfilment check  {traffic['requests']} requests recorded, {len(traffic['problems'])} invalid, "
        f"{traffic['refused_by_validation']} refused by validation; ledger inconsistencies: {len(inconsistencies)}"
    )
    section = {
        "events": [e.as_dict() for e in events],
        "seconds": round(time.perf_counter() - started, 2),
        "traffic": traffic,
        "inconsistencies": inconsistencies,
        "parked": [d.order_id for d in world.routing.parked()],
    }
    return {"ok": act_ok(section), **section}


async def run_fulfilment_day(workdir: Path, emit: Emit) -> dict[str, Any]:
    """Build the act's world in ``workdir`` and play it."""
    emit(
        "fulfilment  web (Shopify) and Amazon orders routed across den-wh, boulder, fort-collins, golden, a dropship "
        "supplier (files) and ShipBob (Cicero, IL); labels with EasyPost"
    )
    async with fulfilment_world(workdir) as world:
        return await play_fulfilment(world, emit)
