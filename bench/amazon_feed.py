"""A 10,000-SKU stock change pushed to the Amazon emulator at Amazon's real default rates, against the minimum.

The emulator (:mod:`connectors.amazon.emulator`) runs in this process (``httpx.ASGITransport``) with every
operation's token bucket at Amazon's default usage plan (``rate_scale`` 1.0) and feed processing taking
``FEED_PROCESSING_S``. N listings are seeded at quantity 0; the connector's ``push_levels`` gets one target per SKU
(seeded quantities 1-200). With N at or above ``feed_threshold`` (50) the connector sends the change as
``JSON_LISTINGS_FEED`` feeds of at most 25,000 messages.

* measured: the calls the emulator executed by operation (the upload and download of documents counted by the
  connector), total calls, elapsed seconds, 429s the emulator sent, and whether every SKU shows its target.
* minimum: what the limits allow at best: per feed 1 createFeedDocument + 1 upload + 1 createFeed + 1 getFeed (a
  poll landing exactly when the feed is done) + 1 getFeedDocument + 1 download; the time is the feed's processing
  (every call fits in its operation's burst, so the limits add no wait).
* baseline: the same change one ``patchListingsItem`` per SKU (5/s, burst 5): N calls and ``(N - 5) / 5`` seconds
  of rate limit alone (2,000 s for 10,000 SKUs). A sample of ``PATCH_SAMPLE`` SKUs is pushed that way in the same
  run to check the model against the emulator (its measured seconds beside the model's).
* reads: ``read_levels`` of ``READ_MEASURED`` SKUs against the same emulator, measured (calls, seconds, 429s),
  and of 10,000 SKUs from the bucket model: ``searchListingsItems`` takes 20 SKUs a call at 5/s, burst 5, so
  ``ceil(N / 20)`` calls and ``(calls - 5) / 5`` s (``(calls - 4) / 5`` with the connector's reserve token), against
  one ``getListingsItem`` per SKU (5/s, burst 10): ``(N - 10) / 5`` s.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from typing import Any

import httpx

from bench._quiet import quiet
from connectors.amazon.client import AmazonConnector
from connectors.amazon.emulator import OPERATION_LIMITS, AmazonEmulator, AmazonEmulatorConfig
from connectors.amazon.listings import SEARCH_BATCH
from connectors.amazon.settings import MAX_FEED_MESSAGES, AmazonSettings
from omnibridge.sdk.channel import PushStatus, StockTarget

EMU_URL = "http://amazon.bench"
FEED_PROCESSING_S = 1.0
POLL_SECONDS = 0.25
PATCH_SAMPLE = 25
READ_MEASURED = (100,)
READ_MEASURED_FULL = (100, 1_000)
READ_MODEL = 10_000
SEED = 11
FEED_OPERATIONS = (
    "createFeedDocument",
    "uploadFeedDocument",
    "createFeed",
    "getFeed",
    "getFeedDocument",
    "downloadFeedDocument",
)


def _connector(emu: AmazonEmulator, feed_threshold: int) -> AmazonConnector:
    config = emu.config
    settings = AmazonSettings(
        endpoint=EMU_URL,
        lwa_endpoint=f"{EMU_URL}/auth/o2/token",
        client_id=config.client_id,
        client_secret=config.client_secret,
        refresh_token=config.refresh_token,
        seller_id=config.seller_id,
        marketplace_id=config.marketplace_id,
        feed_threshold=feed_threshold,
        feed_poll_seconds=POLL_SECONDS,
    )
    return AmazonConnector(settings, transport=httpx.ASGITransport(app=emu.app))


def _emulator(skus: list[str]) -> AmazonEmulator:
    emu = AmazonEmulator(AmazonEmulatorConfig(feed_processing_s=FEED_PROCESSING_S))
    for sku in skus:
        emu.control.seed_listing(sku, quantity=0)
    return emu


async def _push(skus: list[str], stock: dict[str, int], feed_threshold: int) -> dict[str, Any]:
    emu = _emulator(skus)
    client = _connector(emu, feed_threshold)
    targets = [StockTarget(sku, "DEFAULT", stock[sku], reference="bench") for sku in skus]
    try:
        await client.api.tokens.token()  # LWA is not part of the push
        started = time.perf_counter()
        results = await client.push_levels(targets)
        seconds = time.perf_counter() - started
    finally:
        await client.aclose()
        await emu.webhooks.aclose()
    calls = dict(emu.control.calls())
    for name in ("uploadFeedDocument", "downloadFeedDocument"):
        if name in client.api.calls:
            calls[name] = client.api.calls[name]
    return {
        "calls": calls,
        "seconds": seconds,
        "throttled": emu.control.refused_requests(),
        "applied": sum(1 for r in results if r.status is PushStatus.APPLIED),
        "shows_target": sum(1 for sku in skus if emu.control.listing_quantity(sku) == stock[sku]),
    }


async def _read(n: int) -> dict[str, Any]:
    skus = [f"READ-{i:06d}" for i in range(n)]
    emu = _emulator(skus)
    client = _connector(emu, feed_threshold=50)
    try:
        await client.api.tokens.token()  # LWA is not part of the read
        started = time.perf_counter()
        levels = await client.read_levels(skus)
        seconds = time.perf_counter() - started
    finally:
        await client.aclose()
        await emu.webhooks.aclose()
    calls = dict(emu.control.calls())
    return {
        "skus": n,
        "calls": sum(calls.values()),
        "calls_by_operation": calls,
        "seconds": round(seconds, 3),
        "model_seconds": round(_read_model(n, reserve=True)[1], 3),
        "throttled": emu.control.refused_requests(),
        "levels": len(levels),
    }


def _read_model(n: int, *, reserve: bool = False) -> tuple[int, float]:
    """``(calls, seconds)`` for ``read_levels`` of ``n`` SKUs: 20 a ``searchListingsItems`` call, its bucket
    starting full (``reserve``: the connector keeps one token back)."""
    calls = math.ceil(n / SEARCH_BATCH)
    rate, burst = OPERATION_LIMITS["searchListingsItems"]
    return calls, max(0.0, calls - (burst - 1 if reserve else burst)) / rate


def _rate_limit_seconds(operation: str, calls: int) -> float:
    """The least time ``calls`` requests of ``operation`` need when its bucket starts full."""
    rate, burst = OPERATION_LIMITS[operation]
    return max(0.0, calls - burst) / rate


async def measure(n: int, reads: tuple[int, ...] = READ_MEASURED) -> dict[str, Any]:
    rng = random.Random(SEED)
    skus = [f"AMZ-{i:06d}" for i in range(n)]
    stock = {sku: rng.randint(1, 200) for sku in skus}
    feed = await _push(skus, stock, feed_threshold=50)
    sample = await _push(skus[:PATCH_SAMPLE], stock, feed_threshold=PATCH_SAMPLE + 1)
    measured_reads = [await _read(count) for count in reads]
    read_calls, read_seconds = _read_model(READ_MODEL)
    _, read_connector_seconds = _read_model(READ_MODEL, reserve=True)
    feeds = math.ceil(n / MAX_FEED_MESSAGES)
    minimum = {operation: feeds for operation in FEED_OPERATIONS}
    feed_calls = {operation: feed["calls"].get(operation, 0) for operation in FEED_OPERATIONS}
    other_calls = {k: v for k, v in feed["calls"].items() if k not in feed_calls}
    total = sum(feed["calls"].values())
    minimum_total = sum(minimum.values())
    limits_seconds = max(_rate_limit_seconds(op, minimum[op]) for op in FEED_OPERATIONS if op in OPERATION_LIMITS)
    minimum_seconds = limits_seconds + FEED_PROCESSING_S
    baseline_seconds = _rate_limit_seconds("patchListingsItem", n)
    sample_model = _rate_limit_seconds("patchListingsItem", PATCH_SAMPLE)
    patch_rate, patch_burst = OPERATION_LIMITS["patchListingsItem"]
    # The connector keeps one token of each bucket in reserve (see connectors.amazon.ratelimits).
    sample_connector_model = max(0.0, PATCH_SAMPLE - (patch_burst - 1)) / patch_rate
    return {
        "skus": n,
        "feeds": feeds,
        "calls_by_operation": feed_calls,
        "other_calls": other_calls,
        "total_calls": total,
        "minimum_calls": minimum_total,
        "calls_vs_minimum": round(total / minimum_total, 3),
        "seconds": round(feed["seconds"], 3),
        "minimum_seconds": round(minimum_seconds, 3),
        "seconds_vs_minimum": round(feed["seconds"] / minimum_seconds, 3),
        "throttled_responses": feed["throttled"],
        "applied": feed["applied"],
        "emulator_shows_target": feed["shows_target"],
        "baseline_patch_calls": n,
        "baseline_patch_seconds": round(baseline_seconds, 1),
        "speedup_vs_patch": round(baseline_seconds / feed["seconds"], 1) if feed["seconds"] else None,
        "patch_sample_skus": PATCH_SAMPLE,
        "patch_sample_calls": sample["calls"].get("patchListingsItem", 0),
        "patch_sample_seconds": round(sample["seconds"], 3),
        "patch_sample_model_seconds": round(sample_model, 3),
        "patch_sample_connector_model_seconds": round(sample_connector_model, 3),
        "patch_sample_throttled": sample["throttled"],
        "reads_measured": measured_reads,
        "read_model_skus": READ_MODEL,
        "read_model_calls": read_calls,
        "read_model_seconds": round(read_seconds, 1),
        "read_model_connector_seconds": round(read_connector_seconds, 1),
        "read_baseline_get_calls": READ_MODEL,
        "read_baseline_get_seconds": round(_rate_limit_seconds("getListingsItem", READ_MODEL), 1),
    }


def run(*, quick: bool = False) -> dict[str, Any]:
    n = 500 if quick else 10_000
    with quiet("omnibridge.http"):
        figures = asyncio.run(measure(n, READ_MEASURED if quick else READ_MEASURED_FULL))
    rows: list[dict[str, Any]] = []
    for operation in FEED_OPERATIONS:
        rate, burst = OPERATION_LIMITS.get(operation, (None, None))
        rows.append(
            {
                "operation": operation,
                "calls": figures["calls_by_operation"][operation],
                "minimum_calls": figures["feeds"],
                "rate_per_s": "" if rate is None else f"{rate:g}",
                "burst": "" if burst is None else burst,
            }
        )
    rows.append(
        {
            "operation": "total (feed)",
            "calls": figures["total_calls"],
            "minimum_calls": figures["minimum_calls"],
            "rate_per_s": "",
            "burst": "",
        }
    )
    rate, burst = OPERATION_LIMITS["patchListingsItem"]
    rows.append(
        {
            "operation": "patchListingsItem per SKU (baseline)",
            "calls": figures["baseline_patch_calls"],
            "minimum_calls": figures["baseline_patch_calls"],
            "rate_per_s": f"{rate:g}",
            "burst": burst,
        }
    )
    search_rate, search_burst = OPERATION_LIMITS["searchListingsItems"]
    notes = [
        f"Feed push of {n:,} SKUs: {figures['seconds']:,.2f} s, minimum {figures['minimum_seconds']:,.2f} s "
        f"(the emulator's {FEED_PROCESSING_S:g} s feed processing; every call fits in its burst), "
        f"{figures['throttled_responses']} throttled responses, {figures['applied']:,} APPLIED, "
        f"{figures['emulator_shows_target']:,} shown by the emulator. Polled every {POLL_SECONDS:g} s.",
        f"Baseline, one patchListingsItem per SKU at Amazon's 5/s (burst 5): {n:,} calls and at least "
        f"{figures['baseline_patch_seconds']:,} s; the feed is {figures['speedup_vs_patch']}x faster.",
        f"Check of that model in the same run: {PATCH_SAMPLE} SKUs patched one by one took "
        f"{figures['patch_sample_seconds']:.2f} s for {figures['patch_sample_calls']} calls (model: "
        f"{figures['patch_sample_model_seconds']:.2f} s at Amazon's burst, "
        f"{figures['patch_sample_connector_model_seconds']:.2f} s with the one token the connector keeps in "
        f"reserve), {figures['patch_sample_throttled']} throttled.",
    ]
    for read in figures["reads_measured"]:
        notes.append(
            f"read_levels {read['skus']:,} SKUs (measured): {read['calls']} calls {read['calls_by_operation']}, "
            f"{read['seconds']:.2f} s (model with the connector's reserve token: {read['model_seconds']:.2f} s), "
            f"{read['throttled']} throttled, {read['levels']:,} levels."
        )
    notes.append(
        f"read_levels {READ_MODEL:,} SKUs: {figures['read_model_calls']} calls, {figures['read_model_seconds']:g} s "
        f"at {search_rate:g}/s burst {search_burst} ({figures['read_model_connector_seconds']:g} s with the "
        f"connector's reserve token); one getListingsItem per SKU would be {READ_MODEL:,} calls, "
        f"{figures['read_baseline_get_seconds']:,} s."
    )
    if figures["other_calls"]:
        notes.append(f"Other calls during the feed push: {figures['other_calls']}")
    return {
        "benchmark": "amazon_feed",
        "title": f"Stock change of {n:,} SKUs to the Amazon emulator at Amazon's default rates",
        "rows": rows,
        "notes": notes,
        **figures,
    }
