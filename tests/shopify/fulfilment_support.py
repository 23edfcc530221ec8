"""A Shopify emulator with three locations and a connected client, for the fulfilment tests: every request the
client sends is recorded and checked against Shopify's official schema of the version in its URL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.shopify.client import ShopifyClient
from connectors.shopify.emulator import ShopifyEmulator, ShopifyEmulatorConfig
from omnibridge.sdk.emulator import RequestRecorder, read_recorded

from .client_support import FakeTime, schema_errors, settings

T = TypeVar("T")
START = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
HOOK_URL = "http://omnibridge.test/hooks"
TENT, STOVE = "TENT-2P", "STOVE-1B"


class FailingTransport(httpx.AsyncBaseTransport):
    """The emulator's transport, answering 503 instead to requests whose body holds ``fail_on`` (not sent on)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.fail_on: str | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        if self.fail_on is not None and self.fail_on in body.decode():
            return httpx.Response(503, json={"errors": "Service Unavailable"})
        return await self.inner.handle_async_request(request)


class Shop:
    """Main warehouse (tent 10, stove 4), downtown store (tent 5, stove 2), far depot (never stocked the stove)."""

    def __init__(self, version: str, recorded: Path, **overrides: Any) -> None:
        self.version = version
        self.recorded = recorded
        self.time = FakeTime()
        self.received: list[tuple[bytes, dict[str, str]]] = []
        receiver = Starlette(routes=[Route("/hooks", self._receive, methods=["POST"])])
        self.emu = ShopifyEmulator(
            ShopifyEmulatorConfig(webhook_url=HOOK_URL),
            clock=self.wall,
            webhook_transport=httpx.ASGITransport(app=receiver),
            recorder=RequestRecorder("shopify", recorded),
        )
        self.main = self.emu.add_location("Main warehouse")
        self.store = self.emu.add_location("Downtown store")
        self.far = self.emu.add_location("Far depot")
        self.emu.add_product(TENT, "Trail tent", "199.00")
        self.emu.add_product(STOVE, "Camp stove", "49.50")
        for sku, location, quantity in (
            (TENT, self.main, 10),
            (STOVE, self.main, 4),
            (TENT, self.store, 5),
            (STOVE, self.store, 2),
            (TENT, self.far, 1),
        ):
            self.emu.set_available(sku, location, quantity)
        config = settings(
            version,
            shop_url="http://127.0.0.1:8801",
            access_token=self.emu.config.access_token,
            api_secret=self.emu.config.api_secret,
            **overrides,
        )
        self.transport = FailingTransport(httpx.ASGITransport(app=self.emu.app))
        self.client = ShopifyClient(
            config,
            transport=self.transport,
            clock=self.time.clock,
            sleep=self.time.sleep,
            now=self.wall,
        )

    async def _receive(self, request: Request) -> Response:
        self.received.append((await request.body(), dict(request.headers)))
        return Response(status_code=200)

    def wall(self) -> datetime:
        return START + timedelta(seconds=self.time.now - 1000.0)

    def order(self, lines: list[tuple[str, int]]) -> tuple[str, dict[str, str]]:
        """Place an order at the main warehouse; its gid and its line item gids by SKU."""
        payload = self.emu.place_order(lines, self.main)
        order_gid = f"gid://shopify/Order/{payload['id']}"
        return order_gid, {li["sku"]: f"gid://shopify/LineItem/{li['id']}" for li in payload["line_items"]}

    def placement(self, order_gid: str) -> dict[tuple[str, str], int]:
        """(sku, location gid) → units of the order still to ship there, from the emulator's open fulfillment orders."""
        order = self.emu.state.order(int(order_gid.rsplit("/", 1)[1]))
        skus = {li.id: li.sku for li in order.line_items}
        out: dict[tuple[str, str], int] = {}
        for fo in order.fulfillment_orders:
            for line in fo.lines:
                if line.remaining and not fo.closed:
                    key = (skus[line.line_item_id], f"gid://shopify/Location/{fo.location_id}")
                    out[key] = out.get(key, 0) + line.remaining
        return out

    def holds(self, order_gid: str) -> list[str]:
        order = self.emu.state.order(int(order_gid.rsplit("/", 1)[1]))
        return [hold.handle for fo in order.fulfillment_orders for hold in fo.holds]

    def _rows(self) -> list[dict[str, Any]]:
        return read_recorded(self.recorded, "shopify") if self.recorded.exists() else []

    def operations(self) -> list[str]:
        """The GraphQL operation names the client sent, in order."""
        names = []
        for row in self._rows():
            query = row["body"]["query"]
            names.append(query.split("(", 1)[0].split()[-1])
        return names

    def invalid_requests(self) -> list[tuple[str, list[str]]]:
        """Recorded GraphQL requests the official schema of their URL's version rejects."""
        bad = []
        for row in self._rows():
            version = row["path"].split("/")[3]
            body = row["body"]
            problems = schema_errors(version, body["query"], body.get("variables") or {})
            if problems:
                bad.append((body["query"][:60], problems))
        return bad

    def run(self, call: Callable[[ShopifyClient], Awaitable[T]]) -> T:
        async def main() -> T:
            try:
                return await call(self.client)
            finally:
                await self.emu.webhooks.drain()
                await self.client.aclose()
                await self.emu.aclose()

        return asyncio.run(main())
