"""Propagation latency: a sale accepted by one channel until the other channel shows the new quantity.

The demo's world (:mod:`omnibridge.demo.world`) runs in one event loop: the Shopify and Square emulators, the
engine's webhook receiver on uvicorn and its worker, all over real HTTP with signed webhooks. The knobs are set to
what the vendors do in production: 50-150 ms per API request, 100-300 ms from an event to its webhook delivery,
Shopify's legacy Standard bucket (1,000 points, 50/s) and Square at 10 requests/s with a burst of 20.

Orders arrive at a fixed rate, alternating a POS sale on Square and a web order on Shopify, each for one unit of a
seeded random (SKU, store) position. Each position is sold on one channel only, so the other channel's level there
changes only through omnibridge: a sale is *seen* when the other emulator's in-memory level reaches the count
after that sale (read directly, so measuring spends none of the rate limit). Latency runs from the moment the
emulator accepted the sale (its Python call returned, webhooks queued) to that moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omnibridge.demo.catalog import POS_LOCATIONS, demo_products
from omnibridge.demo.world import POS, WEB, DemoSettings, DemoWorld, demo_world
from omnibridge.models import MovementKind, StockMovement
from omnibridge.store import utc_now

RATES = (20, 100)
SEED = 5
STOCK = 1_000
"""Units of every SKU at each store after the top-up: enough that no sale is refused at 100/s."""
API_LATENCY_MS = (50.0, 150.0)
WEBHOOK_DELAY_S = (0.1, 0.3)
POLL_S = 0.002
GOAL_P99_MS = 1000.0
QUICK_SECONDS = 3.0
FULL_SECONDS = 20.0
QUICK_WAIT_S = 10.0
FULL_WAIT_S = 30.0
"""How long after the last sale a sale may still be seen; later, it counts as ``timed_out``."""
CHILD_LIMIT_S = 120.0
"""Time allowed beyond sales and wait for start-up, first sync and winding down, before a run is stopped."""

SETTINGS = DemoSettings(
    shopify_bucket_size=1000.0,
    shopify_restore_rate=50.0,
    square_requests_per_second=10.0,
    square_burst=20,
    api_latency_ms=API_LATENCY_MS,
    drifted_every=0,
    every_vendor=False,  # the web store and the POS only: the world this benchmark's baseline was measured in
)

Position = tuple[str, str]


@dataclass
class Sale:
    """One unit sold on ``channel``; the other channel must come to show ``target`` at the position."""

    channel: str
    position: Position
    target: int
    accepted_at: float
    seen_at: float | None = None

    @property
    def latency_ms(self) -> float | None:
        return None if self.seen_at is None else (self.seen_at - self.accepted_at) * 1000


def _other(channel: str) -> str:
    return WEB if channel == POS else POS


def positions_by_channel(seed: int = SEED) -> dict[str, list[Position]]:
    """Every (SKU, store) position, each assigned to the one channel that sells it (half each, seeded)."""
    positions = [(v.sku, location) for p in demo_products() for v in p.variants for location in POS_LOCATIONS]
    random.Random(seed).shuffle(positions)
    half = len(positions) // 2
    return {POS: sorted(positions[:half]), WEB: sorted(positions[half:])}


def _top_up(world: DemoWorld) -> None:
    """Bring every store position to ``STOCK`` in the ledger and on the POS (no webhook), before the first sync."""
    now = utc_now()
    for product in demo_products():
        for variant in product.variants:
            for location_id in POS_LOCATIONS:
                on_hand = world.store.position(variant.sku, location_id).on_hand
                world.store.apply(
                    StockMovement(
                        idempotency_key=f"bench:topup:{variant.sku}:{location_id}",
                        source="manual",
                        kind=MovementKind.RECEIPT,
                        sku=variant.sku,
                        location_id=location_id,
                        quantity=STOCK - on_hand,
                        occurred_at=now,
                    )
                )
                world.square.set_count(variant.sku, world.square_location[location_id], STOCK)


async def _settle(world: DemoWorld) -> None:
    """First sync, then let the echoes of our own writes arrive and be recognised, and both rate limits refill
    (the first sync spent them), before measuring."""
    await world.engine.sync_once()
    await world.shopify.webhooks.drain(timeout=60)
    await world.square.webhooks.drain(timeout=60)
    while await world.engine.process_pending():
        pass
    spent = world.settings.shopify_bucket_size - world.shopify.bucket.refill()
    square_refill = world.settings.square_burst / world.settings.square_requests_per_second
    await asyncio.sleep(max(spent / world.settings.shopify_restore_rate, square_refill))
    for channel in (WEB, POS):
        for sku, location_id in positions_by_channel()[channel]:
            shows = world.shows(_other(channel), sku, location_id)
            if shows != STOCK:
                raise RuntimeError(f"{_other(channel)} shows {shows} for {sku} at {location_id} after the first sync")


def _sell(world: DemoWorld, channel: str, position: Position) -> None:
    sku, location_id = position
    if channel == POS:
        world.square.pos_sale(world.square_location[location_id], [(sku, 1)])
    else:
        world.shopify.place_order([(sku, 1)], location_id=world.shopify_location[location_id])


async def _watch(world: DemoWorld, outstanding: dict[Position, list[Sale]], done: asyncio.Event) -> None:
    """Poll the other channel's level of every position with unseen sales; a sale is seen when the level is at
    or below the count after it (targets of one position only go down, so later sales are checked after it)."""
    while not done.is_set() or any(outstanding.values()):
        now = time.perf_counter()
        for position, sales in outstanding.items():
            if not sales:
                continue
            shows = world.shows(_other(sales[0].channel), *position)
            while sales and shows <= sales[0].target:
                sales.pop(0).seen_at = now
        await asyncio.sleep(POLL_S)


def _throttled(world: DemoWorld) -> int:
    return int(world.shopify.calls.get("throttled", 0)) + int(world.square.calls.get("rate_limited", 0))


def _paced_s(world: DemoWorld) -> float:
    """Seconds both connectors' requests waited for their own rate limiter, in all."""
    return sum(world.pacing(channel)[1] for channel in (WEB, POS))


