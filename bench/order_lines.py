"""Applying one order line against a long history: the line record (one indexed lookup) against a scan of the
position's movements (how a line's open commitment was found before order lines were records, issue 12).

For each history size, one position (SKU, store) is loaded with that many movements (receipts and the
commitments and shipments of earlier web orders, bulk-loaded), then:

* ``line_ms``: applying a web order's shipment (``COMPLETED`` of a line placed before) through the engine's
  :class:`~omnibridge.sync.EventApplier` — the line record says what is committed and where;
* ``scan_ms`` (the baseline, same run, same database): reading the position's movements and summing the line's
  committed units, as ``EventApplier._outstanding_commitment`` did for every line of every order event.

Both are medians over the same lines. Goal: ``line_ms`` does not grow with the history.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

from bench._bulk_load import load_rows
from bench._db import sqlite_url
from bench._logs import quiet_logs
from omnibridge.config import LoadedChannel, MappingTables
from omnibridge.models import Location, LocationType, MovementKind, Product, StockMovement, Variant
from omnibridge.sdk import ConnectorKind, ConnectorSpec
from omnibridge.sdk.channel import ChannelLocation, OrderEvent, OrderEventKind, OrderLineEvent
from omnibridge.store import Store, open_store
from omnibridge.sync import EventApplier
from omnibridge.sync.runtime import ChannelRuntime

SKU, LOCATION, REF = "TENT-2P", "boulder", "L-BOULDER"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
LINES = 30

_COLUMNS = (
    "idempotency_key", "fingerprint", "source", "kind", "sku", "location_id", "quantity", "counted_quantity",
    "delta_on_hand", "delta_committed", "delta_reserved", "delta_incoming", "occurred_at", "recorded_at",
    "reference", "note", "superseded_by_count",
)  # fmt: skip


def _history(count: int) -> list[tuple[Any, ...]]:
    """``count`` movements at the position: a receipt, then pairs of commitment and shipment of past orders."""
    rows: list[tuple[Any, ...]] = []
    for i in range(count):
        at = T0 + timedelta(seconds=i)
        if i % 2 == 0:
            kind, on_hand, committed, reference = "commitment", 0, 1, f"web:order:past-{i}:1"
        else:
            kind, on_hand, committed, reference = "fulfilment", -1, -1, f"web:order:past-{i - 1}:1"
        rows.append(
            (f"h-{i}", "x" * 64, "web", kind, SKU, LOCATION, 1, None, on_hand, committed, 0, 0, at, at, reference,
             None, False)
        )  # fmt: skip
    return rows


class _Settings(BaseModel):
    name: str = "bench"


class _WebStore:
    """Only what applying events needs from a channel: its locations."""

    async def list_locations(self) -> list[ChannelLocation]:
        return [ChannelLocation(REF, "Boulder")]


def _channel() -> ChannelRuntime:
    spec = ConnectorSpec(
        id="bench", label="Bench", kind=ConnectorKind.STOREFRONT, settings_model=_Settings, capabilities=frozenset()
    )
    loaded = LoadedChannel(
        id="web",
        connector="bench",
        spec=spec,
        settings=_Settings(),
        profile_path=Path("bench.yaml"),
        mappings=MappingTables(location_map=MappingProxyType({REF: LOCATION})),
    )
    return ChannelRuntime("web", _WebStore(), loaded)  # type: ignore[arg-type]


def _seed(store: Store, history: int) -> None:
    store.upsert_location(Location(id=LOCATION, name=LOCATION, type=LocationType.STORE))
    store.upsert_product(Product(id="P", title="Tent", variants=[Variant(sku=SKU, product_id="P")]))
    store.apply(
        StockMovement(
            idempotency_key="stock",
            source="manual",
            kind=MovementKind.RECEIPT,
            sku=SKU,
            location_id=LOCATION,
            quantity=history + LINES * 4,
            occurred_at=T0 - timedelta(days=1),
        )
    )
    load_rows(store.engine, "stock_movements", _COLUMNS, _history(history))


def _scan(store: Store, reference: str) -> int:
    return sum(r.delta_committed for r in store.movements(SKU, LOCATION) if r.movement.reference == reference)


def measure(history: int) -> dict[str, Any]:
    """One history size on a fresh SQLite store: the medians of both ways over ``LINES`` lines."""
    with sqlite_url() as url, open_store(url) as store:
        _seed(store, history)
        channel = _channel()
        asyncio.run(channel.resolve_locations())
        applier = EventApplier(store, channel)
        at = T0 + timedelta(days=1)
        orders = [f"now-{i}" for i in range(LINES)]
        applier.apply_all(
            [OrderEvent(ref, OrderEventKind.PLACED, at, (OrderLineEvent("1", SKU, 1, REF),)) for ref in orders]
        )
        line_ms, scan_ms = [], []
        for ref in orders:
            started = time.perf_counter()
            _scan(store, f"web:order:{ref}:1")
            scan_ms.append((time.perf_counter() - started) * 1000)
            done = OrderEvent(ref, OrderEventKind.COMPLETED, at, (OrderLineEvent("1", SKU, 1, REF),))
            started = time.perf_counter()
            outcome = applier.apply_all([done])
            line_ms.append((time.perf_counter() - started) * 1000)
            assert outcome.applied == 1, outcome.messages
    line, scan = statistics.median(line_ms), statistics.median(scan_ms)
    return {
        "history_movements": history,
        "line_ms": round(line, 3),
        "scan_ms_baseline": round(scan, 3),
        "scan_vs_line": round(scan / line, 1) if line else None,
    }


def run(*, quick: bool = False) -> dict[str, Any]:
    sizes = [1_000, 10_000] if quick else [1_000, 10_000, 50_000]
    with quiet_logs():
        rows = [measure(size) for size in sizes]
    return {
        "title": "order lines: applying one line against a long history (SQLite, medians)",
        "rows": rows,
        "notes": [
            f"{LINES} web orders placed, then each shipped (COMPLETED) through the EventApplier; the baseline scans "
            "the position's movements for the line's commitment, as every line of every order event did before "
            "order lines were records.",
        ],
    }
