"""The return scenes of the demo's third act (:mod:`omnibridge.demo.collect_day`), through the real return service.

4. ``store_return``: a web (Shopify) order, shipped, comes back at the Boulder store's counter and is restocked there
   (:meth:`~omnibridge.returns.service.ReturnService.receive`); after the engine flushes, Square's count at Boulder
   and Shopify's available at Boulder both show the unit;
5. ``postal_return``: a web return by post of two units with a return label bought through EasyPost
   (``is_return``): one restocked at the warehouse, one damaged (recorded, not restocked); the return tasks carry
   it to Shopify (``returnCreate``, then its disposal and close): Shopify shows the return closed.
"""

from __future__ import annotations

import time
from typing import Any

from connectors.shopify.emulator.state import ShippingAddress
from omnibridge.demo.collect_pickups import STAFF, position, tasks
from omnibridge.demo.collect_world import CollectWorld
from omnibridge.demo.script import EventRecord
from omnibridge.demo.settings import WEB
from omnibridge.errors import OmnibridgeError
from omnibridge.models import Order
from omnibridge.returns.labels import buy_return_label
from omnibridge.returns.service import Received

__all__ = ["postal_return", "store_return"]

DENVER = ShippingAddress(
    first_name="Sam",
    last_name="Rivera",
    address1="1701 Wynkoop St",
    city="Denver",
    province_code="CO",
    zip="80202",
    latitude=39.7527,
    longitude=-105.0000,
)


async def _shipped_web_order(world: CollectWorld, lines: list[tuple[str, int]], tracking: str) -> Order:
    """A web order to Denver, routed (to the warehouse), fulfilled by staff in the Shopify admin and read back."""
    payload = world.shopify.place_order(lines, world.shopify_location["den-wh"], DENVER)
    await world.engine.pull(world.engine.channels[WEB])
    order = world.store.find_order(WEB, payload["admin_graphql_api_id"])
    assert order is not None, "the web order did not reach the ledger"
    await tasks(world, order.id)
    world.shopify.fulfill(payload["admin_graphql_api_id"], tracking_number=tracking)
    await world.engine.pull(world.engine.channels[WEB])
    await world.engine.flush()  # every channel shows the ledger before the return
    return order


async def _settle(world: CollectWorld, order_id: str) -> list[dict[str, Any]]:
    """The dispatcher's passes until the order's tasks stop changing, then the engine's flush to every channel."""
    found = await tasks(world, order_id)
    for _ in range(3):
        again = await tasks(world, order_id)
        if again == found:
            break
        found = again
    await world.engine.flush()
    return found


def _shopify_available(world: CollectWorld, sku: str, location_id: str) -> int:
    return int(world.shopify.available(sku, world.shopify_location[location_id]))


async def store_return(world: CollectWorld) -> EventRecord:
    sku, store_id = "TENT-2P-GRN", "boulder"
    record = EventRecord("store_return", WEB, f"a web order (1 x {sku}) shipped, returned at the {store_id} counter")
    order = await _shipped_web_order(world, [(sku, 1)], "9400100000000000000001")
    shipped = sum(line.shipped for line in world.store.order_lines(WEB, order.external_id))
    before = position(world, sku, store_id)
    square_before = world.square.quantity(sku, world.square_location[store_id])
    shopify_before = _shopify_available(world, sku, store_id)
    started = time.perf_counter()
    try:
        rma = world.returns.create(order.id, [(sku, 1)], reason="too small", at_store=store_id, actor=STAFF)
        rma = world.returns.receive(rma.id, store_id, Received(restock=1), actor=STAFF)
    except OmnibridgeError as exc:
        record.outcome = f"NOT returned: {exc}"
        return record
    channel_tasks = await _settle(world, order.id)
    record.ms_until_all_channels = (time.perf_counter() - started) * 1000
    after = position(world, sku, store_id)
    square_after = world.square.quantity(sku, world.square_location[store_id])
    shopify_after = _shopify_available(world, sku, store_id)
    ok = (
        shipped == 1
        and after["on_hand"] == before["on_hand"] + 1
        and square_after == square_before + 1
        and shopify_after == shopify_before + 1
    )
    record.outcome = (
        f"restocked at {store_id}; Square and Shopify show it there"
        if ok
        else f"NOT restocked as expected: ledger {before} -> {after}, Square {square_before} -> {square_after}"
    )
    record.detail.update(
        ok=ok,
        order_id=order.id,
        return_id=rma.id,
        state=rma.state.value,
        units_shipped=shipped,
        position={"before": before, "after": after},
        square_count={"before": square_before, "after": square_after},
        shopify_available={"before": shopify_before, "after": shopify_after},
        tasks=channel_tasks,
    )
    return record


def _shopify_returns(world: CollectWorld, order: Order) -> list[str]:
    emulated = world.shopify.state.order(int(order.external_id.rsplit("/", 1)[1]))
    return [r.status for r in emulated.returns]


async def postal_return(world: CollectWorld) -> EventRecord:
    sku, warehouse = "LAMP-BLK", "den-wh"
    record = EventRecord("postal_return", WEB, f"a web return by post of 2 x {sku}, with a label; one is damaged")
    order = await _shipped_web_order(world, [(sku, 2)], "9400100000000000000002")
    before = position(world, sku, warehouse)
    started = time.perf_counter()
    try:
        rma = world.returns.create(order.id, [(sku, 2)], reason="arrived scratched", by_post=True, actor=STAFF)
        await tasks(world, order.id)
        rma = await buy_return_label(world.returns, world.shipping, rma.id, actor=STAFF)
        label = {"carrier": rma.carrier, "tracking_number": rma.tracking_number}
        rma = world.returns.receive(rma.id, warehouse, Received(restock=1, damaged=1), actor=STAFF)
    except OmnibridgeError as exc:
        record.outcome = f"NOT returned: {exc}"
        return record
    channel_tasks = await _settle(world, order.id)
    record.ms_until_all_channels = (time.perf_counter() - started) * 1000
    after = position(world, sku, warehouse)
    shopify = _shopify_returns(world, order)
    dispositions = {
        "restocked": sum(line.restocked for line in rma.lines),
        "damaged": sum(line.damaged for line in rma.lines),
    }
    ok = (
        rma.location_id == warehouse
        and bool(label["tracking_number"])
        and after["on_hand"] == before["on_hand"] + 1
        and dispositions == {"restocked": 1, "damaged": 1}
        and shopify == ["CLOSED"]
    )
    record.outcome = (
        "one restocked at the warehouse, one damaged; Shopify shows the return closed"
        if ok
        else f"NOT as expected: ledger {before} -> {after}, Shopify returns {shopify}"
    )
    record.detail.update(
        ok=ok,
        order_id=order.id,
        return_id=rma.id,
        state=rma.state.value,
        label=label,
        dispositions=dispositions,
        position={"before": before, "after": after},
        shopify_returns=shopify,
        tasks=channel_tasks,
    )
    return record
