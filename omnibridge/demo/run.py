"""``omnibridge demo``: a merchant's day on local emulators, end to end, with its figures.

The demo needs no credentials, no profile and no network: it builds its world in a temporary directory
(:mod:`omnibridge.demo.world`) with every built-in connector — Shopify (web), Square (POS in two stores), Amazon
(marketplace), Clover (POS in a third store), an ERP file feed and EasyPost (carrier) — runs a first sync, starts
the webhook worker, plays the scripted day (:mod:`omnibridge.demo.script`, :mod:`omnibridge.demo.scenes`), then
does a final read-back and checks that every level on every sales channel equals the ledger's projection. The
report says how long each event took to show on the other channels and how many API calls each channel received.

A second act follows in a world of its own, so the stock day's figures stay as they were: order fulfilment
(:mod:`omnibridge.demo.fulfilment_day`): routing to the nearest store, a split, a dropship supplier, ShipBob, a
store's rejection, and shipments confirmed with tracking on Shopify and Amazon. A third, in another world:
click-and-collect and returns (:mod:`omnibridge.demo.collect_day`): a web pickup booked, made ready and collected,
one released by expiry, a curbside arrival on Square, a return at a store counter and a return by post.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from omnibridge.demo import fulfilment, scenes, script
from omnibridge.demo.catalog import demo_products
from omnibridge.demo.collect_day import run_collect_day
from omnibridge.demo.fulfilment_day import run_fulfilment_day
from omnibridge.demo.report import (
    REFUSED_KEYS,
    DemoReport,
    Mismatch,
    amazon_calls,
    amazon_feeds,
    api_calls,
    sync_summary,
    webhook_stats,
)
from omnibridge.demo.vendors import AMAZON, CLOVER, ERP, PARCELS
from omnibridge.demo.worker import DemoWorker
from omnibridge.demo.world import POS, SALES_CHANNELS, WEB, DemoSettings, DemoWorld, demo_world
from omnibridge.sync import projection

__all__ = ["DemoReport", "Emit", "Mismatch", "play", "run_demo"]

Emit = Callable[[str], None]
INDENT = " " * 25


def _agreement(world: DemoWorld) -> tuple[int, list[Mismatch]]:
    checked, mismatches = 0, []
    for product in demo_products():
        for variant in product.variants:
            for channel in SALES_CHANNELS:
                for location_id in world.channel_locations(channel):
                    checked += 1
                    shows = world.shows(channel, variant.sku, location_id)
                    ledger = projection(world.store, variant.sku, location_id)
                    if shows != ledger:
                        mismatches.append(Mismatch(channel, variant.sku, location_id, shows, ledger))
    return checked, mismatches


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


def _emit_first_sync(summary: dict[str, Any], emit: Emit) -> None:
    for name, row in summary.items():
        error = f"  ERROR {row['error']}" if row["error"] else ""
        if name == ERP:
            emit(f"first sync  {name:<6} {row['events_pulled']:>4} counts pulled (no file in the inbox yet){error}")
            continue
        emit(
            f"first sync  {name:<6} {row['levels_checked']:>4} levels read, {row['levels_differing']:>4} differed, "
            f"{row['pushed'].get('applied', 0):>4} pushed{error}"
        )


def _emit_feeds(feeds: list[dict[str, Any]], calls: dict[str, int], emit: Emit) -> None:
    for feed in feeds:
        emit(
            f"amazon feed {feed['feed_type']} {feed['feed_id']}: {feed['messages']} messages in one document "
            f"({feed['document_bytes']} bytes), {feed['processing_status']}: {feed['messages_accepted']} accepted, "
            f"{feed['messages_invalid']} invalid, processed in {feed['processing_seconds']} s"
        )
    operations = ", ".join(f"{name} {count}" for name, count in calls.items() if name not in ("total", *REFUSED_KEYS))
    emit(f"{INDENT}Amazon calls so far: {operations}; QuotaExceeded {calls.get('quota_exceeded', 0)}")


def _describe(record: script.EventRecord) -> str:
    """What happened after the event, for the human-readable output."""
    d = record.detail
    if record.kind == "throttled_burst":
        if record.ms_until_all_channels is None:
            return "TIMED OUT"
        return (
            f"web shows all {d['sales']} after {record.ms_until_all_channels:.0f} ms (p50 {d['p50_ms']} ms)\n"
            f"{INDENT}rate limits: Square answered {d['square_rate_limited_responses']} x 429 RATE_LIMITED, "
            f"Shopify {d['shopify_throttled_responses']} x THROTTLED; the connectors paced "
            f"{d['pos_requests_paced']} + {d['web_requests_paced']} requests "
            f"({d['pos_seconds_waiting_for_rate_limit']:.2f} s + {d['web_seconds_waiting_for_rate_limit']:.2f} s)"
        )
    if record.kind == "web_fulfilment":
        on_hand, committed, available = d["on_hand"], d["committed"], d["available"]
        return (
            f"{record.outcome}: fulfillments/create -> {d['shipped_units']} shipped at the store after "
            f"{record.ms_until_all_channels or 0:.0f} ms: on hand {on_hand[0]} -> {on_hand[1]}, committed "
            f"{committed[0]} -> {committed[1]}, available {available[0]} -> {available[1]} (nothing left committed)"
        )
    if record.kind == "erp_bad_file":
        errors = "".join(f"\n{INDENT}  {line}" for line in d.get("errors", []) if line.strip())
        return f"{record.outcome}: moved to {d.get('moved_to')} with its report{errors}"
    if record.kind == "shipment":
        if not d.get("tracking_code"):
            return record.outcome
        steps = ", ".join(
            f"{step['easypost_status']} -> {step['canonical']} ({step['ms']} ms)" for step in d.get("tracking", [])
        )
        return (
            f"label {d['carrier']} {d['service']} {d['tracking_code']}, {d['cost']} {d['currency']} "
            f"(rated and bought in {d['label_ms']:.0f} ms)\n"
            f"{INDENT}tracker.updated webhooks -> canonical status: {steps}\n"
            f"{INDENT}{record.outcome} after {record.ms_until_all_channels or 0:.0f} ms"
        )
    if record.expectations:
        if record.ms_until_all_channels is None:
            missing = [e for e in record.expectations if e.seen_after_ms is None]
            return "; ".join(f"{e.channel} did not show {e.expected} for {e.sku}: TIMED OUT" for e in missing)
        shown = record.expectations if len(record.expectations) <= 2 else record.expectations[:2]
        seen = ", ".join(
            f"{e.channel} shows {e.expected} (was {e.before}) after {e.seen_after_ms or 0:.0f} ms" for e in shown
        )
        if len(record.expectations) > len(shown):
            seen += f"; all {len(record.expectations)} levels after {record.ms_until_all_channels:.0f} ms"
        if d.get("webhook_attempts"):
            seen += f" (the notification got through on attempt {d['webhook_attempts']})"
        return seen
    return f"{record.outcome} (acknowledged after {record.ms_until_all_channels or 0:.0f} ms)"


async def _settle_echoes(world: DemoWorld) -> int:
    """Our own writes come back as stock notifications (about one per level pushed); let them arrive and be
    recognised as echoes before the day starts, so each event's latency is its own."""
    await world.drain_webhooks(timeout=60)
    echoes = 0
    while processed := await world.engine.process_pending():
        echoes += processed
    await world.carriers.process_pending()
    return echoes


