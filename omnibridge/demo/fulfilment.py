"""The demo's web fulfilment scenes: staff ship a web order in the Shopify admin, then count that store's shelf.

A shipped web order must leave nothing committed: the count that follows then moves what every channel shows by
exactly what the shelf says, not by the units already gone.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from omnibridge.demo.script import POLL_SECONDS, TIMEOUT_SECONDS, EventRecord, expect, round_ms, timed
from omnibridge.demo.world import POS, WEB, DemoWorld
from omnibridge.models import LineStatus


async def web_fulfilment(world: DemoWorld, order: dict[str, Any], sku: str, location_id: str) -> EventRecord:
    """Staff mark the web order fulfilled in the Shopify admin: ``fulfillments/create`` reaches the receiver, and
    the order's lines become shipments at the store (on hand and committed down, available unchanged)."""
    order_ref = order["admin_graphql_api_id"]
    open_units = sum(line.committed for line in world.store.order_lines(WEB, order_ref))
    record = EventRecord(
        "web_fulfilment",
        WEB,
        f"staff ship web order {order.get('name')} from {location_id} in the Shopify admin ({open_units} x {sku})",
    )
    before = world.store.position(sku, location_id)
    started = time.perf_counter()
    fulfilment = world.shopify.fulfill(order["id"], tracking_number="1Z999AA10123456784", tracking_company="UPS")
    deadline = started + TIMEOUT_SECONDS
    shipped = False
    while time.perf_counter() < deadline:
        lines = world.store.order_lines(WEB, order_ref)
        if lines and all(line.status is not LineStatus.OPEN for line in lines):
            shipped = True
            break
        await asyncio.sleep(POLL_SECONDS)
    after = world.store.position(sku, location_id)
    record.ms_until_all_channels = (time.perf_counter() - started) * 1000 if shipped else None
    record.outcome = "propagated" if shipped and after.committed == before.committed - open_units else "NOT shipped"
    record.detail.update(
        fulfillment=fulfilment.get("admin_graphql_api_id"),
        shipped_units=open_units,
        on_hand=(before.on_hand, after.on_hand),
        committed=(before.committed, after.committed),
        available=(before.available, after.available),
        ms=round_ms(record.ms_until_all_channels),
    )
    return record


async def store_count(world: DemoWorld, sku: str, location_id: str, shelf_difference: int) -> EventRecord:
    """Staff count the shelf at the store on the POS; the shelf holds ``shelf_difference`` units other than the
    ledger's on hand. Every other channel moves by exactly that, whatever shipped before."""
    on_hand = world.store.position(sku, location_id).on_hand
    counted = on_hand + shelf_difference
    record = EventRecord(
        "store_count",
        POS,
        f"stock take on the POS at {location_id}: {counted} x {sku} on the shelf (the ledger had {on_hand})",
        [expect(world, WEB, sku, location_id, shelf_difference)],
    )
    await timed(world, record, lambda: world.square.physical_count(world.square_location[location_id], sku, counted))
    return record
