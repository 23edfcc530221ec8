"""One propagation run: a fresh demo world, sales at a fixed rate on every selling channel in turn, and a watcher
reading every other channel's emulator until it shows each sale (see :mod:`bench.propagation`)."""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._engine_process import EngineProcess
from bench._floors import ChannelFloor
from bench._outcomes import outbox_mark, run_accounts, vendor_counts
from bench._worlds import WORLDS, Knobs, Position, assign_positions, floors, showing
from connectors.amazon.emulator.ratelimit import OPERATION_LIMITS
from connectors.shopify.emulator.cost import MUTATION_COST
from omnibridge.demo.catalog import demo_products
from omnibridge.demo.world import AMAZON, CLOVER, POS, WEB, DemoSettings, DemoWorld, demo_world
from omnibridge.models import MovementKind, StockMovement
from omnibridge.store import utc_now

STOCK = 1_000
"""Units at every sold position after the top-up: enough that no sale is refused at 100/s."""
API_LATENCY_MS = (50.0, 150.0)
WEBHOOK_DELAY_S = (0.1, 0.3)
AMAZON_LISTING_DELAY_S = 5.0
"""Amazon shows an accepted patch or a DONE feed's changes this long after (minutes in production; scaled down so
a run ends, and the floor scales with it)."""
AMAZON_FEED_PROCESSING_S = 10.0
"""From createFeed to DONE (minutes in production; scaled down the same way)."""
ENGINES = ("daemon", "inline")
"""Where the engine runs: ``omnibridge run`` in its own process (the default), or on the benchmark's loop."""
PROFILE = "omnibridge.yaml"
"""The profile :func:`omnibridge.demo.world.demo_world` writes into the work directory."""
SHOPIFY_BUCKET_POINTS = 2000.0
SHOPIFY_RESTORE_PER_S = 100.0
"""Shopify's Standard plan: 100 points/s is the documented current restore rate; the bucket is the documented
example's 2,000 (the legacy pre-2024 plan was 1,000 restoring 50/s)."""
POLL_S = 0.002
DEADLINE_SLACK_S = 30.0
"""Beyond the sales and the wait, how long a run in its own process may overrun before its figures are taken."""
SETTLE_LIMIT_S = 60.0


def settings(world: str) -> DemoSettings:
    """The demo world at production limits: Shopify's Standard plan as documented today (2,000 points restoring
    100/s; api-contracts §1.7), Square 10 requests/s burst 20, Amazon's default usage plan, Clover 16 requests/s
    (the emulators' defaults)."""
    return DemoSettings(
        shopify_bucket_size=SHOPIFY_BUCKET_POINTS,
        shopify_restore_rate=SHOPIFY_RESTORE_PER_S,
        square_requests_per_second=10.0,
        square_burst=20,
        api_latency_ms=API_LATENCY_MS,
        drifted_every=0,
        clover_drifted_every=0,
        every_vendor=world == "every",
        amazon_feed_processing_s=AMAZON_FEED_PROCESSING_S,
    )


@dataclass
class Sale:
    """One unit sold by ``seller``; every channel of ``seen`` must come to show ``target`` at the position."""

    seller: str
    position: Position
    target: int
    accepted_at: float
    seen: dict[str, float | None] = field(default_factory=dict)

    def latency_ms(self, channel: str | None = None) -> float | None:
        """To ``channel``, or (None) until every other channel shows it."""
        times = [self.seen[channel]] if channel is not None else list(self.seen.values())
        if any(t is None for t in times):
            return None
        return (max(t for t in times if t is not None) - self.accepted_at) * 1000


def _senders(world: DemoWorld) -> dict[str, Any]:
    vendors = world.vendors
    return {
        WEB: world.shopify.webhooks,
        POS: world.square.webhooks,
        AMAZON: vendors.amazon.webhooks,
        CLOVER: vendors.clover.webhooks,
    }


def _top_up(world: DemoWorld, name: str) -> None:
    """Every shown position at ``STOCK`` in the ledger and on every vendor (no notification), before the first
    sync, so that sync has nothing to write."""
    now = utc_now()
    shown_by = WORLDS[name]
    for product in demo_products():
        for variant in product.variants:
            sku = variant.sku
            for location_id in sorted({loc for locs in shown_by.values() for loc in locs}):
                on_hand = world.store.position(sku, location_id).on_hand
                world.store.apply(
                    StockMovement(
                        idempotency_key=f"bench:topup:{sku}:{location_id}",
                        source="manual",
                        kind=MovementKind.RECEIPT,
                        sku=sku,
                        location_id=location_id,
                        quantity=STOCK - on_hand,
                        occurred_at=now,
                    )
                )
                if location_id in shown_by[WEB]:
                    world.shopify.set_available(sku, world.shopify_location[location_id], STOCK)
                if location_id in shown_by[POS]:
                    world.square.set_count(sku, world.square_location[location_id], STOCK)
            if AMAZON in shown_by:
                world.vendors.amazon.control.seed_stock(sku, "DEFAULT", STOCK)
            if CLOVER in shown_by:
                world.vendors.clover.seed_stock(sku, STOCK)