def _api_calls(world: DemoWorld) -> int:
    ignored = {"throttled", "rate_limited", "injected_error", "invalid", "max_cost_exceeded"}
    return sum(
        int(n) for calls in (world.shopify.calls, world.square.calls) for k, n in calls.items() if k not in ignored
    )


async def measure(rate: float, seconds: float, *, wait_s: float = FULL_WAIT_S, seed: int = SEED) -> dict[str, Any]:
    """Run ``rate`` sales per second for ``seconds`` in a fresh world, then wait up to ``wait_s`` for the last
    sales to be seen; the figures of that run as one row."""
    positions = positions_by_channel(seed)
    rng = random.Random(seed + int(rate))
    count = max(2, int(rate * seconds))
    with tempfile.TemporaryDirectory(prefix="omnibridge-bench-") as tmp:
        async with demo_world(Path(tmp), SETTINGS) as world:
            for sender in (world.shopify.webhooks, world.square.webhooks):
                sender.knobs.delay_s = WEBHOOK_DELAY_S
            _top_up(world)
            await _settle(world)
            throttled_before, calls_before, paced_before = _throttled(world), _api_calls(world), _paced_s(world)
            stop = asyncio.Event()
            worker = asyncio.get_running_loop().create_task(world.engine.run_worker(stop, idle_seconds=0.25))
            sold: dict[Position, int] = {}
            outstanding: dict[Position, list[Sale]] = {p: [] for ps in positions.values() for p in ps}
            sales: list[Sale] = []
            done = asyncio.Event()
            watcher = asyncio.get_running_loop().create_task(_watch(world, outstanding, done))
            started = time.perf_counter()
            try:
                for i in range(count):
                    delay = started + i / rate - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    channel = POS if i % 2 == 0 else WEB
                    position = rng.choice(positions[channel])
                    _sell(world, channel, position)
                    sold[position] = sold.get(position, 0) + 1
                    sale = Sale(channel, position, STOCK - sold[position], time.perf_counter())
                    sales.append(sale)
                    outstanding[position].append(sale)
                offered_s = time.perf_counter() - started
                done.set()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait_s):
                        await asyncio.shield(watcher)
            finally:
                done.set()
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
                stop.set()
                # a pass still busy after the measurement (a backlog) is abandoned, not waited for
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(worker, timeout=2.0)
            throttled = _throttled(world) - throttled_before
            api_calls = _api_calls(world) - calls_before
            paced_s = _paced_s(world) - paced_before
    latencies = sorted(s.latency_ms for s in sales if s.latency_ms is not None)
    return {
        "rate_per_s": rate,
        "sales": len(sales),
        "achieved_per_s": round(len(sales) / offered_s, 1),
        "seen": len(latencies),
        "timed_out": len(sales) - len(latencies),
        "p50_ms": round(statistics.median(latencies), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 99), 1) if latencies else None,
        "max_ms": round(latencies[-1], 1) if latencies else None,
        "api_calls": api_calls,
        "throttled_requests": throttled,
        "paced_s": round(paced_s, 2),
    }


