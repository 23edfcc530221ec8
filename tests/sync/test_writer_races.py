"""A channel's own sale applied while its writer is between reading what to write and remembering what it wrote.

The writer remembers only over the known-level row it read (a compare-and-set on its version): a row the sale moved
meanwhile is forgotten and reconciled again after a read, so the sale is never taken for a change the channel made
by itself. The race is forced at the exact points (after the write lands, before it is remembered; after the known
levels are read, before they are remembered), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support import TickingClock

from omnibridge.config.availability import AvailabilityPolicy
from omnibridge.models import MovementKind, StockMovement
from omnibridge.policy import AvailabilityPlanner, ChannelFeed
from omnibridge.sdk.channel import OrderEvent, OrderEventKind, OrderLineEvent, PushResult, StockTarget
from omnibridge.store import LevelNote, Store
from omnibridge.sync import ChannelRuntime, SyncEngine
from omnibridge.sync import reconcile as reconcile_module
from omnibridge.sync.apply import EventApplier
from omnibridge.sync.engine import GRACE_END_MARGIN_SECONDS
from omnibridge.sync.reconcile import DEFAULT_DRIFT_GRACE, VERIFY_AFTER, planned_quantities, reconcile_channel

from .fake_channel import NOW, FakeChannel, receive, runtime, seed_store

pytestmark = pytest.mark.anyio

SKU, SHOP, REF = "S1", "shop", "L-SHOP"


class SaleAfterLanding(FakeChannel):
    """Its sale happens once a write has landed and before the writer remembers it (``hook``)."""

    def __init__(self, locations: Sequence[str]) -> None:
        super().__init__(locations)
        self.hook: Callable[[], object] | None = None

    async def push_levels(self, targets: Sequence[StockTarget]) -> list[PushResult]:
        results = await super().push_levels(targets)
        hook, self.hook = self.hook, None
        if hook is not None:
            hook()
        return results


def sell_one(store: Store, channel: ChannelRuntime, fake: FakeChannel, ref: str) -> None:
    """The channel sells one unit: it shows one fewer, and its order is applied (its known level moves with it)."""
    fake.levels[(SKU, REF)] -= 1
    event = OrderEvent(ref, OrderEventKind.COMPLETED, NOW, (OrderLineEvent("1", SKU, 1, REF),))
    EventApplier(store, channel).apply_all([event])


def world(store: Store, *, compare_and_set: bool) -> tuple[SaleAfterLanding, ChannelRuntime, SyncEngine]:
    seed_store(store, [SKU], [SHOP])
    receive(store, SKU, SHOP, 5)
    fake = SaleAfterLanding([REF])
    fake.levels[(SKU, REF)] = 3
    channel = runtime("web", fake, {REF: SHOP}, compare_and_set=compare_and_set)
    store.remember_levels("web", {(SKU, SHOP): LevelNote(3, "read", None, 3)})
    return fake, channel, SyncEngine(store, [channel])


def assert_known_matches_channel(store: Store, fake: FakeChannel) -> None:
    level = store.known_levels("web", [SKU])[(SKU, SHOP)]
    assert fake.levels[(SKU, REF)] == 4 == store.position(SKU, SHOP).available
    assert (level.quantity, level.certain, level.unexplained_since) == (4, True, None)


@pytest.mark.parametrize("compare_and_set", [False, True], ids=["read-then-write", "write-from-known"])
async def test_own_sale_between_write_and_remember_is_not_taken_for_drift(store: Store, compare_and_set: bool) -> None:
    fake, channel, engine = world(store, compare_and_set=compare_and_set)
    await engine.resolve_locations()
    fake.hook = lambda: sell_one(store, channel, fake, "o-1")
    engine.mark_dirty([SKU])
    await engine.flush()
    assert fake.hook is None  # the sale did happen inside the write
    engine.mark_dirty([SKU])
    await engine.flush()  # one more pass over the SKU: nothing unexplained, nothing waiting
    assert_known_matches_channel(store, fake)
    assert engine.counters.drift_incidents == 0


async def test_own_sale_between_reading_known_levels_and_remembering_them(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, channel, engine = world(store, compare_and_set=False)
    await engine.resolve_locations()
    fake.levels[(SKU, REF)] = 3
    original = reconcile_module._trust_read
    hooked: list[bool] = []

    def sale_after_read(*args: Any) -> Any:
        if not hooked:  # the known levels were just read; the channel's sale is applied before they are remembered
            hooked.append(True)
            sell_one(store, channel, fake, "o-2")
        return original(*args)

    monkeypatch.setattr(reconcile_module, "_trust_read", sale_after_read)
    engine.mark_dirty([SKU])
    await engine.flush()
    assert hooked
    engine.mark_dirty([SKU])
    await engine.flush()
    assert_known_matches_channel(store, fake)
    assert engine.counters.drift_incidents == 0


async def test_the_echo_of_the_write_in_flight_does_not_make_it_forgotten(store: Store) -> None:
    seed_store(store, [SKU], [SHOP])
    receive(store, SKU, SHOP, 3)
    fake = SaleAfterLanding([REF])
    fake.levels[(SKU, REF)] = 5  # above the ledger: the write lowers it to 3
    store.remember_levels("web", {(SKU, SHOP): LevelNote(5, "read", None, 5)})
    engine = SyncEngine(store, [runtime("web", fake, {REF: SHOP})])
    await engine.resolve_locations()
    # the channel's stock notification of our own write (3) is applied before the write is remembered
    fake.hook = lambda: store.observe_level("web", (SKU, SHOP), fake.levels[(SKU, REF)], NOW)
    engine.mark_dirty([SKU])
    await engine.flush()
    assert fake.hook is None
    level = store.known_levels("web", [SKU])[(SKU, SHOP)]
    assert (level.quantity, level.certain, level.unexplained_since) == (3, True, None)
    assert store.pending_decreases([SKU]) == {}
    assert fake.levels[(SKU, REF)] == 3
    assert engine.counters.drift_incidents == 0


async def test_a_first_read_that_includes_a_sale_whose_order_is_on_its_way_does_not_count_it_twice(
    store: Store,
) -> None:
    """The engine's first read of the web already shows a sale made a minute before, whose order has not arrived;
    the read is what the channel is known to show, and the write from it shows the ledger (5). When the order
    arrives it must not move that known level again (to 4, the new target: nothing would be written and the web
    would keep showing 5 while the ledger has 4): it is older than the read, which included it."""
    seed_store(store, [SKU], [SHOP])
    receive(store, SKU, SHOP, 5)
    web = FakeChannel([REF])
    web.levels[(SKU, REF)] = 4  # sold one at NOW - 1 min; the fake's reads are stamped NOW
    channel = runtime("web", web, {REF: SHOP})
    now = [0.0]
    engine = SyncEngine(store, [channel], clock=lambda: now[0])
    await engine.sync_once()
    assert web.levels[(SKU, REF)] == 5  # first sight: the ledger's number is written
    sold = OrderEvent("o-1", OrderEventKind.COMPLETED, NOW - timedelta(minutes=1), (OrderLineEvent("1", SKU, 1, REF),))
    EventApplier(store, channel).apply_all([sold])
    engine.mark_dirty([SKU])
    now[0] += 1
    await engine.flush()
    assert store.position(SKU, SHOP).available == 4
    assert web.levels[(SKU, REF)] == 4  # not 5: the sale the read included was not counted twice
    await engine.aclose()


async def test_a_read_replacing_a_forgotten_level_is_confirmed_so_a_sale_it_included_is_not_counted_twice(
    store: Store,
) -> None:
    """After a write of unknown outcome the position is forgotten; the next read is trusted. When that read already
    shows a sale whose order is still on its way, the order must not move what the channel is known to show a
    second time: it may land exactly on the ledger's target while the channel shows one more. Here the sale is
    stamped with the read's own time (the fake's), so whether the read included it is not known: the order moves
    the level and forgets it, and the next reconcile reads again; the channel ends showing the ledger."""
    seed_store(store, [SKU], [SHOP])
    receive(store, SKU, SHOP, 5)
    web, other = FakeChannel([REF]), FakeChannel(["O-SHOP"])
    web.levels[(SKU, REF)] = 5
    other.levels[(SKU, "O-SHOP")] = 5
    now = [0.0]
    channels = [runtime("web", web, {REF: SHOP}), runtime("other", other, {"O-SHOP": SHOP})]
    engine = SyncEngine(store, channels, clock=lambda: now[0])
    engine.observe_grace = 0  # an unexplained increase is decided at once (its grace is 3 x observe_grace)
    await engine.sync_once()
    other.levels[(SKU, "O-SHOP")] = 4  # the other channel sells one, imported at once: the web should show 4
    sold_elsewhere = OrderEvent("o-2", OrderEventKind.COMPLETED, NOW, (OrderLineEvent("1", SKU, 1, "O-SHOP"),))
    EventApplier(store, engine.channels["other"]).apply_all([sold_elsewhere])
    store.forget_levels("web", [(SKU, SHOP)])  # and a write to the web there had an unknown outcome
    web.levels[(SKU, REF)] = 4  # the web sells one too; its order is still on its way
    engine.mark_dirty([SKU], ["web"])
    await engine.flush()  # the read (4) replaces the forgotten level; 4 is the target: nothing to write
    sold_online = OrderEvent("o-1", OrderEventKind.COMPLETED, NOW, (OrderLineEvent("1", SKU, 1, REF),))
    EventApplier(store, engine.channels["web"]).apply_all([sold_online])  # the order arrives: the web should show 3
    engine.mark_dirty([SKU])
    for _ in range(3):  # the writes, then the re-check of the read when its grace ends
        now[0] += 1
        await engine.flush()
    assert store.position(SKU, SHOP).available == 3
    assert web.levels[(SKU, REF)] == 3  # not 4: the sale the read included was not counted twice
    await engine.aclose()


async def test_a_sale_waiting_for_its_order_does_not_make_the_skus_other_positions_read_first(
    store: Store, clock: TickingClock
) -> None:
    """On a channel with compare-and-set, a SKU's positions are written from what the channel is known to show. One
    position there shows the channel's own sale, reported by a notification older than the check-by-read age,
    confirmed by one read, and not explained yet (its order is on its way): nothing is written there, so the sale
    elsewhere is written at the other position without reading the SKU again (each read of a busy SKU spends the
    vendor's rate limit)."""
    clock.now = NOW  # the store's time, for when the decrease became unexplained
    seed_store(store, [SKU], [SHOP, "wh"])
    receive(store, SKU, SHOP, 5)
    receive(store, SKU, "wh", 5)
    web = FakeChannel([REF, "L-WH"])
    web.levels[(SKU, REF)] = 4  # the web sold one at the shop; its order has not arrived
    web.levels[(SKU, "L-WH")] = 5
    channel = runtime("web", web, {REF: SHOP, "L-WH": "wh"}, compare_and_set=True)
    await channel.resolve_locations()
    store.remember_levels(
        "web", {(SKU, SHOP): LevelNote(5, "read", None, 5), (SKU, "wh"): LevelNote(5, "read", None, 5)}
    )
    store.observe_level("web", (SKU, SHOP), 4, NOW - timedelta(seconds=1))  # the fake's reads are made at NOW
    planner = AvailabilityPlanner(AvailabilityPolicy(), [ChannelFeed("web", 20, frozenset({SHOP, "wh"}))])
    checked = NOW + VERIFY_AFTER + timedelta(seconds=1)
    await reconcile_channel(store, channel, [SKU], planner, now=checked, trust_known=True)
    assert web.calls["read_levels"] == 1  # the notification is checked once, and confirmed: the sale is still there
    assert store.known_levels("web", [SKU])[(SKU, SHOP)].pending_decrease == 1
    movement = StockMovement(
        idempotency_key="pos:sale-1",
        source="pos",
        kind=MovementKind.SALE,
        sku=SKU,
        location_id="wh",
        quantity=2,
        occurred_at=NOW,
        reference="sale-1",
    )
    store.apply(movement)  # a sale elsewhere: the web should show 3 at the warehouse

    later = checked + VERIFY_AFTER + timedelta(seconds=1)
    report = await reconcile_channel(store, channel, [SKU], planner, now=later, trust_known=True)

    assert web.calls["read_levels"] == 1
    assert web.levels == {(SKU, REF): 4, (SKU, "L-WH"): 3}
    assert report.differing == 1
    # the sale left unread is to be looked at again when its grace ends (unexplained since NOW)
    [(position, seconds_left)] = report.grace_ends
    assert position == (SKU, SHOP)
    assert seconds_left == pytest.approx((NOW + DEFAULT_DRIFT_GRACE - later).total_seconds(), abs=0.1)


async def test_a_decrease_waiting_at_its_target_is_read_once_its_grace_ends_and_drift_is_decided(
    store: Store, clock: TickingClock
) -> None:
    """A decrease on the web that no order ever explains (a person took the unit off in the channel's admin): while
    it waits at its target inside its grace, nothing reads it. Once the grace has ended the next reconcile of its
    SKU reads it and decides drift (here the ledger wins and writes the unit back), instead of the position staying
    one unit down on every channel until the read-back."""
    clock.now = NOW  # the store's time, for when the decrease became unexplained
    seed_store(store, [SKU], [SHOP])
    receive(store, SKU, SHOP, 5)
    web = FakeChannel([REF])
    web.levels[(SKU, REF)] = 4
    channel = runtime("web", web, {REF: SHOP}, compare_and_set=True)
    await channel.resolve_locations()
    store.remember_levels("web", {(SKU, SHOP): LevelNote(5, "read", None, 5)})
    store.observe_level("web", (SKU, SHOP), 4, NOW - timedelta(seconds=1))  # the fake's reads are made at NOW
    planner = AvailabilityPlanner(AvailabilityPolicy(), [ChannelFeed("web", 20, frozenset({SHOP}))])
    checked = NOW + VERIFY_AFTER + timedelta(seconds=1)
    await reconcile_channel(store, channel, [SKU], planner, now=checked, trust_known=True)
    assert web.calls["read_levels"] == 1  # confirmed by one read: it waits at its target (4)

    inside = NOW + DEFAULT_DRIFT_GRACE - timedelta(seconds=1)
    waiting = await reconcile_channel(store, channel, [SKU], planner, now=inside, trust_known=True)
    assert web.calls["read_levels"] == 1
    [(position, seconds_left)] = waiting.grace_ends
    assert position == (SKU, SHOP)
    assert seconds_left == pytest.approx(1.0, abs=0.1)
    assert (waiting.drift, web.levels[(SKU, REF)]) == ([], 4)

    ended = NOW + DEFAULT_DRIFT_GRACE + timedelta(seconds=1)
    decided = await reconcile_channel(store, channel, [SKU], planner, now=ended, trust_known=True)
    assert web.calls["read_levels"] == 2
    assert [(d.position, d.policy) for d in decided.drift] == [((SKU, SHOP), "ledger")]
    assert decided.grace_ends == []
    assert store.known_levels("web", [SKU])[(SKU, SHOP)].unexplained_since is None
    # the decision no longer holds the unit off the targets: the next reconcile (the engine marks the SKU) writes it
    await reconcile_channel(store, channel, [SKU], planner, now=ended, trust_known=True)
    assert web.levels[(SKU, REF)] == 5


async def test_the_engine_reconciles_a_waiting_decrease_again_when_its_grace_ends(
    store: Store, clock: TickingClock
) -> None:
    """The engine marks the SKU of a position left unread at its target for a reconcile just after its grace
    ends, and not before; that reconcile reads it and decides drift."""
    clock.now = datetime.now(UTC)  # the engine's reconcile times are the wall clock's
    seed_store(store, [SKU], [SHOP])
    receive(store, SKU, SHOP, 5)
    web = FakeChannel([REF])
    web.levels[(SKU, REF)] = 4
    channel = runtime("web", web, {REF: SHOP}, compare_and_set=True)
    grace = timedelta(seconds=30)
    since = clock.now - grace + timedelta(seconds=2)  # a decrease a read confirmed, its grace ending in 2 s
    store.remember_levels("web", {(SKU, SHOP): LevelNote(5, "read", since, 4, since)})
    now = [0.0]
    engine = SyncEngine(store, [channel], clock=lambda: now[0], drift_grace=grace)
    await engine.resolve_locations()
    engine.mark_dirty([SKU], ["web"])
    await engine.flush()
    assert web.calls["read_levels"] == 0  # waiting at its target: not read
    assert store.pending_work("web") == {}

    now[0] = 1.5  # before the grace ends (about 2 s after the flush)
    await engine.mark_due()
    assert store.pending_work("web") == {}
    now[0] = 2.0 + GRACE_END_MARGIN_SECONDS + 0.5
    await engine.mark_due()
    assert set(store.pending_work("web")) == {("web", SKU)}
    await asyncio.sleep(2.5)  # the wall clock the reconcile reads: the grace has ended there too
    await engine.flush()
    assert web.calls["read_levels"] == 1
    assert engine.counters.drift_incidents == 1
    await engine.flush()  # the pass the drift decision marked
    assert web.levels[(SKU, REF)] == 5  # the ledger won: the unit is shown again
    await engine.aclose()


async def test_a_decrease_only_a_notification_reported_is_checked_by_a_read_once_it_is_old(
    store: Store, clock: TickingClock
) -> None:
    """Shopify stamps a stock notification to the second: the decrease of a sale and the restock of its cancellation
    in the same second can arrive in either order. The decrease arriving last is a near-tie: recorded as unexplained
    (nothing applied explains it), it holds the position's targets one unit down, its own included, so nothing
    would ever be written there. While the notification is fresh nothing is read (its order may be on its way);
    once it is older than the check-by-read age the SKU is read, the channel is found showing what it is known to
    show, and the decrease no longer holds any target down."""
    clock.now = NOW  # the store's time, for when the decrease became unexplained
    seed_store(store, [SKU], [SHOP])
    receive(store, SKU, SHOP, 5)
    web = FakeChannel([REF])
    web.levels[(SKU, REF)] = 5  # sold and restocked in the same second: the channel shows what it did before
    channel = runtime("web", web, {REF: SHOP}, compare_and_set=True)
    await channel.resolve_locations()
    store.remember_levels("web", {(SKU, SHOP): LevelNote(5, "read", None, 5)})
    assert not store.observe_level("web", (SKU, SHOP), 4, NOW)  # the sale's notification, arriving last
    planner = AvailabilityPlanner(AvailabilityPolicy(), [ChannelFeed("web", 20, frozenset({SHOP}))])

    fresh = await reconcile_channel(store, channel, [SKU], planner, now=NOW + timedelta(seconds=1), trust_known=True)
    assert (web.calls["read_levels"], fresh.waiting) == (0, [(SKU, SHOP)])
    assert planned_quantities(store, planner, [SKU])[SKU][("web", SHOP)] == 4

    old = NOW + VERIFY_AFTER + timedelta(seconds=1)
    report = await reconcile_channel(store, channel, [SKU], planner, now=old, trust_known=True)
    assert web.calls["read_levels"] == 1
    assert report.settled == [(SKU, SHOP)]
    level = store.known_levels("web", [SKU])[(SKU, SHOP)]
    assert (level.quantity, level.shown, level.unexplained_since) == (5, 5, None)
    assert planned_quantities(store, planner, [SKU])[SKU][("web", SHOP)] == 5
    assert web.levels == {(SKU, REF): 5}


async def test_a_move_found_on_a_later_read_of_an_older_order_moves_what_the_channel_shows(store: Store) -> None:
    """A read's time keeps an order placed well before it from moving what the web is known to show a second time.
    But the order re-read later may show its line moved to another location (a fulfilment order moved): that change
    happened on the channel after the read, though the event carries the order's time, so it moves both positions."""
    seed_store(store, [SKU], [SHOP, "wh"])
    receive(store, SKU, SHOP, 5)
    receive(store, SKU, "wh", 5)
    web = FakeChannel([REF, "L-WH"])
    channel = runtime("web", web, {REF: SHOP, "L-WH": "wh"})
    await channel.resolve_locations()
    store.remember_levels(  # a read at NOW that already shows the order's unit gone from the shop
        "web",
        {
            (SKU, SHOP): LevelNote(4, "read", None, 4, NOW, basis_at=NOW),
            (SKU, "wh"): LevelNote(5, "read", None, 5, NOW, basis_at=NOW),
        },
    )
    placed_at = NOW - timedelta(minutes=1)

    def order(location_ref: str) -> OrderEvent:
        return OrderEvent("o-1", OrderEventKind.PLACED, placed_at, (OrderLineEvent("1", SKU, 1, location_ref),))

    EventApplier(store, channel).apply_all([order(REF)])
    known = store.known_levels("web", [SKU])
    assert (known[(SKU, SHOP)].quantity, known[(SKU, "wh")].quantity) == (4, 5)  # the read included the sale

    EventApplier(store, channel).apply_all([order("L-WH")])  # re-read: the channel moved the line to the warehouse
    known = store.known_levels("web", [SKU])
    assert (known[(SKU, SHOP)].quantity, known[(SKU, "wh")].quantity) == (5, 4)
    assert (store.position(SKU, SHOP).available, store.position(SKU, "wh").available) == (5, 4)


def sold_elsewhere(store: Store, ref: str) -> None:
    """Another channel sells one unit at the shop (imported at once): the web should show one fewer."""
    movement = StockMovement(
        idempotency_key=f"pos:{ref}",
        source="pos",
        kind=MovementKind.SALE,
        sku=SKU,
        location_id=SHOP,
        quantity=1,
        occurred_at=NOW,
        reference=ref,
    )
    store.apply(movement)


def web_at_five(store: Store, *, compare_and_set: bool) -> tuple[SaleAfterLanding, SyncEngine]:
    """The ledger has 5 at the shop and the web is known to show them."""
    seed_store(store, [SKU], [SHOP])
    receive(store, SKU, SHOP, 5)
    fake = SaleAfterLanding([REF])
    fake.levels[(SKU, REF)] = 5
    store.remember_levels("web", {(SKU, SHOP): LevelNote(5, "read", None, 5)})
    channel = runtime("web", fake, {REF: SHOP}, compare_and_set=compare_and_set)
    return fake, SyncEngine(store, [channel])


async def sell_and_flush(store: Store, engine: SyncEngine, ref: str) -> None:
    sold_elsewhere(store, ref)
    engine.mark_dirty([SKU])
    await engine.flush()


@pytest.mark.parametrize("compare_and_set", [False, True], ids=["read-then-write", "write-from-known"])
async def test_the_echo_of_an_earlier_write_arriving_after_a_later_one_is_not_an_increase(
    store: Store, clock: TickingClock, compare_and_set: bool
) -> None:
    """990 written, a sale, 989 written, then the 990 echo, in miniature: the web is written 4 (its notification,
    stamped then, is slow to arrive), another sale, the web written 3 three seconds later; then the echo of 4
    arrives. The web showed 3 after it: not an increase the web made by itself, so nothing is unexplained and
    the next sale is written without a read where the channel has compare-and-set."""
    fake, engine = web_at_five(store, compare_and_set=compare_and_set)
    await engine.resolve_locations()
    await sell_and_flush(store, engine, "s-1")
    echo_at = clock.now.replace(microsecond=0)  # the vendor's stamp (whole seconds) on the notification of 4
    clock.now += timedelta(seconds=3)
    await sell_and_flush(store, engine, "s-2")
    assert fake.levels[(SKU, REF)] == 3
    reads = fake.calls["read_levels"]

    assert store.observe_level("web", (SKU, SHOP), 4, echo_at) is True  # the echo of 4 arrives only now
    assert store.known_levels("web", [SKU])[(SKU, SHOP)].unexplained_since is None

    await sell_and_flush(store, engine, "s-3")
    level = store.known_levels("web", [SKU])[(SKU, SHOP)]
    assert fake.levels[(SKU, REF)] == 2 == store.position(SKU, SHOP).available
    assert (level.quantity, level.certain, level.unexplained_since) == (2, True, None)
    if compare_and_set:
        assert fake.calls["read_levels"] == reads == 0
    assert engine.counters.drift_incidents == 0


async def test_a_restock_on_the_channel_after_our_write_is_noticed_however_slow_the_acknowledgement(
    store: Store, clock: TickingClock
) -> None:
    """The web applies our write (4), a second later its admin restocks 2 units, and our write's acknowledgement
    takes 4 s more to come back. The restock's notification is stamped after our write was sent: it is a change
    the web made, noticed (unexplained, the web is read), not an echo for being older than the acknowledgement."""
    fake, engine = web_at_five(store, compare_and_set=True)
    await engine.resolve_locations()
    restocked: list[datetime] = []

    def restock() -> None:
        clock.now += timedelta(seconds=1)
        fake.levels[(SKU, REF)] += 2
        restocked.append(clock.now.replace(microsecond=0))
        clock.now += timedelta(seconds=4)

    fake.hook = restock
    await sell_and_flush(store, engine, "s-1")
    assert fake.levels[(SKU, REF)] == 6
    assert store.known_levels("web", [SKU])[(SKU, SHOP)].quantity == 4

    assert store.observe_level("web", (SKU, SHOP), 6, restocked[0]) is False
    level = store.known_levels("web", [SKU])[(SKU, SHOP)]
    assert (level.shown, level.unexplained_since is not None) == (6, True)
    engine.mark_dirty([SKU])
    await engine.flush()
    assert fake.calls["read_levels"] == 1  # the web is read: what it shows is checked, not taken for granted
