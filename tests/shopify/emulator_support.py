"""Helpers for the Shopify emulator tests: a seeded emulator, a settable clock, a GraphQL caller and a webhook
receiver reached through an in-process ASGI transport (no sockets)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.shopify.emulator import ShopifyEmulator, ShopifyEmulatorConfig

TOKEN = "shpat_emulator"
SECRET = "emulator-secret"
SKU = "TENT-2P-GRN"
SKU2 = "STOVE-1B"
HOOK_URL = "http://receiver.test/webhooks/shopify"
START = datetime(2026, 11, 23, 19, 0, 0, tzinfo=UTC)


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Received:
    body: bytes
    headers: dict[str, str]


@dataclass
class Receiver:
    """Collects webhook POSTs; answers ``fail_with`` statuses first (one per request), then 200."""

    received: list[Received] = field(default_factory=list)
    fail_with: list[int] = field(default_factory=list)

    async def endpoint(self, request: Request) -> Response:
        self.received.append(Received(await request.body(), {k.lower(): v for k, v in request.headers.items()}))
        if self.fail_with:
            return Response(status_code=self.fail_with.pop(0))
        return Response(status_code=200)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/webhooks/shopify", self.endpoint, methods=["POST"])])

    def topics(self) -> list[str]:
        return [r.headers["x-shopify-topic"] for r in self.received]


@dataclass
class Shop:
    emu: ShopifyEmulator
    clock: FakeClock
    receiver: Receiver
    location: str
    location2: str
    item_id: str
    item2_id: str


def make_shop(**overrides: Any) -> Shop:
    """An emulator with two locations and two products (10 and 4 available at the first location)."""
    clock = FakeClock()
    receiver = Receiver()
    config = ShopifyEmulatorConfig(webhook_url=HOOK_URL, **overrides)
    emu = ShopifyEmulator(config, clock=clock, webhook_transport=httpx.ASGITransport(app=receiver.app()))
    emu.webhooks.knobs.retry_backoff_s = 0.001
    loc = emu.add_location("Main warehouse")
    loc2 = emu.add_location("Downtown store")
    ref = emu.add_product(sku=SKU, title="Trail tent", price="199.00")
    ref2 = emu.add_product(sku=SKU2, title="Camp stove", price="49.50")
    emu.set_available(SKU, loc, 10)
    emu.set_available(SKU2, loc, 4)
    emu.set_available(SKU, loc2, 3)
    return Shop(emu, clock, receiver, loc, loc2, ref.inventory_item_id, ref2.inventory_item_id)


def client(emu: ShopifyEmulator) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=emu.app), base_url="https://demo-outfitters.myshopify.com"
    )


async def gql(
    http: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    version: str = "2025-01",
    token: str | None = TOKEN,
) -> httpx.Response:
    headers = {"X-Shopify-Access-Token": token} if token is not None else {}
    return await http.post(
        f"/admin/api/{version}/graphql.json", json={"query": query, "variables": variables or {}}, headers=headers
    )


SET_MUTATION = """
mutation Set($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input)%s {
    inventoryAdjustmentGroup { id reason changes { name delta quantityAfterChange item { id } location { id } } }
    userErrors { code field message }
  }
}"""


def set_input(rows: list[dict[str, Any]], *, name: str = "available", **extra: Any) -> dict[str, Any]:
    return {
        "input": {
            "name": name,
            "reason": "correction",
            "referenceDocumentUri": "gid://omnibridge/SyncRun/1",
            "quantities": rows,
            **extra,
        }
    }