async def _first_sync(world: DemoWorld, engine: EngineProcess | None) -> None:
    """The engine's first sync done and its echoes processed: in this process, or (``engine``) the daemon's
    start-up read-back."""
    if engine is not None:
        await engine.caught_up(SETTLE_LIMIT_S)
        await world.drain_webhooks(timeout=SETTLE_LIMIT_S)
        return
    await world.engine.sync_once()
    await world.drain_webhooks(timeout=SETTLE_LIMIT_S)
    while await world.engine.process_pending():
        pass


async def _settle(world: DemoWorld, name: str, assigned: dict[str, list[Position]]) -> None:
    """After the first sync: every rate limit refilled, every channel showing ``STOCK``."""
    spent = world.settings.shopify_bucket_size - world.shopify.bucket.refill()
    square_refill = world.settings.square_burst / world.settings.square_requests_per_second
    await asyncio.sleep(max(spent / world.settings.shopify_restore_rate, square_refill, 1.0))
    deadline = time.perf_counter() + SETTLE_LIMIT_S
    for seller, positions in assigned.items():
        for sku, location_id in positions:
            for channel in showing(name, location_id, seller):
                while (shows := world.shows(channel, sku, location_id)) != STOCK:
                    if time.perf_counter() > deadline:
                        raise RuntimeError(f"{channel} shows {shows} for {sku} at {location_id} after the first sync")
                    await asyncio.sleep(0.1)


def _sell(world: DemoWorld, channel: str, position: Position) -> None:
    sku, location_id = position
    if channel == POS:
        world.square.pos_sale(world.square_location[location_id], [(sku, 1)])
    elif channel == WEB:
        world.shopify.place_order([(sku, 1)], location_id=world.shopify_location[location_id])
    elif channel == AMAZON:
        world.vendors.amazon.control.create_order(sku, 1)
    else:
        world.vendors.clover.pos_sale([(sku, 1)])


async def _watch(world: DemoWorld, outstanding: dict[tuple[str, Position], list[Sale]], done: asyncio.Event) -> None:
    """Read each channel's level of every position with sales it does not show yet; a sale is seen on a channel
    when its level there is at or below the count after the sale (targets only go down)."""
    while not done.is_set() or any(outstanding.values()):
        now = time.perf_counter()
        for (channel, position), sales in outstanding.items():
            if not sales:
                continue
            shows = world.shows(channel, *position)
            while sales and shows <= sales[0].target:
                sales.pop(0).seen[channel] = now
        await asyncio.sleep(POLL_S)


def refusals(world: DemoWorld) -> dict[str, int]:
    """429/THROTTLED answers so far, by channel, from the emulators' own counters."""
    counts = {WEB: int(world.shopify.calls.get("throttled", 0)), POS: int(world.square.calls.get("rate_limited", 0))}
    if world.settings.every_vendor:
        counts[AMAZON] = world.vendors.amazon.control.refused_requests()
        counts[CLOVER] = int(world.vendors.clover.calls.get("rate_limited", 0))
    return counts


def knobs(world: DemoWorld) -> Knobs:
    """The settings of the run's emulators that the floors are computed from."""
    amazon, clover = world.vendors.amazon.config, world.vendors.clover.config
    return Knobs(
        webhook_delay_s={channel: sender.knobs.delay_s for channel, sender in _senders(world).items()},
        latency_ms={
            WEB: world.shopify.config.latency_ms,
            POS: world.square.config.latency_ms,
            AMAZON: amazon.latency_ms,
            CLOVER: clover.latency_ms,
        },
        shopify_restore_per_s=world.shopify.config.restore_rate,
        shopify_mutation_cost=float(MUTATION_COST),
        square_requests_per_s=world.square.config.requests_per_second,
        amazon_patch_per_s=amazon.rate_limits.get("patchListingsItem", OPERATION_LIMITS["patchListingsItem"])[0]
        * amazon.rate_scale,
        amazon_listing_delay_s=amazon.listing_delay_s,
        amazon_feed_processing_s=amazon.feed_processing_s,
        clover_requests_per_s=clover.requests_per_second,
    )


