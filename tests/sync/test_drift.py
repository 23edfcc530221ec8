"""A channel that wins a drift decision: its change is an adjustment dated when it was first seen, so no real
movement recorded before or after the decision loses its effect (issue 12, defect 2), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from omnibridge.config.availability import AvailabilityPolicy
from omnibridge.models import MovementKind, StockMovement
from omnibridge.policy import AvailabilityPlanner, ChannelFeed
from omnibridge.store import KnownLevel, LevelNote, Store
from omnibridge.sync import ChannelRuntime, SyncEngine, reconcile_channel

from .fake_channel import NOW, FakeChannel, receive, runtime, seed_store

pytestmark = pytest.mark.anyio

GRACE = timedelta(seconds=60)
PLANNER = AvailabilityPlanner(AvailabilityPolicy(), [ChannelFeed("pos", 20, frozenset({"shop"}))])
"""The default policy: the POS shows the ledger's available at the shop, unchanged."""


async def pos_world(store: Store, on_hand: int) -> tuple[ChannelRuntime, FakeChannel]:
    """SKU "A" with ``on_hand`` units at the shop; a POS that wins drift shows the shop."""
    seed_store(store, ["A"], ["shop"])
    receive(store, "A", "shop", on_hand)
    fake = FakeChannel(["P-SHOP"])
    fake.levels[("A", "P-SHOP")] = on_hand
    pos = runtime("pos", fake, {"P-SHOP": "shop"}, priority=20, drift="channel")
    await pos.resolve_locations()
    return pos, fake


async def reconcile(store: Store, pos: ChannelRuntime, now: datetime) -> None:
    await reconcile_channel(store, pos, ["A"], PLANNER, drift_grace=GRACE, now=now)


def sale(key: str, quantity: int, at: datetime) -> StockMovement:
    """A web sale handed over at the shop (imported from another channel, so nothing the POS shows)."""
    return StockMovement(
        idempotency_key=key,
        source="web",
        kind=MovementKind.SALE,
        sku="A",
        location_id="shop",
        quantity=quantity,
        occurred_at=at,
    )


async def test_a_late_sale_keeps_its_effect_after_the_channel_won(store: Store) -> None:
    pos, fake = await pos_world(store, on_hand=10)
    await reconcile(store, pos, NOW)  # the POS is known to show 10
    fake.levels[("A", "P-SHOP")] = 12  # two units found and typed into the POS
    seen = NOW + timedelta(minutes=1)
    await reconcile(store, pos, seen)  # unexplained since `seen`: wait for the POS's own events
    decided = seen + timedelta(seconds=90)
    await reconcile(store, pos, decided)  # the grace period is over: the POS wins

    assert store.position("A", "shop").on_hand == 12

    # a web sale made while the POS change waited for its grace period, imported only after the decision
    store.apply(sale("web:late", 1, seen + timedelta(seconds=30)), allow_shortfall=True)
    assert store.position("A", "shop").on_hand == 11  # not erased by the channel's decision (was 12)
    (won,) = [m for m in store.movements("A", "shop") if m.movement.source == "pos"]
    assert (won.movement.kind, won.movement.quantity, won.movement.occurred_at) == (MovementKind.ADJUSTMENT, 2, seen)
    (incident,) = store.incidents(kind="drift")
    assert (incident.decision, incident.data["adjustment"]) == ("channel_wins", 2)
    await reconcile(store, pos, decided + timedelta(seconds=1))
    assert fake.levels[("A", "P-SHOP")] == 11  # and the POS follows the ledger again


async def test_a_sale_recorded_while_the_change_waited_keeps_its_effect(store: Store) -> None:
    pos, fake = await pos_world(store, on_hand=10)
    await reconcile(store, pos, NOW)
    fake.levels[("A", "P-SHOP")] = 12
    seen = NOW + timedelta(minutes=1)
    await reconcile(store, pos, seen)
    store.apply(sale("web:meanwhile", 1, seen + timedelta(seconds=30)), allow_shortfall=True)
    await reconcile(store, pos, seen + timedelta(seconds=40))  # still waiting: an increase is held as it is
    assert fake.levels[("A", "P-SHOP")] == 12

    await reconcile(store, pos, seen + timedelta(seconds=90))
    assert store.position("A", "shop").on_hand == 11  # 10 + 2 found on the POS - 1 sold on the web (was 12)
    (incident,) = store.incidents(kind="drift")
    assert (incident.data["shown"], incident.data["last_known"], incident.data["target"]) == (12, 10, 9)
    assert incident.data["adjustment"] == 2
    assert "on hand adjusted by +2" in incident.summary


