"""Each channel has its own writer: a channel whose writes hang never delays what another channel shows, and the
worker's pass goes on applying deliveries meanwhile (asserted on events, never on time)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Sequence

import pytest

from omnibridge.sdk.channel import (
    OrderEvent,
    OrderEventKind,
    OrderLineEvent,
    PullResult,
    PushResult,
    StockChangeEvent,
    StockChangeKind,
    StockObservedEvent,
    StockTarget,
)
from omnibridge.store import LevelNote, Store
from omnibridge.sync import SyncEngine

from .fake_channel import NOW, TOKEN, FakeChannel, receive, runtime, seed_store

pytestmark = pytest.mark.anyio

SKU, SHOP = "S1", "shop"
GUARD_S = 10
"""Only a guard against hanging: the assertions are on what happened, in which order."""


class Hanging(FakeChannel):
    """Its writes never come back until ``release`` is set (an Amazon feed in processing, a 429 storm)."""

    def __init__(self, locations: Sequence[str]) -> None:
        super().__init__(locations)
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def push_levels(self, targets: Sequence[StockTarget]) -> list[PushResult]:
        self.started.set()
        await self.release.wait()
        return await super().push_levels(targets)


class Watched(FakeChannel):
    """Records every quantity written, and signals each write."""

    def __init__(self, locations: Sequence[str]) -> None:
        super().__init__(locations)
        self.written: list[int] = []
        self.pushed = asyncio.Event()

    async def push_levels(self, targets: Sequence[StockTarget]) -> list[PushResult]:
        results = await super().push_levels(targets)
        self.written += [target.quantity for target in targets]
        self.pushed.set()
        return results


async def test_a_channel_whose_writes_hang_does_not_delay_another_channel(store: Store) -> None:
    seed_store(store, [SKU], [SHOP])
    receive(store, SKU, SHOP, 5)
    slow, fast = Hanging(["A-SHOP"]), Watched(["B-SHOP"])
    slow.levels[(SKU, "A-SHOP")] = 3  # behind: the slow channel has a write to make
    fast.levels[(SKU, "B-SHOP")] = 5
    slow_channel = runtime("slow", slow, {"A-SHOP": SHOP})
    fast_channel = runtime("fast", fast, {"B-SHOP": SHOP})
    store.remember_levels("slow", {(SKU, SHOP): LevelNote(3, "read", None, 3)})
    store.remember_levels("fast", {(SKU, SHOP): LevelNote(5, "read", None, 5)})
    engine = SyncEngine(store, [slow_channel, fast_channel], fetch_wait=None)
    await engine.resolve_locations()
    stop = asyncio.Event()
    worker = asyncio.get_running_loop().create_task(engine.run_worker(stop, idle_seconds=0.05))
    try:
        engine.mark_dirty([SKU])
        await asyncio.wait_for(slow.started.wait(), GUARD_S)  # the slow channel's write is in flight, and hangs
        # a sale on the slow channel arrives while its write hangs: the fast channel must show it
        sale = OrderEvent("o-1", OrderEventKind.COMPLETED, NOW, (OrderLineEvent("1", SKU, 1, "A-SHOP"),))
        slow.webhook_payloads["d-1"] = [sale]
        body = json.dumps({"delivery": "d-1", "topic": "orders/create"}).encode()
        assert engine.receive("slow", body, {"x-token": TOKEN}, "https://example.test/hooks/slow").status == "stored"
        fast.pushed.clear()
        while 4 not in fast.written:
            await asyncio.wait_for(fast.pushed.wait(), GUARD_S)
            fast.pushed.clear()
        assert not slow.release.is_set()  # the slow channel's write was still hanging all along
        assert fast.levels[(SKU, "B-SHOP")] == 4 == store.position(SKU, SHOP).available
    finally:
        slow.release.set()
        stop.set()
        await asyncio.wait_for(worker, GUARD_S)
    await engine.flush()  # flush still writes everything and waits: the slow channel shows the sale too
    assert slow.levels[(SKU, "A-SHOP")] == 4
    await engine.aclose()


class SlowPull(FakeChannel):
    """Its pull (an orders list waiting on a spent rate limit) never comes back until ``release`` is set."""

    def __init__(self, locations: Sequence[str]) -> None:
        super().__init__(locations)
        self.pulling = asyncio.Event()
        self.release = asyncio.Event()

    async def pull_events(self, bookmark: str | None) -> PullResult:
        self.pulling.set()
        await self.release.wait()
        return await super().pull_events(bookmark)


def deliver(engine: SyncEngine, channel: str, delivery_id: str, topic: str) -> None:
    body = json.dumps({"delivery": delivery_id, "topic": topic}).encode()
    assert engine.receive(channel, body, {"x-token": TOKEN}, "https://example.test/hooks").status == "stored"


async def test_a_pull_waiting_on_its_vendor_does_not_hold_up_the_pass(store: Store) -> None:
    """An unexplained level makes the engine pull its channel; while that pull waits (a spent rate limit), the
    worker goes on applying deliveries, and what the pull brings is written once it ends."""
    seed_store(store, [SKU], [SHOP])
    receive(store, SKU, SHOP, 5)
    slow, fast = SlowPull(["A-SHOP"]), Watched(["B-SHOP"])
    slow.levels[(SKU, "A-SHOP")] = 5
    fast.levels[(SKU, "B-SHOP")] = 5
    store.remember_levels("slow", {(SKU, SHOP): LevelNote(5, "read", None, 5)})
    store.remember_levels("fast", {(SKU, SHOP): LevelNote(5, "read", None, 5)})
    channels = [runtime("slow", slow, {"A-SHOP": SHOP}), runtime("fast", fast, {"B-SHOP": SHOP})]
    engine = SyncEngine(store, channels, fetch_wait=None, observe_grace=0)
    await engine.resolve_locations()
    stop = asyncio.Event()
    worker = asyncio.get_running_loop().create_task(engine.run_worker(stop, idle_seconds=0.05))
    try:
        # 4 units received on the slow channel: its level says 9, the receipt itself comes with the pull
        slow.add_event(StockChangeEvent("rcv-1", StockChangeKind.RECEIPT, SKU, "A-SHOP", 4, NOW))
        slow.levels[(SKU, "A-SHOP")] = 9
        slow.webhook_payloads["level"] = [StockObservedEvent(SKU, "A-SHOP", 9, NOW)]
        deliver(engine, "slow", "level", "inventory_levels/update")
        await asyncio.wait_for(slow.pulling.wait(), GUARD_S)  # the pull is waiting on its vendor
        # a sale on the slow channel arrives meanwhile: the fast channel must show it
        sale = OrderEvent("o-1", OrderEventKind.COMPLETED, NOW, (OrderLineEvent("1", SKU, 1, "A-SHOP"),))
        slow.webhook_payloads["sale"] = [sale]
        deliver(engine, "slow", "sale", "orders/create")
        while 4 not in fast.written:
            await asyncio.wait_for(fast.pushed.wait(), GUARD_S)
            fast.pushed.clear()
        assert not slow.release.is_set()  # the pull was still waiting all along
        slow.release.set()
        while 8 not in fast.written:  # the receipt the pull brought is written once it ends
            await asyncio.wait_for(fast.pushed.wait(), GUARD_S)
            fast.pushed.clear()
        assert store.position(SKU, SHOP).on_hand == 8
    finally:
        slow.release.set()
        stop.set()
        await asyncio.wait_for(worker, GUARD_S)
    await engine.aclose()


async def test_a_delivery_stored_on_another_thread_wakes_the_worker(store: Store) -> None:
    """The receiver stores deliveries on its own threads (StoreThreads): the worker, idle on its event loop, is woken
    at once, not at its next idle timeout."""
    seed_store(store, [SKU], [SHOP])
    receive(store, SKU, SHOP, 5)
    pos, web = FakeChannel(["P-SHOP"]), Watched(["W-SHOP"])
    pos.levels[(SKU, "P-SHOP")] = 5
    web.levels[(SKU, "W-SHOP")] = 5
    channels = [runtime("pos", pos, {"P-SHOP": SHOP}), runtime("web", web, {"W-SHOP": SHOP})]
    engine = SyncEngine(store, channels, fetch_wait=None)
    await engine.sync_once()
    pos.webhook_payloads["sale"] = [
        OrderEvent("o-1", OrderEventKind.COMPLETED, NOW, (OrderLineEvent("1", SKU, 1, "P-SHOP"),))
    ]
    body = json.dumps({"delivery": "sale", "topic": "orders/create"}).encode()
    stop = asyncio.Event()
    worker = asyncio.get_running_loop().create_task(engine.run_worker(stop, idle_seconds=3600))
    try:
        await asyncio.sleep(0.1)  # the worker's first pass is over: it is idle, waiting to be woken
        thread = threading.Thread(target=engine.receive, args=("pos", body, {"x-token": TOKEN}, "https://x.test"))
        thread.start()  # not joined: the loop must be idle in its selector while the delivery is stored
        async with asyncio.timeout(GUARD_S):
            while 4 not in web.written:
                await web.pushed.wait()  # nothing else wakes this loop: only the worker's writes
                web.pushed.clear()
    finally:
        stop.set()
        await asyncio.wait_for(worker, GUARD_S)
    await engine.aclose()


async def test_an_idle_worker_stops_as_soon_as_it_is_told(store: Store) -> None:
    """Stopping never waits out the worker's idle interval (an hour here)."""
    seed_store(store, [SKU], [SHOP])
    engine = SyncEngine(store, [runtime("web", Watched(["W-SHOP"]), {"W-SHOP": SHOP})], fetch_wait=None)
    stop = asyncio.Event()
    worker = asyncio.get_running_loop().create_task(engine.run_worker(stop, idle_seconds=3600))
    await asyncio.sleep(0.05)  # idle, waiting to be woken
    stop.set()
    await asyncio.wait_for(worker, GUARD_S)
    await engine.aclose()