def summary(latencies: list[float]) -> dict[str, float | None]:
    """p50, p99 (nearest rank) and max in ms of ``latencies`` (all None when empty)."""
    ordered = sorted(latencies)
    if not ordered:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None}
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p99_ms": round(percentile(ordered, 99), 1),
        "max_ms": round(ordered[-1], 1),
    }


def percentile(ordered: list[float], pct: float) -> float:
    """The nearest-rank percentile of an ascending list (p99 of 100 values is the 99th)."""
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def _figures(sales: list[Sale], name: str) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    channels: dict[str, dict[str, Any]] = {}
    pairs: dict[str, dict[str, Any]] = {}
    for channel in WORLDS[name]:
        mine = [s for s in sales if channel in s.seen]
        if not mine:
            continue
        seen = [lat for s in mine if (lat := s.latency_ms(channel)) is not None]
        channels[channel] = {**summary(seen), "sales": len(mine), "seen": len(seen)}
        for seller in WORLDS[name]:
            theirs = [s for s in mine if s.seller == seller]
            if theirs:
                seen = [lat for s in theirs if (lat := s.latency_ms(channel)) is not None]
                pairs[f"{seller}->{channel}"] = {**summary(seen), "sales": len(theirs), "seen": len(seen)}
    return channels, pairs


async def measure(
    rate: float,
    seconds: float,
    *,
    wait_s: float,
    seed: int,
    world_name: str,
    engine: str = "daemon",
    workdir: Path | None = None,
    emit: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """``rate`` sales a second for ``seconds`` in a fresh world (in ``workdir``, default a temporary directory),
    then up to ``wait_s`` for the last to be seen. ``engine`` (:data:`ENGINES`): ``daemon`` runs the engine as
    ``omnibridge run`` in its own process, ``inline`` runs its worker on this process's event loop beside the
    emulators. ``emit`` gets the figures before the world winds down (which can take minutes after a backlog); a
    caller running this in a throwaway process may end it there."""
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r}: expected one of {', '.join(ENGINES)}")
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="omnibridge-bench-") as tmp:
            return await measure(
                rate,
                seconds,
                wait_s=wait_s,
                seed=seed,
                world_name=world_name,
                engine=engine,
                workdir=Path(tmp),
                emit=emit,
            )
    assigned = assign_positions(world_name, seed)
    sellers = [c for c in assigned if assigned[c]]
    count = max(len(sellers), int(rate * seconds))
    rng = random.Random(seed + int(rate))
    async with demo_world(workdir, settings(world_name), serve_receiver=engine == "inline") as world:
        for channel, sender in _senders(world).items():
            if channel in WORLDS[world_name]:
                sender.knobs.delay_s = WEBHOOK_DELAY_S
        _top_up(world, world_name)
        daemon = EngineProcess.start(workdir / PROFILE, world.receiver_url) if engine == "daemon" else None
        try:
            await _first_sync(world, daemon)
            await _settle(world, world_name, assigned)
        except BaseException:
            if daemon is not None:
                daemon.kill()
            raise
        world.vendors.amazon.config.listing_delay_s = AMAZON_LISTING_DELAY_S
        refused_before = refusals(world)
        outbox_before, served_before = outbox_mark(world.store), vendor_counts(world)
        stop = asyncio.Event()
        worker = (
            asyncio.get_running_loop().create_task(world.engine.run_worker(stop, idle_seconds=0.25))
            if daemon is None
            else None
        )
        sold: dict[Position, int] = {}
        outstanding: dict[tuple[str, Position], list[Sale]] = {}
        sales: list[Sale] = []
        done = asyncio.Event()
        watcher = asyncio.get_running_loop().create_task(_watch(world, outstanding, done))
        cpu = CpuClock(daemon)
        started = time.perf_counter()
        offered_s: float | None = None

        def figures() -> dict[str, Any]:
            """The figures so far (from the loop at the end, or from the watchdog's thread)."""
            row = _row(
                rate,
                list(sales),
                world_name,
                floors(world_name, rate, assigned, knobs(world)),
                {c: n - refused_before.get(c, 0) for c, n in refusals(world).items()},
                time.perf_counter() - started if offered_s is None else offered_s,
            )
            accounts = run_accounts(world, outbox_before, served_before)
            return {**row, "engine": engine, "cpu_cores": cpu.cores(), **accounts}

        def emit_last(row: dict[str, Any]) -> None:
            if daemon is not None:
                daemon.kill()  # the figures are taken; emit may end this process at once
            if emit is not None:
                emit(row)

        watchdog = _watchdog(seconds + wait_s + DEADLINE_SLACK_S, figures, emit_last if emit else None)
        try:
            for i in range(count):
                delay = started + i / rate - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                seller = sellers[i % len(sellers)]
                position = rng.choice(assigned[seller])
                _sell(world, seller, position)
                sold[position] = sold.get(position, 0) + 1
                sale = Sale(seller, position, STOCK - sold[position], time.perf_counter())
                for channel in showing(world_name, position[1], seller):
                    sale.seen[channel] = None
                    outstanding.setdefault((channel, position), []).append(sale)
                sales.append(sale)
            offered_s = time.perf_counter() - started
            await asyncio.to_thread(cpu.sales_over)
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
            if worker is not None:
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(worker, timeout=2.0)
        if watchdog is not None:
            watchdog.cancel()
        row = figures()
        emit_last(row)
        if daemon is not None:
            await asyncio.to_thread(daemon.stop)
    return row