def percentile(ordered: list[float], pct: float) -> float:
    """The nearest-rank percentile of an ascending list (p99 of 100 values is the 99th)."""
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def measure_in_child(rate: int, seconds: float, *, wait_s: float) -> dict[str, Any]:
    """:func:`measure` in a fresh interpreter, killed after ``CHILD_LIMIT_S`` beyond the run's own length.

    A world pushed past what one event loop can serve can take minutes to wind down (thousands of queued requests
    being cancelled); a separate process bounds that, and keeps each rate's world apart from the other's."""
    code = (
        "import asyncio, json, sys\n"
        "from bench._logs import quiet_logs\n"
        "from bench.propagation import measure\n"
        "with quiet_logs():\n"
        f"    row = asyncio.run(measure({rate!r}, {seconds!r}, wait_s={wait_s!r}))\n"
        "print(json.dumps(row))\n"
    )
    limit = seconds + wait_s + CHILD_LIMIT_S
    try:
        done = subprocess.run(  # noqa: S603 - our own interpreter running our own code
            [sys.executable, "-c", code],
            cwd=Path(__file__).resolve().parents[1],
            capture_output=True,
            text=True,
            timeout=limit,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return _failed_row(rate, f"the run did not finish within {limit:g} s and was stopped")
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return _failed_row(rate, f"the run failed (exit {done.returncode}): {reason}")
    row: dict[str, Any] = json.loads(lines[-1])
    row["rate_per_s"] = rate
    row["error"] = None
    return row


def _failed_row(rate: int, error: str) -> dict[str, Any]:
    keys = ("sales", "achieved_per_s", "seen", "timed_out", "p50_ms", "p99_ms", "max_ms", "api_calls")
    return {"rate_per_s": rate, **dict.fromkeys(keys), "throttled_requests": None, "paced_s": None, "error": error}


def run(*, quick: bool = False) -> dict[str, Any]:
    seconds = QUICK_SECONDS if quick else FULL_SECONDS
    wait_s = QUICK_WAIT_S if quick else FULL_WAIT_S
    rows = [measure_in_child(rate, seconds, wait_s=wait_s) for rate in RATES]
    notes = [
        "Shopify and Square emulators in the engine's process (a fresh one per rate), API latency "
        f"{API_LATENCY_MS[0]:g}-{API_LATENCY_MS[1]:g} ms, "
        f"webhook delivery delay {WEBHOOK_DELAY_S[0] * 1000:g}-{WEBHOOK_DELAY_S[1] * 1000:g} ms; Shopify bucket "
        f"{SETTINGS.shopify_bucket_size:g} points restoring {SETTINGS.shopify_restore_rate:g}/s, Square "
        f"{SETTINGS.square_requests_per_second:g} requests/s (burst {SETTINGS.square_burst}); "
        f"{seconds:g} s of sales per rate, seed {SEED}; a sale not seen {wait_s:g} s after the last sale counts as "
        "timed_out (p50/p99/max are over the sales seen).",
        "latency = from the emulator accepting a sale to the other channel's emulator showing the new quantity "
        "(its in-memory state polled every 2 ms); POS sales on Square and web orders on Shopify alternate.",
        "throttled_requests = Shopify THROTTLED answers + Square 429 RATE_LIMITED answers during the run; "
        "api_calls = the other API calls both emulators served in that time; paced_s = seconds the connectors' "
        "requests waited for their own rate limiters (client-side pacing, which avoids throttled answers).",
    ]
    notes += [f"{row['rate_per_s']}/s: {row['error']}" for row in rows if row["error"]]
    for row in rows:
        met = row["p99_ms"] is not None and row["p99_ms"] <= GOAL_P99_MS and not row["timed_out"]
        unseen = f", {row['timed_out']} sales never seen" if row["timed_out"] else ""
        notes.append(
            f"goal p99 <= {GOAL_P99_MS:g} ms at {row['rate_per_s']}/s: {'met' if met else 'NOT met'} "
            f"(p99 {row['p99_ms']} ms{unseen})"
        )
    return {
        "benchmark": "propagation",
        "title": "Propagation: a sale on one channel until the other shows it",
        "rows": rows,
        "notes": notes,
        "rates": {
            str(row["rate_per_s"]): {
                key: row[key] for key in ("p50_ms", "p99_ms", "max_ms", "sales", "throttled_requests")
            }
            for row in rows
        },
    }