async def test_a_stock_take_after_the_change_was_seen_has_seen_it_too(store: Store) -> None:
    pos, fake = await pos_world(store, on_hand=10)
    await reconcile(store, pos, NOW)
    fake.levels[("A", "P-SHOP")] = 12
    seen = NOW + timedelta(minutes=1)
    await reconcile(store, pos, seen)
    count = StockMovement(
        idempotency_key="stock-take",
        source="manual",
        kind=MovementKind.COUNT,
        sku="A",
        location_id="shop",
        quantity=11,
        occurred_at=seen + timedelta(seconds=20),
    )
    store.apply(count, allow_shortfall=True)  # the shelf, counted after the POS change: 11

    decided = seen + timedelta(seconds=90)
    await reconcile(store, pos, decided)
    assert store.position("A", "shop").on_hand == 11  # the count stands; the POS's change is in it
    (incident,) = store.incidents(kind="drift")
    assert (incident.data["adjustment"], incident.data["superseded_by_count"]) == (2, True)
    assert "a later count had already seen" in incident.summary
    await reconcile(store, pos, decided + timedelta(seconds=1))
    assert fake.levels[("A", "P-SHOP")] == 11


async def test_deciding_again_after_a_stop_records_the_change_once(store: Store) -> None:
    pos, fake = await pos_world(store, on_hand=10)
    await reconcile(store, pos, NOW)
    fake.levels[("A", "P-SHOP")] = 12
    seen = NOW + timedelta(minutes=1)
    await reconcile(store, pos, seen)
    levels = store.known_levels("pos", ["A"])
    await reconcile(store, pos, seen + timedelta(seconds=90))
    # the process stopped after the decision and before what the POS shows was remembered; the POS moved again
    store.remember_levels("pos", {key: _note(level) for key, level in levels.items()})
    fake.levels[("A", "P-SHOP")] = 13
    await reconcile(store, pos, seen + timedelta(seconds=120))

    assert [m.movement.quantity for m in store.movements("A", "shop") if m.movement.source == "pos"] == [2]
    assert len(store.incidents(kind="drift")) == 1


def _note(level: KnownLevel) -> LevelNote:
    assert level.shown is not None
    return LevelNote(level.quantity, level.source, level.unexplained_since, level.shown, level.shown_at)


async def test_a_pos_that_shows_3_and_wins_makes_available_3_and_is_not_rewritten(store: Store) -> None:
    seed_store(store, ["A"], ["wh", "shop"])
    receive(store, "A", "shop", 5)
    web, pos = FakeChannel(["W-SHOP"]), FakeChannel(["P-SHOP"])
    web.levels[("A", "W-SHOP")] = 0
    pos.levels[("A", "P-SHOP")] = 0
    engine = SyncEngine(
        store,
        [
            runtime("web", web, {"W-SHOP": "shop"}, priority=10),
            runtime("pos", pos, {"P-SHOP": "shop"}, priority=20, drift="channel"),
        ],
        drift_grace=timedelta(minutes=5),
        observe_grace=0,
    )
    await engine.sync_once()
    assert pos.levels[("A", "P-SHOP")] == 5
    pos.levels[("A", "P-SHOP")] = 3  # the store counted 3 and typed it into the POS

    await engine.sync_once()  # a decrease: the grace period for the POS's own sales to explain it
    assert store.incidents(kind="drift") == []
    engine.drift_grace = timedelta(0)  # the grace period is over
    writes = pos.calls["push_levels"]
    await engine.sync_once()
    await engine.sync_once()

    position = store.position("A", "shop")
    assert (position.on_hand, position.available) == (3, 3)  # was 5: the count worked back from a lowered target
    assert pos.levels[("A", "P-SHOP")] == 3
    assert pos.calls["push_levels"] == writes  # the POS is not rewritten
    assert web.levels[("A", "W-SHOP")] == 3  # every other channel follows
    (incident,) = store.incidents(kind="drift")
    assert (incident.decision, incident.data["adjustment"]) == ("channel_wins", -2)
