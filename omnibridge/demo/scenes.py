"""The demo's scenes on the other built-in connectors: an Amazon order, a Clover sale, ERP count files and a parcel
shipped with EasyPost. Timed like the scenes of :mod:`omnibridge.demo.script`."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

from connectors.files.client import drop_file
from omnibridge.demo.script import POLL_SECONDS, TIMEOUT_SECONDS, EventRecord, expect, round_ms, timed, watch
from omnibridge.demo.vendors import AMAZON, CLOVER, ERP, PARCELS
from omnibridge.demo.worker import DemoWorker
from omnibridge.demo.world import WEB, DemoWorld
from omnibridge.errors import OmnibridgeError
from omnibridge.models import Address, Shipment, ShipmentLine, TrackingStatus
from omnibridge.sdk.carrier import Parcel

WAREHOUSE = "den-wh"
PARCEL = Parcel(weight_oz=Decimal("56"), length_in=Decimal("20"), width_in=Decimal("14"), height_in=Decimal("8"))
MAX_TRACKING_STEPS = 8


async def amazon_order(world: DemoWorld, sku: str, quantity: int) -> tuple[EventRecord, str]:
    """A buyer orders on Amazon (merchant fulfilled): Amazon sends ORDER_CHANGE through the SQS forwarder, the
    connector fetches the order (getOrder + getOrderItems), the ledger takes the units off the warehouse and the
    web store shows the new warehouse quantity (Amazon took them off its own listing when the order was placed)."""
    record = EventRecord(
        "amazon_order",
        AMAZON,
        f"Amazon order: {quantity} x {sku}, merchant fulfilled from {WAREHOUSE}",
        [expect(world, WEB, sku, WAREHOUSE, -quantity), expect(world, AMAZON, sku, WAREHOUSE, -quantity)],
    )
    placed: dict[str, str] = {}

    def place() -> None:
        placed["order"] = world.vendors.amazon.control.create_order(sku, quantity)

    await timed(world, record, place)
    ledger = world.store.find_order(AMAZON, placed["order"])
    record.detail.update(
        order=placed["order"],
        ledger_order=ledger.id if ledger else None,
        status=ledger.status.value if ledger else None,
    )
    return record, placed["order"]


async def clover_sale(world: DemoWorld, sku: str, quantity: int) -> EventRecord:
    """A sale on the Clover device in Golden: its O: notification (X-Clover-Auth) brings the paid order in."""
    (location_id,) = world.channel_locations(CLOVER)
    record = EventRecord(
        "clover_sale",
        CLOVER,
        f"Clover sale: {quantity} x {sku} at {location_id}",
        [expect(world, WEB, sku, location_id, -quantity), expect(world, CLOVER, sku, location_id, -quantity)],
    )
    return await timed(world, record, lambda: world.vendors.clover.pos_sale([(sku, quantity)]))


def _csv(rows: list[tuple[str, str, str]]) -> bytes:
    return ("sku,location,quantity\n" + "".join(f"{sku},{code},{qty}\n" for sku, code, qty in rows)).encode()


async def erp_count(world: DemoWorld, worker: DemoWorker, counts: dict[str, int], name: str) -> EventRecord:
    """The ERP drops a stock count for the warehouse; the poll that picks it up (the daemon's ``poll`` job for a
    channel without webhooks) applies the counts and every channel selling the warehouse shows them."""
    (code,) = [code for code, location in _erp_codes(world).items() if location == WAREHOUSE]
    record = EventRecord(
        "erp_file_drop",
        ERP,
        f"ERP stock count {name}: {len(counts)} SKUs counted at {code} ({WAREHOUSE})",
        [
            expect(world, channel, sku, WAREHOUSE, quantity - world.shows(channel, sku, WAREHOUSE))
            for sku, quantity in counts.items()
            for channel in (WEB, AMAZON)
        ],
    )
    content = _csv([(sku, code, str(quantity)) for sku, quantity in counts.items()])
    polled = await worker.poll(ERP, first=lambda: drop_file(world.erp_inbox, name, content))
    await watch(world, record, polled.started)
    record.detail.update(file=name, events_pulled=polled.events, movements_applied=polled.outcome.applied)
    return record


async def erp_bad_file(world: DemoWorld, worker: DemoWorker, name: str) -> EventRecord:
    """A count file with bad rows: nothing of it is applied; it lands in failed/ next to a report naming every
    row and field."""
    (code,) = list(_erp_codes(world))
    rows = [
        ("STOVE-DUO", code, "twelve"),
        ("LAMP-RED", "DENVER", "5"),
        ("PACK-30-BLK", code, "-3"),
        ("TENT-4P-GRN", code, "7"),
    ]
    record = EventRecord("erp_bad_file", ERP, f"ERP drops {name} with bad rows ({len(rows)} rows)")
    skus = [sku for sku, _, _ in rows]
    before = {sku: len(world.store.movements(sku)) for sku in skus}
    polled = await worker.poll(ERP, first=lambda: drop_file(world.erp_inbox, name, _csv(rows)))
    failed = world.erp_inbox / "failed"
    report = failed / f"{name}.errors.txt"
    unchanged = all(len(world.store.movements(sku)) == before[sku] for sku in skus)
    landed = (failed / name).is_file() and report.is_file()
    record.ms_until_all_channels = (time.perf_counter() - polled.started) * 1000
    record.outcome = "rejected, nothing applied" if landed and unchanged and not polled.events else "NOT rejected"
    record.detail.update(
        file=name,
        moved_to=f"failed/{name}" if landed else None,
        ledger_unchanged=unchanged,
        errors=report.read_text(encoding="utf-8").splitlines() if report.is_file() else [],
        messages=list(polled.outcome.messages),
    )
    return record


def _erp_codes(world: DemoWorld) -> dict[str, str]:
    return dict(world.engine.channels[ERP].location_ids)


async def _tracked(world: DemoWorld, shipment_id: str, expected: TrackingStatus, events: int) -> Shipment | None:
    """Apply the carrier channel's pending webhooks (what the daemon's worker does between passes) until the
    shipment has ``events`` tracking events and status ``expected``."""
    deadline = time.perf_counter() + TIMEOUT_SECONDS
    while time.perf_counter() < deadline:
        await world.carriers.process_pending()
        shipment = world.store.get_shipment(shipment_id)
        if shipment is not None and shipment.status is expected and len(shipment.tracking_history) >= events:
            return shipment
        await asyncio.sleep(POLL_SECONDS)
    return None


async def shipment(world: DemoWorld, order_ref: str) -> EventRecord:
    """Ship the Amazon order from the warehouse with EasyPost to the ship-to the ledger holds for it (Amazon's
    buyer address, read with a Restricted Data Token; none is a failure of the scene): rate, buy the label once,
    then follow the parcel to the door. Each ``tracker.updated`` webhook goes to the receiver's
    ``/webhooks/parcels``, into the inbox, and is applied by the carrier runtime, mapped to omnibridge's canonical
    tracking status."""
    record = EventRecord("shipment", PARCELS, f"ship Amazon order {order_ref} from {WAREHOUSE} with EasyPost")
    order = world.store.find_order(AMAZON, order_ref)
    deadline = time.perf_counter() + TIMEOUT_SECONDS
    while order is None and time.perf_counter() < deadline:  # its notification may still be on its way
        await asyncio.sleep(POLL_SECONDS)
        order = world.store.find_order(AMAZON, order_ref)
    if order is None:
        record.outcome = "order not in the ledger"
        return record
    if order.ship_to is None:
        record.outcome = f"order {order.id} has no ship-to address in the ledger"
        return record
    ship_to: Address = order.ship_to
    record.detail["ship_to"] = {"city": ship_to.city, "region": ship_to.region, "postal_code": ship_to.postal_code}
    lines = [ShipmentLine(sku=line.sku, quantity=line.quantity, order_line_id=line.line_id) for line in order.lines]
    record.description += f" ({', '.join(f'{line.quantity} x {line.sku}' for line in lines)})"
    started = time.perf_counter()
    try:
        shipped = await world.shipping.ship(order.id, WAREHOUSE, lines, ship_to, PARCEL)
    except OmnibridgeError as exc:  # a carrier or address problem: the report says what, the demo fails
        record.outcome = f"label not bought: {exc}"
        return record
    code = shipped.tracking_number or ""
    record.detail.update(
        shipment_id=shipped.id,
        order_id=order.id,
        carrier=shipped.carrier,
        service=shipped.service,
        tracking_code=code,
        cost=str(shipped.cost.amount) if shipped.cost else None,
        currency=shipped.cost.currency if shipped.cost else None,
        label_url=shipped.label_url,
        label_ms=round_ms((time.perf_counter() - started) * 1000),
    )
    history: list[dict[str, Any]] = []
    tracking = world.shipping.tracking_map
    final: Shipment | None = shipped
    for _ in range(MAX_TRACKING_STEPS):
        step = time.perf_counter()
        carrier_status = world.vendors.easypost.advance_tracking(code)
        expected = tracking.canonical("easypost", carrier_status)
        final = await _tracked(world, shipped.id, expected, len(history) + 1)
        history.append(
            {
                "easypost_status": carrier_status,
                "canonical": final.status.value if final else None,
                "ms": round_ms((time.perf_counter() - step) * 1000) if final else None,
            }
        )
        if final is None or final.status is TrackingStatus.DELIVERED:
            break
    record.ms_until_all_channels = (time.perf_counter() - started) * 1000
    record.outcome = "delivered" if final is not None and final.status is TrackingStatus.DELIVERED else "NOT delivered"
    record.detail["tracking"] = history
    record.detail["tracking_history"] = (
        [
            {"status": e.status.value, "carrier_status": e.carrier_status, "message": e.message}
            for e in final.tracking_history
        ]
        if final is not None
        else []
    )
    return record