class CountedPull(FakeChannel):
    """Counts its pulls."""

    def __init__(self, locations: Sequence[str]) -> None:
        super().__init__(locations)
        self.pulls = 0

    async def pull_events(self, bookmark: str | None) -> PullResult:
        self.pulls += 1
        return await super().pull_events(bookmark)


async def test_a_due_pull_is_taken_once_by_callers_at_the_same_time(store: Store) -> None:
    """A replica runs passes of different channels at once, and its sweep beside them: each looks for due pulls.
    One due pull is taken by one of them, and none fails on it (it was taken by two, and the second failed with a
    KeyError after its deliveries were applied, so its channels were not woken)."""
    seed_store(store, [SKU], [SHOP])
    receive(store, SKU, SHOP, 5)
    web = CountedPull(["W-SHOP"])
    web.levels[(SKU, "W-SHOP")] = 5
    store.remember_levels("web", {(SKU, SHOP): LevelNote(5, "read", None, 5)})
    now = [0.0]
    engine = SyncEngine(store, [runtime("web", web, {"W-SHOP": SHOP})], fetch_wait=None, clock=lambda: now[0])
    await engine.resolve_locations()
    web.levels[(SKU, "W-SHOP")] = 9  # a receipt made on the channel: its level says 9, unexplained
    web.webhook_payloads["level"] = [StockObservedEvent(SKU, "W-SHOP", 9, NOW)]
    deliver(engine, "web", "level", "inventory_levels/update")
    assert await engine.process_pending(["web"]) == 1
    assert web.pulls == 0  # not due yet: the level waits observe_grace for the channel's own events
    now[0] = engine.observe_grace + 1
    await asyncio.wait_for(asyncio.gather(engine.mark_due(), engine.mark_due(), engine.mark_due()), GUARD_S)
    assert web.pulls == 1
    await engine.aclose()
