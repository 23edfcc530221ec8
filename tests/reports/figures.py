"""A small store whose every report figure is worked out by hand in the tests (the period is the first week of
March 2026: ``PERIOD``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from omnibridge.reports import Period
from omnibridge.store import Store
from omnibridge.store.engine import write_session
from omnibridge.store.tables import (
    INCIDENTS,
    MOVEMENTS,
    ORDER_LINES,
    ORDERS,
    OUTBOX,
    RETURNS,
    SHIPMENTS,
    TRACKING_EVENTS,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)
PERIOD = Period(T0, T0 + timedelta(days=7))
LATER = datetime(2026, 4, 1, tzinfo=UTC)
"""A time after everything in the figures (the store's clock when a test reads them)."""


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def _line(channel: str, ref: str, sku: str, qty: int, loc: str | None, placed: datetime, **done: int) -> dict[str, Any]:
    status = "cancelled" if done.get("cancelled") else "shipped" if done.get("shipped") == qty else "open"
    return {
        "id": f"{channel}:{ref}:{sku}",
        "channel": channel,
        "order_ref": ref,
        "line_ref": sku,
        "sku": sku,
        "quantity": qty,
        "location_id": loc,
        "status": status,
        "committed": 0,
        "shipped": done.get("shipped", 0),
        "cancelled": done.get("cancelled", 0),
        "returned": 0,
        "placed_at": placed,
        "updated_at": placed,
    }


def _order(order_id: str, placed: datetime) -> dict[str, Any]:
    channel, ref = order_id.split(":")
    return {
        "id": order_id,
        "channel": channel,
        "external_id": ref,
        "status": "accepted",
        "fulfilment_method": "ship",
        "lines": [],
        "placed_at": placed,
        "updated_at": placed,
    }


def _movement(
    n: int, source: str, kind: str, sku: str, at: datetime, on_hand: int = 0, committed: int = 0
) -> dict[str, Any]:
    return {
        "idempotency_key": f"m-{n}",
        "fingerprint": "f",
        "source": source,
        "kind": kind,
        "sku": sku,
        "location_id": "wh",
        "quantity": abs(on_hand or committed),
        "delta_on_hand": on_hand,
        "delta_committed": committed,
        "delta_reserved": 0,
        "delta_incoming": 0,
        "occurred_at": at,
        "recorded_at": at,
    }


def _push(channel: str, sku: str, status: str, created: datetime, took: float | None) -> dict[str, Any]:
    return {
        "channel": channel,
        "batch_key": "b",
        "sku": sku,
        "channel_sku": sku,
        "location_id": "wh",
        "location_ref": "wh",
        "quantity": 1,
        "status": status,
        "created_at": created,
        "finished_at": None if took is None else created + timedelta(seconds=took),
    }


def _return(rid: str, order_id: str, status: str, at: datetime, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": rid,
        "order_id": order_id,
        "channel": order_id.split(":")[0],
        "location_id": "wh",
        "status": status,
        "lines": lines,
        "created_at": at,
    }


def build(store: Store) -> None:
    """Orders web:1 (2 A, shipped), web:2 (1 A, oversold and cancelled), web:3 (1 B, open, shipped from the
    store), pos:1 (3 B at the store, shipped) and web:9 (before the period); their shipments, tracking,
    stock movements, stock writes and returns."""
    before = T0 - timedelta(days=9)
    with write_session(store.engine) as session:
        session.execute(
            sa.insert(ORDER_LINES),
            [
                _line("web", "1", "A", 2, "wh", hours(0), shipped=2),
                _line("web", "2", "A", 1, "wh", hours(1), cancelled=1),
                _line("web", "3", "B", 1, "wh", hours(24)),
                _line("pos", "1", "B", 3, "store", hours(30), shipped=3),
                _line("web", "9", "A", 1, "wh", before, shipped=1),
            ],
        )
        session.execute(
            sa.insert(ORDERS), [_order("web:1", hours(0)), _order("web:3", hours(24)), _order("web:9", before)]
        )
        session.execute(
            sa.insert(INCIDENTS),
            [
                {
                    "dedupe_key": "oversell:web:2",
                    "kind": "oversell",
                    "decision": "held",
                    "channel": "web",
                    "sku": "A",
                    "location_id": "wh",
                    "order_id": "web:2",
                    "summary": "1 unit more was committed than wh has",
                    "data": {},
                    "created_at": hours(1),
                }
            ],
        )
        shipment = {"carrier": "ups", "lines": [], "status": "label_created"}
        session.execute(
            sa.insert(SHIPMENTS),
            [
                {**shipment, "id": "s1", "order_id": "web:1", "from_location_id": "wh", "created_at": hours(4)},
                {**shipment, "id": "s2", "order_id": "web:3", "from_location_id": "store", "created_at": hours(26)},
                {**shipment, "id": "s9", "order_id": "web:9", "from_location_id": "wh", "created_at": before},
            ],
        )
        session.execute(
            sa.insert(TRACKING_EVENTS),
            [
                {"shipment_id": "s1", "status": "pending", "carrier_status": "label", "occurred_at": hours(4)},
                {"shipment_id": "s1", "status": "in_transit", "carrier_status": "scan", "occurred_at": hours(10)},
                {"shipment_id": "s1", "status": "in_transit", "carrier_status": "hub", "occurred_at": hours(20)},
                {"shipment_id": "s1", "status": "delivered", "carrier_status": "done", "occurred_at": hours(58)},
                {"shipment_id": "s2", "status": "in_transit", "carrier_status": "scan", "occurred_at": hours(32)},
                {"shipment_id": "s9", "status": "in_transit", "carrier_status": "scan", "occurred_at": before},
            ],
        )
        session.execute(
            sa.insert(MOVEMENTS),
            [
                _movement(1, "manual", "receipt", "A", before, on_hand=5),
                _movement(2, "web", "commitment", "A", hours(12), committed=5),  # A out of stock at wh
                _movement(3, "manual", "receipt", "A", hours(36), on_hand=3),  # back after 24 h
                _movement(4, "web", "fulfilment", "A", hours(48), on_hand=-2, committed=-2),
                _movement(5, "manual", "receipt", "B", before, on_hand=2),
                _movement(6, "pos", "sale", "B", hours(144), on_hand=-2),  # B out for the last 24 h
            ],
        )
        session.execute(
            sa.insert(OUTBOX),
            [
                _push("web", "A", "applied", hours(1), 2.0),
                _push("web", "A", "applied", hours(3), 4.0),
                _push("web", "B", "failed", hours(5), 30.0),
                _push("pos", "A", "applied", hours(1), 1.0),
                _push("pos", "B", "pending", hours(2), None),
                _push("pos", "B", "applied", before, 99.0),
            ],
        )
        session.execute(
            sa.insert(RETURNS),
            [
                _return("r1", "web:1", "received", hours(72), [{"sku": "A", "quantity": 1, "reason": "too small"}]),
                _return("r2", "pos:1", "restocked", hours(96), [{"sku": "B", "quantity": 1, "restock": True}]),
                _return("r3", "pos:1", "rejected", hours(97), [{"sku": "B", "quantity": 2, "reason": "late"}]),
                _return("r4", "web:9", "received", before, [{"sku": "A", "quantity": 1, "reason": "late"}]),
            ],
        )
