"""Clover's item ids per SKU outlive the connector: a restarted connector (new instance, same store) writes stock
without looking its SKUs up again."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from omnibridge.sdk.channel import PushStatus, StockTarget
from omnibridge.sdk.memory import InMemoryChannelMemory
from omnibridge.store import Store
from omnibridge.store.channel_memory import StoreChannelMemory

from .world import MERCHANT, World

SKUS = ["TEE-1", "TEE-2", "MUG-1"]


def _catalogue_reads(world: World) -> int:
    return world.emu.calls["GET /items"]


@pytest.mark.anyio
async def test_a_restarted_connector_does_not_look_its_skus_up_again(store: Store) -> None:
    world = World()
    for sku in SKUS:
        world.emu.add_item(sku, sku.title(), 2500, 10)

    first = world.connector()
    first.attach_memory(StoreChannelMemory(store, "clover-main"))
    results = await first.push_levels([StockTarget(sku, MERCHANT, 4) for sku in SKUS])
    await first.aclose()
    assert {r.status for r in results} == {PushStatus.APPLIED}
    assert _catalogue_reads(world) > 0

    reads_before = _catalogue_reads(world)
    restarted = world.connector()
    restarted.attach_memory(StoreChannelMemory(store, "clover-main"))
    results = await restarted.push_levels([StockTarget(sku, MERCHANT, 6) for sku in SKUS])
    await restarted.aclose()
    assert {r.status for r in results} == {PushStatus.APPLIED}
    assert _catalogue_reads(world) == reads_before  # 0 catalogue requests after the restart
    assert [world.emu.quantity(sku) for sku in SKUS] == [6, 6, 6]


@pytest.mark.anyio
async def test_an_item_gone_from_clover_is_forgotten_and_looked_up_again(store: Store) -> None:
    world = World()
    world.emu.add_item("TEE-1", "Tee", 2500, 10)
    memory = StoreChannelMemory(store, "clover-main")
    memory.remember("item_id", {"TEE-1": "GONEITEM00001"})  # what an earlier run learned; deleted on Clover since

    connector = world.connector()
    connector.attach_memory(memory)
    results = await connector.push_levels([StockTarget("TEE-1", MERCHANT, 3)])
    await connector.aclose()
    assert results[0].status is not PushStatus.APPLIED  # the stale id answered 404; the next cycle looks it up
    assert memory.load("item_id") == {}


class CountingMemory(InMemoryChannelMemory):
    """Counts the writes that reach the memory."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def remember(self, kind: str, entries: Mapping[str, str]) -> None:
        self.writes += bool(entries)
        super().remember(kind, entries)


@pytest.mark.anyio
async def test_reading_levels_again_writes_nothing_to_memory() -> None:
    world = World()
    world.emu.add_item("TEE-1", "Tee", 2500, 10)
    memory = CountingMemory()
    connector = world.connector()
    connector.attach_memory(memory)
    await connector.read_levels(["TEE-1"])
    await connector.read_levels(["TEE-1"])
    await connector.read_levels(["TEE-1"])
    await connector.aclose()
    assert memory.writes == 1  # learned once; unchanged ids are not written again
