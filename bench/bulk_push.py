"""Initial stock for a whole catalog pushed to the Shopify emulator through the real connector, against the minimum.

The Shopify emulator is served by uvicorn in this process (as the demo does) with its cost bucket at Shopify's
documented legacy Standard figures (1,000 points, 50 restored per second). It holds N SKUs stocked at one
location, all at 0; the ledger's opening stock (seeded, 1-200 per SKU) is pushed with
:meth:`connectors.shopify.client.ShopifyClient.push_levels`, one target per SKU.

* read: the connector learns each SKU's inventory item id (and the compare value) only from a read. Reading every
  SKU of a large catalog is itself cost-bound, so the read is measured separately, on a sample, with the bucket
  out of the way; its cost per SKU gives the bucket time a full read would take. The connector's item cache is
  filled for the other SKUs from the emulator's known state (expected = 0, which is what the emulator shows).
* push: the measured figure. ``api_calls`` = ``inventorySetQuantities`` calls the emulator executed, against the
  minimum ``ceil(n / 250)``; ``seconds`` against the cost-bucket minimum: with the bucket full at the start, the
  points above its size must be restored first, ``max(0, calls x cost per call - bucket size) / restore rate``,
  with the cost per call taken from the emulator's ``actualQueryCost``; ``throttled_responses`` = THROTTLED answers.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench._quiet import quiet
from connectors.shopify.client import ShopifyClient
from connectors.shopify.emulator import ShopifyEmulator, ShopifyEmulatorConfig
from connectors.shopify.queries import SET_QUANTITIES_BATCH
from connectors.shopify.settings import ShopifySettings
from omnibridge.sdk.channel import PushStatus, StockTarget
from omnibridge.sdk.emulator import run_server

TOKEN, SECRET = "shpat_bench", "bench-secret"
API_VERSION = "2026-04"
BUCKET_SIZE, RESTORE_RATE = 1000.0, 50.0
"""Shopify's documented legacy Standard plan bucket (the demo uses the same)."""
READ_SAMPLE = 300
SEED = 5
UNLIMITED = 1e12


@dataclass
class CostMeter(httpx.AsyncBaseTransport):
    """A transport that passes requests through and tallies what Shopify reported for each response."""

    inner: httpx.AsyncBaseTransport = field(default_factory=httpx.AsyncHTTPTransport)
    requests: int = 0
    throttled: int = 0
    actual_costs: list[int] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.requests += 1
        try:
            body = json.loads(response.content)
        except ValueError:
            return response
        errors = body.get("errors") if isinstance(body, dict) else None
        if isinstance(errors, list) and any(
            isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors
        ):
            self.throttled += 1
        cost = ((body.get("extensions") or {}).get("cost") or {}) if isinstance(body, dict) else {}
        if isinstance(cost.get("actualQueryCost"), int):
            self.actual_costs.append(cost["actualQueryCost"])
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()

    def reset(self) -> None:
        self.requests, self.throttled, self.actual_costs = 0, 0, []


def _set_bucket(emulator: ShopifyEmulator, size: float, restore: float) -> None:
    emulator.bucket.maximum = size
    emulator.bucket.restore_rate = restore
    emulator.bucket.reset()


def seed(emulator: ShopifyEmulator, skus: list[str]) -> str:
    """One location stocking every SKU at 0; returns the location gid."""
    location = emulator.add_location("Main warehouse")
    for sku in skus:
        emulator.add_product(sku=sku, title=f"Bench item {sku}", price="10.00")
        emulator.set_available(sku, location, 0)
    return location


