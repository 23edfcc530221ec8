"""Replay: a captured, authentic Shopify body re-sent with fresh (unsigned) ids is stored once and costs no extra
order fetch; the inbox dedupes on the digest of what is signed, on every backend."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from sync.fake_channel import receive, seed_store

import connectors.shopify as shopify
from connectors.shopify.client import ShopifyClient
from connectors.shopify.emulator import ShopifyEmulator, ShopifyEmulatorConfig
from connectors.shopify.settings import ShopifySettings
from omnibridge.config import LoadedChannel, MappingTables
from omnibridge.store import Store
from omnibridge.sync import ChannelRuntime, SyncEngine, receiver_app

pytestmark = pytest.mark.anyio
START = datetime(2026, 11, 23, 19, 0, 0, tzinfo=UTC)
SKU = "TENT-2P"


class Captured:
    def __init__(self) -> None:
        self.deliveries: list[tuple[bytes, dict[str, str]]] = []

    async def endpoint(self, request: Request) -> Response:
        self.deliveries.append((await request.body(), dict(request.headers)))
        return Response(status_code=200)


async def test_200_replays_of_a_captured_body_with_fresh_ids_store_one_entry_and_fetch_the_order_once(
    store: Store,
) -> None:
    captured = Captured()
    emu = ShopifyEmulator(
        ShopifyEmulatorConfig(webhook_url="http://receiver.test/hooks"),
        clock=lambda: START,
        webhook_transport=httpx.ASGITransport(
            app=Starlette(routes=[Route("/hooks", captured.endpoint, methods=["POST"])])
        ),
    )
    main = emu.add_location("Main warehouse")
    emu.add_product(SKU, "Trail tent", "199.00")
    emu.set_available(SKU, main, 10)
    seed_store(store, [SKU], ["wh"])
    receive(store, SKU, "wh", 10)
    settings = ShopifySettings(
        shop_url="https://demo-outfitters.myshopify.com",
        access_token=emu.config.access_token,
        api_secret=emu.config.api_secret,
        api_version="2026-04",
    )
    client = ShopifyClient(settings, transport=httpx.ASGITransport(app=emu.app), now=lambda: START)
    loaded = LoadedChannel(
        id="web",
        connector="shopify",
        spec=shopify.connector,
        settings=settings,
        profile_path=Path("shopify.yaml"),
        mappings=MappingTables(location_map=MappingProxyType({main: "wh"})),
    )
    engine = SyncEngine(store, [ChannelRuntime("web", client, loaded)])
    emu.place_order([(SKU, 2)], location_id=main)
    await emu.webhooks.drain()
    body, headers = next((b, h) for b, h in captured.deliveries if h["x-shopify-topic"] == "orders/create")

    statuses: list[str] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver_app(engine)), base_url="http://d") as http:
        for _ in range(200):
            fresh = {**headers, "x-shopify-webhook-id": str(uuid.uuid4()), "x-shopify-event-id": str(uuid.uuid4())}
            response = await http.post("/webhooks/web", content=body, headers=fresh)
            assert response.status_code == 200
            statuses.append(response.json()["status"])
    assert statuses.count("stored") == 1
    assert statuses.count("duplicate") == 199
    assert len(store.inbox(channel="web")) == 1

    before = dict(emu.calls)
    await engine.process_pending()
    assert emu.calls["order"] - before.get("order", 0) == 1  # one order read, not one per replay
    assert store.position(SKU, "wh").committed == 2
    await engine.aclose()
    await emu.aclose()