async def play(world: DemoWorld, emit: Emit) -> DemoReport:
    """Run the first sync, the scripted day and the final check inside an already started world."""
    first_summary = sync_summary(await world.engine.sync_once())
    _emit_first_sync(first_summary, emit)
    feeds = amazon_feeds(world.vendors.amazon)
    _emit_feeds(feeds, amazon_calls(world.vendors.amazon, world.engine.channels[AMAZON].connector), emit)
    echoes = await _settle_echoes(world)
    emit(f"first sync  {echoes} notifications of our own writes came back and moved nothing")
    worker = DemoWorker(world.engine)
    worker.start()
    events: list[script.EventRecord] = []

    def show(record: script.EventRecord) -> None:
        events.append(record)
        emit(f"{record.kind:<18} {record.source:<6} {record.description}\n{INDENT}-> {_describe(record)}")

    try:
        show(await script.in_store_sale(world, "TENT-2P-GRN", "boulder", 1))
        order_record, order = await script.online_order(world, "JKT-RAIN-M", "boulder", 2)
        show(order_record)
        show(await fulfilment.web_fulfilment(world, order, "JKT-RAIN-M", "boulder"))
        show(await script.online_return(world, order, "JKT-RAIN-M", "boulder", 1))
        show(await fulfilment.store_count(world, "JKT-RAIN-M", "boulder", -1))
        show(await script.stock_receipt(world, "BOOT-HIKE-42", "fort-collins", 12))
        show(await script.duplicate_webhook(world, "TENT-2P-GRN", "boulder"))
        burst = _pick_burst_skus(world, "fort-collins", 20, {"BOOT-HIKE-42"})
        limit = (world.settings.square_requests_per_second, world.settings.square_burst)
        show(await script.throttled_burst(world, burst, "fort-collins", square_limit=(2.0, 2), restore=limit))
        amazon_record, amazon_order = await scenes.amazon_order(world, "TENT-4P-ORG", 2)
        show(amazon_record)
        show(await scenes.shipment(world, amazon_order))
        show(await scenes.clover_sale(world, "BOOT-HIKE-43", 1))
        counts = {"STOVE-SOLO": 31, "LAMP-BLK": 44, "PACK-65-GRN": 17}
        show(await scenes.erp_count(world, worker, counts, "stock-den-0001.csv"))
        show(await scenes.erp_bad_file(world, worker, "stock-den-0002.csv"))
    finally:
        await worker.stop()  # the engine is not re-entrant: no pass of ours while the worker runs one
        await world.drain_webhooks(timeout=15)
        while await world.engine.process_pending():
            pass
        await world.carriers.process_pending()
    final = await world.engine.sync_once()
    checked, mismatches = _agreement(world)
    amazon = world.vendors.amazon
    return DemoReport(
        first_sync=first_summary,
        events=events,
        final_read_back=sync_summary(final),
        levels_checked=checked,
        mismatches=mismatches,
        api_calls={
            WEB: api_calls(world.shopify.calls, "throttled"),
            POS: api_calls(world.square.calls, "rate_limited"),
            AMAZON: amazon_calls(amazon, world.engine.channels[AMAZON].connector),
            CLOVER: api_calls(
                world.vendors.clover.calls,
                "rate_limited",
            ),
            PARCELS: api_calls(world.vendors.easypost.calls, "rate_limited"),
        },
        webhooks={
            WEB: webhook_stats(world.shopify.webhooks),
            POS: webhook_stats(world.square.webhooks),
            AMAZON: webhook_stats(amazon.webhooks),
            CLOVER: webhook_stats(world.vendors.clover.webhooks),
            PARCELS: webhook_stats(world.vendors.easypost.webhooks),
        },
        engine=dict(vars(world.engine.counters)),
        skus=sum(len(p.variants) for p in demo_products()),
        amazon_feeds=amazon_feeds(amazon),
        carriers={channel: dict(vars(counters)) for channel, counters in world.carriers.counters.items()},
        channels_checked=list(SALES_CHANNELS),
        inconsistencies=[f"{i.check}: {i.subject}: {i.detail}" for i in world.store.verify()],
    )