async def measure(n: int) -> dict[str, Any]:
    skus = [f"BULK-{i:06d}" for i in range(n)]
    rng = random.Random(SEED)
    stock = {sku: rng.randint(1, 200) for sku in skus}
    emulator = ShopifyEmulator(
        ShopifyEmulatorConfig(
            shop="bench-bulk", access_token=TOKEN, api_secret=SECRET, bucket_size=BUCKET_SIZE, restore_rate=RESTORE_RATE
        )
    )
    location = seed(emulator, skus)
    meter = CostMeter()
    async with run_server(emulator.app) as server:
        settings = ShopifySettings.model_validate(
            {"shop_url": server.url, "access_token": TOKEN, "api_version": API_VERSION}
        )
        client = ShopifyClient(settings, transport=meter)
        try:
            read = await _read(emulator, client, meter, skus[: min(n, READ_SAMPLE)], location)
            # The rest of the catalog's item ids, from the emulator's known state (what a read would have found).
            for sku in skus[read["skus"] :]:
                client._remember(sku, f"gid://shopify/InventoryItem/{emulator.state.item_by_sku(sku).id}")
            expected = {sku: read["levels"].get(sku, 0) for sku in skus}
            targets = [
                StockTarget(
                    sku=sku, location_ref=location, quantity=stock[sku], expected=expected[sku], reference="bulk"
                )
                for sku in skus
            ]
            _set_bucket(emulator, BUCKET_SIZE, RESTORE_RATE)
            meter.reset()
            calls_before = dict(emulator.calls)
            started = time.perf_counter()
            results = await client.push_levels(targets)
            seconds = time.perf_counter() - started
        finally:
            await client.aclose()
            await emulator.aclose()
    calls = {name: count - calls_before.get(name, 0) for name, count in emulator.calls.items()}
    applied = sum(1 for r in results if r.status is PushStatus.APPLIED)
    shows = sum(1 for sku in skus if emulator.available(sku, location) == stock[sku])
    api_calls = calls.get("inventorySetQuantities", 0)
    cost_per_call = max(meter.actual_costs) if meter.actual_costs else 0
    minimum_calls = math.ceil(n / SET_QUANTITIES_BATCH)
    minimum_seconds = max(0.0, minimum_calls * cost_per_call - BUCKET_SIZE) / RESTORE_RATE
    read_points_per_sku = read["points"] / read["skus"] if read["skus"] else 0.0
    return {
        "skus": n,
        "api_calls": api_calls,
        "minimum_calls": minimum_calls,
        "calls_vs_minimum": round(api_calls / minimum_calls, 3),
        "other_calls": sum(v for k, v in calls.items() if k not in ("inventorySetQuantities", "throttled")),
        "throttled_responses": meter.throttled,
        "seconds": round(seconds, 3),
        "minimum_seconds": round(minimum_seconds, 3),
        "seconds_vs_minimum": round(seconds / minimum_seconds, 3) if minimum_seconds else None,
        "cost_per_call": cost_per_call,
        "applied": applied,
        "emulator_shows_target": shows,
        "read_skus": read["skus"],
        "read_calls": read["calls"],
        "read_seconds": round(read["seconds"], 3),
        "read_points_per_sku": round(read_points_per_sku, 2),
        "full_read_bucket_seconds": round(max(0.0, n * read_points_per_sku - BUCKET_SIZE) / RESTORE_RATE, 1),
    }


async def _read(
    emulator: ShopifyEmulator, client: ShopifyClient, meter: CostMeter, skus: list[str], location: str
) -> dict[str, Any]:
    """Read ``skus`` through the connector with the bucket out of the way; what it cost in calls and points."""
    _set_bucket(emulator, UNLIMITED, 0.0)
    meter.reset()
    started = time.perf_counter()
    levels = await client.read_levels(skus)
    seconds = time.perf_counter() - started
    return {
        "skus": len(skus),
        "calls": meter.requests,
        "seconds": seconds,
        "points": sum(meter.actual_costs),
        "levels": {level.sku: level.available for level in levels if level.location_ref == location},
    }


def run(*, quick: bool = False) -> dict[str, Any]:
    n = 2_500 if quick else 50_000
    with quiet("omnibridge.http"):
        figures = asyncio.run(measure(n))
    row = {k: v for k, v in figures.items() if not k.startswith("read_") and k != "full_read_bucket_seconds"}
    read_row = {
        "read_skus": figures["read_skus"],
        "read_calls": figures["read_calls"],
        "read_seconds": figures["read_seconds"],
        "read_points_per_sku": figures["read_points_per_sku"],
        "full_read_bucket_seconds": figures["full_read_bucket_seconds"],
    }
    notes = [
        f"Emulator cost bucket {BUCKET_SIZE:,.0f} points, {RESTORE_RATE:,.0f}/s restore (Shopify's documented "
        f"legacy Standard plan), full at the start of the push; API {API_VERSION}; one location; "
        f"{SET_QUANTITIES_BATCH} quantities per inventorySetQuantities at most.",
        "minimum_seconds = max(0, minimum_calls x cost_per_call - bucket size) / restore rate (0 when the whole push "
        "fits in a full bucket: then the time is the emulator's and connector's own work).",
        f"Read (separate, bucket unlimited): {read_row['read_skus']:,} SKUs in {read_row['read_calls']} calls, "
        f"{read_row['read_seconds']:.2f} s, {read_row['read_points_per_sku']} points per SKU; reading all "
        f"{n:,} SKUs at the documented restore rate would take at least {read_row['full_read_bucket_seconds']:,} s "
        "of bucket time. Targets for the SKUs not read use the emulator's known state (0) as expected.",
        "Goal: api_calls within 5% of minimum_calls, seconds within 20% of minimum_seconds.",
    ]
    return {
        "benchmark": "bulk_push",
        "title": f"Bulk initial push to the Shopify emulator ({n:,} SKUs)",
        "rows": [row],
        "notes": notes,
        **figures,
    }
