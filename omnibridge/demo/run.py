"""``omnibridge demo``: a merchant's day on local emulators, end to end, with its figures.

The demo needs no credentials, no profile and no network: it builds its world in a temporary directory
(:mod:`omnibridge.demo.world`), runs a first sync, starts the webhook worker, plays the scripted day
(:mod:`omnibridge.demo.script`), then does a final read-back and checks that every level on every channel
equals the ledger's projection. The report says how long each event took to show on the other channel and
how many API calls each channel received.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omnibridge.demo import script
from omnibridge.demo.catalog import demo_products
from omnibridge.demo.world import POS, WEB, DemoSettings, DemoWorld, demo_world
from omnibridge.sync import SyncReport, projection

Emit = Callable[[str], None]


@dataclass
class Mismatch:
    channel: str
    sku: str
    location_id: str
    shows: int
    ledger: int


@dataclass
class DemoReport:
    first_sync: dict[str, Any]
    events: list[script.EventRecord]
    final_read_back: dict[str, Any]
    levels_checked: int
    mismatches: list[Mismatch]
    api_calls: dict[str, dict[str, int]]
    webhooks: dict[str, dict[str, int]]
    engine: dict[str, int]
    skus: int
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches and all(
            event.outcome in ("propagated", "ignored as duplicate") for event in self.events
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "channels_agree": not self.mismatches,
            "catalog_skus": self.skus,
            "first_sync": self.first_sync,
            "events": [event.as_dict() for event in self.events],
            "final_read_back": self.final_read_back,
            "levels_checked": self.levels_checked,
            "mismatches": [vars(m) for m in self.mismatches],
            "api_calls": self.api_calls,
            "webhooks": self.webhooks,
            "inbox": self.engine,
            "notes": self.notes,
        }


def _sync_summary(report: SyncReport) -> dict[str, Any]:
    return {row["channel"]: row for row in report.as_dict()["channels"]}


def _agreement(world: DemoWorld) -> tuple[int, list[Mismatch]]:
    checked, mismatches = 0, []
    for product in demo_products():
        for variant in product.variants:
            for channel in (WEB, POS):
                for location_id in world.channel_locations(channel):
                    checked += 1
                    shows = world.shows(channel, variant.sku, location_id)
                    ledger = projection(world.store, variant.sku, location_id)
                    if shows != ledger:
                        mismatches.append(Mismatch(channel, variant.sku, location_id, shows, ledger))
    return checked, mismatches


def _api_calls(counter: Any, throttle_key: str) -> dict[str, int]:
    calls = {str(name): int(count) for name, count in dict(counter).items()}
    refused = calls.pop(throttle_key, 0)
    return {"total": sum(calls.values()), throttle_key: refused, **dict(sorted(calls.items()))}


def _webhook_stats(sender: Any) -> dict[str, int]:
    deliveries = list(sender.deliveries)
    return {
        "deliveries": len(deliveries),
        "duplicates_sent": sum(1 for d in deliveries if d.duplicate),
        "attempts": sum(len(d.attempts) for d in deliveries),
        "delivered": sum(1 for d in deliveries if d.delivered),
        "gave_up": sum(1 for d in deliveries if d.gave_up),
    }


def _pick_burst_skus(world: DemoWorld, location_id: str, count: int, exclude: set[str]) -> list[str]:
    chosen: list[str] = []
    for product in demo_products():
        for variant in product.variants:
            if variant.sku in exclude or projection(world.store, variant.sku, location_id) < 1:
                continue
            chosen.append(variant.sku)
            if len(chosen) == count:
                return chosen
    return chosen


async def play(world: DemoWorld, emit: Emit) -> DemoReport:
    """Run the first sync, the scripted day and the final check inside an already started world."""
    first = await world.engine.sync_once()
    first_summary = _sync_summary(first)
    for name, row in first_summary.items():
        emit(
            f"first sync  {name:<4} {row['levels_checked']:>4} levels read, {row['levels_differing']:>4} differed, "
            f"{row['pushed'].get('applied', 0):>4} pushed" + (f"  ERROR {row['error']}" if row["error"] else "")
        )
    # Our own writes come back as stock notifications (about one per level pushed); let them arrive and be
    # recognised as echoes before the day starts, so each event's latency is its own.
    await world.shopify.webhooks.drain(timeout=60)
    await world.square.webhooks.drain(timeout=60)
    echoes = 0
    while processed := await world.engine.process_pending():
        echoes += processed
    emit(f"first sync  {echoes} notifications of our own writes came back and moved nothing")
    stop = asyncio.Event()
    worker = asyncio.get_running_loop().create_task(world.engine.run_worker(stop, idle_seconds=0.25))
    events: list[script.EventRecord] = []

    def show(record: script.EventRecord) -> None:
        events.append(record)
        if record.expectations and record.kind != "throttled_burst":
            first_expectation = record.expectations[0]
            seen = (
                f"{first_expectation.channel} shows {first_expectation.expected} "
                f"(was {first_expectation.before}) after {record.ms_until_all_channels:.0f} ms"
                if record.ms_until_all_channels is not None
                else f"{first_expectation.channel} did not show {first_expectation.expected}: TIMED OUT"
            )
        elif record.kind == "throttled_burst":
            d = record.detail
            seen = (
                f"web shows all {d['sales']} after {record.ms_until_all_channels:.0f} ms (p50 {d['p50_ms']} ms)\n"
                f"{'':<23}   rate limits: Square answered {d['square_rate_limited_responses']} x 429 RATE_LIMITED, "
                f"Shopify {d['shopify_throttled_responses']} x THROTTLED; the connectors paced "
                f"{d['pos_requests_paced']} + {d['web_requests_paced']} requests "
                f"({d['pos_seconds_waiting_for_rate_limit']:.2f} s + {d['web_seconds_waiting_for_rate_limit']:.2f} s)"
                if record.ms_until_all_channels is not None
                else "TIMED OUT"
            )
        else:
            seen = f"{record.outcome} (acknowledged after {record.ms_until_all_channels or 0:.0f} ms)"
        if record.detail.get("webhook_attempts"):
            seen += f" (the notification got through on attempt {record.detail['webhook_attempts']})"
        emit(f"{record.kind:<18} {record.source:<4} {record.description}\n{'':<23}-> {seen}")

    try:
        show(await script.in_store_sale(world, "TENT-2P-GRN", "boulder", 1))
        order_record, order = await script.online_order(world, "JKT-RAIN-M", "boulder", 2)
        show(order_record)
        show(await script.online_return(world, order, "JKT-RAIN-M", "boulder", 1))
        show(await script.stock_receipt(world, "BOOT-HIKE-42", "fort-collins", 12))
        show(await script.duplicate_webhook(world, "TENT-2P-GRN", "boulder"))
        burst = _pick_burst_skus(world, "fort-collins", 20, {"BOOT-HIKE-42"})
        limit = (world.settings.square_requests_per_second, world.settings.square_burst)
        show(await script.throttled_burst(world, burst, "fort-collins", square_limit=(2.0, 2), restore=limit))
    finally:
        await world.shopify.webhooks.drain(timeout=15)
        await world.square.webhooks.drain(timeout=15)
        await world.engine.process_pending()
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
    final = await world.engine.sync_once()
    checked, mismatches = _agreement(world)
    return DemoReport(
        first_sync=first_summary,
        events=events,
        final_read_back=_sync_summary(final),
        levels_checked=checked,
        mismatches=mismatches,
        api_calls={
            WEB: _api_calls(world.shopify.calls, "throttled"),
            POS: _api_calls(world.square.calls, "rate_limited"),
        },
        webhooks={WEB: _webhook_stats(world.shopify.webhooks), POS: _webhook_stats(world.square.webhooks)},
        engine=dict(vars(world.engine.counters)),
        skus=sum(len(p.variants) for p in demo_products()),
    )


async def run_demo(workdir: Path, emit: Emit, settings: DemoSettings | None = None) -> DemoReport:
    """Build the world in ``workdir`` and play the day; ``emit`` receives the human-readable lines."""
    async with demo_world(workdir, settings) as world:
        emit(
            "omnibridge demo: Alpine Outfitters sells one stock on a web store (Shopify emulator) and in two "
            "stores (Square POS emulator)"
        )
        emit(
            f"  catalog {sum(len(p.variants) for p in demo_products())} SKUs; locations den-wh (warehouse), "
            "boulder and fort-collins (stores); ledger on SQLite in " + str(workdir)
        )
        return await play(world, emit)
