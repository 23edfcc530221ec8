"""Square's variation ids per SKU outlive the connector: a restarted connector (new instance, same store) writes
stock without searching the catalog again."""

from __future__ import annotations

import httpx

from connectors.square.client import SquareConnector
from omnibridge.sdk import RetryPolicy
from omnibridge.sdk.channel import PushStatus, StockTarget
from omnibridge.store import Store
from omnibridge.store.channel_memory import StoreChannelMemory

from .test_client_emulator import World


def _restarted(world: World, store: Store) -> SquareConnector:
    connector = SquareConnector(
        world.client.settings,
        transport=httpx.ASGITransport(app=world.emu.app),
        retry_policy=RetryPolicy(max_attempts=6, jitter=0.0),
        clock=world.sleep.clock,
        sleep=world.sleep,
        now=world.clock,
    )
    connector.attach_memory(StoreChannelMemory(store, "square-main"))
    return connector


def _searches(world: World) -> int:
    return world.emu.calls["POST /v2/catalog/search"]


def test_a_restarted_connector_does_not_search_the_catalog_again(store: Store) -> None:
    world = World()

    async def scenario(w: World) -> None:
        w.client.attach_memory(StoreChannelMemory(store, "square-main"))
        first = await w.client.push_levels([StockTarget("TEE-RED-M", w.main, 7), StockTarget("MUG-BLUE", w.mall, 2)])
        assert {r.status for r in first} == {PushStatus.APPLIED}
        searches = _searches(w)
        assert searches > 0

        restarted = _restarted(w, store)
        try:
            again = await restarted.push_levels(
                [StockTarget("TEE-RED-M", w.main, 5), StockTarget("MUG-BLUE", w.mall, 1)]
            )
        finally:
            await restarted.aclose()
        assert {r.status for r in again} == {PushStatus.APPLIED}
        assert _searches(w) == searches  # 0 catalog searches after the restart

    world.run(scenario)


def test_a_catalog_change_forgets_the_remembered_ids(store: Store) -> None:
    world = World()

    async def scenario(w: World) -> None:
        memory = StoreChannelMemory(store, "square-main")
        w.client.attach_memory(memory)
        await w.client.resolve_skus(["TEE-RED-M"])
        assert set(memory.load("variation_id")) == {"tee-red-m"}
        w.client.forget_catalog()
        assert memory.load("variation_id") == {}

    world.run(scenario)