class CpuClock:
    """CPU used from its creation on, in cores (CPU seconds per wall second): this process's, and the engine
    daemon's when there is one; and the share of that time (and of the sales' time alone) the daemon was writing
    its SQLite store (``engine_store_writing``, ``engine_store_writing_in_sales``, from its
    ``omnibridge_store_write_hold_seconds_total``: near 1, every writer of the daemon queued for the database)."""

    def __init__(self, daemon: EngineProcess | None) -> None:
        self.daemon = daemon
        self.wall = time.perf_counter()
        self.own = time.process_time()
        self.engine = daemon.cpu_seconds() if daemon is not None else 0.0
        self.writing = daemon.store_writing_seconds() if daemon is not None else None
        self.writing_in_sales: float | None = None

    def sales_over(self) -> None:
        """Take the share of the sales' time the daemon was writing its store (``engine_store_writing_in_sales``)."""
        if self.daemon is None or self.writing is None:
            return
        now = self.daemon.store_writing_seconds()
        if now is not None:
            self.writing_in_sales = round((now - self.writing) / max(time.perf_counter() - self.wall, 1e-9), 2)

    def cores(self) -> dict[str, float | None]:
        wall = max(time.perf_counter() - self.wall, 1e-9)
        engine = writing = None
        if self.daemon is not None and self.daemon.process.poll() is None:
            engine = round((self.daemon.cpu_seconds() - self.engine) / wall, 2)
            now = self.daemon.store_writing_seconds()
            if now is not None and self.writing is not None:
                writing = round((now - self.writing) / wall, 2)
        return {
            "benchmark_process": round((time.process_time() - self.own) / wall, 2),
            "engine_process": engine,
            "engine_store_writing": writing,
            "engine_store_writing_in_sales": self.writing_in_sales,
        }


def _watchdog(
    after_s: float, figures: Callable[[], dict[str, Any]], emit: Callable[[dict[str, Any]], None] | None
) -> threading.Timer | None:
    """With ``emit``, a thread that emits the figures so far ``after_s`` from now if the run has not ended: an
    event loop starved by the work it serves fires its own timeouts late or never, and a run must end."""
    if emit is None:
        return None

    def fire() -> None:
        row = figures()
        row["stopped"] = f"stopped {after_s:g} s after the first sale: the event loop did not get back to end the run"
        emit(row)

    timer = threading.Timer(after_s, fire)
    timer.daemon = True
    timer.start()
    return timer


def _row(
    rate: float,
    sales: list[Sale],
    world_name: str,
    channel_floors: dict[str, ChannelFloor],
    refused: dict[str, int],
    offered_s: float,
) -> dict[str, Any]:
    channels, pairs = _figures(sales, world_name)
    for channel, figures in channels.items():
        figures["floor_p99_ms"] = channel_floors[channel].p99_ms
        figures["floor_formula"] = channel_floors[channel].formula
    everywhere = [lat for s in sales if (lat := s.latency_ms()) is not None]
    return {
        "rate": rate,
        "made": len(sales),
        "seen": len(everywhere),
        "achieved_per_s": round(len(sales) / offered_s, 1),
        "refusals": sum(refused.values()),
        "refusals_by_channel": refused,
        "all": summary(everywhere),
        "channels": channels,
        "pairs": pairs,
        "stopped": None,
        "error": None,
    }
