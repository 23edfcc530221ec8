"""Shopify's inventory item ids per SKU outlive the client: a restarted client (new instance, same store) writes
stock by compare-and-set without reading the catalogue for those SKUs again."""

from __future__ import annotations

import json

import httpx

from connectors.shopify.client import ShopifyClient
from omnibridge.sdk.channel import PushStatus, StockTarget
from omnibridge.store import Store
from omnibridge.store.channel_memory import StoreChannelMemory

from .test_client_emulator import World


class CatalogueReads(httpx.AsyncBaseTransport):
    """Forwards to the emulator and counts the ``inventoryItems`` (SKU look-up) queries."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.count = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content or b"{}") if request.method == "POST" else {}
        if "inventoryItems(" in str(body.get("query", "")):
            self.count += 1
        return await self.inner.handle_async_request(request)


def test_a_restarted_client_reads_no_catalogue_for_skus_it_resolved_before(store: Store) -> None:
    world = World("2026-04")
    reads = CatalogueReads(httpx.ASGITransport(app=world.emu.app))

    def client() -> ShopifyClient:
        built = ShopifyClient(
            world.client.settings, transport=reads, clock=world.time.clock, sleep=world.time.sleep, now=world.wall
        )
        built.attach_memory(StoreChannelMemory(store, "shopify-main"))
        return built

    async def scenario(_: ShopifyClient) -> None:
        first = client()
        try:
            applied = await first.push_levels([StockTarget("TENT-2P", world.main, 7, expected=10, reference="r-1")])
        finally:
            await first.aclose()
        assert applied[0].status is PushStatus.APPLIED
        assert reads.count > 0

        before = reads.count
        restarted = client()
        try:
            again = await restarted.push_levels([StockTarget("TENT-2P", world.main, 6, expected=7, reference="r-2")])
        finally:
            await restarted.aclose()
        assert again[0].status is PushStatus.APPLIED
        assert reads.count == before  # 0 catalogue reads after the restart
        assert world.emu.available("TENT-2P", world.main) == 6

    world.run(scenario)