async def run_demo(
    workdir: Path,
    emit: Emit,
    settings: DemoSettings | None = None,
    *,
    fulfilment_act: bool = True,
    collect_act: bool = True,
) -> DemoReport:
    """Build the world in ``workdir`` and play the stock day, then (``fulfilment_act``) the order-fulfilment act
    in a world of its own (``workdir/fulfilment``), then (``collect_act``) the click-and-collect and returns act
    in another (``workdir/collect``); ``emit`` receives the human-readable lines."""
    report = await _stock_day(workdir, emit, settings)
    if fulfilment_act:
        emit("")
        report.fulfilment = await run_fulfilment_day(workdir / "fulfilment", emit)
    if collect_act:
        emit("")
        report.collect = await run_collect_day(workdir / "collect", emit)
    return report


async def _stock_day(workdir: Path, emit: Emit, settings: DemoSettings | None) -> DemoReport:
    async with demo_world(workdir, settings) as world:
        emit(
            "omnibridge demo: Alpine Outfitters sells one stock on a web store (Shopify), in three stores (Square "
            "POS in two, Clover in one) and on Amazon; its ERP drops stock counts; parcels go out with EasyPost"
        )
        emit(
            f"  catalog {sum(len(p.variants) for p in demo_products())} SKUs; locations den-wh (warehouse), "
            "boulder, fort-collins and golden (stores); every vendor is a local emulator; ledger on SQLite in "
            + str(workdir)
        )
        return await play(world, emit)
