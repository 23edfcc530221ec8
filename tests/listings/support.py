"""Helpers for the listings tests: emulated shops with connectors talking to them in process (no sockets)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from support import serve_in_thread

from connectors.shopify.client import ShopifyClient
from connectors.shopify.emulator import ShopifyEmulator, ShopifyEmulatorConfig
from connectors.shopify.settings import ShopifySettings
from connectors.square.client import SquareConnector
from connectors.square.emulator import SquareEmulator, SquareEmulatorConfig
from connectors.square.settings import SquareSettings
from omnibridge.demo import world
from omnibridge.sdk import RetryPolicy
from omnibridge.sdk.emulator import free_port

START = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
TENT, STOVE, LAMP = "TENT-2P", "STOVE-1B", "LAMP-RED"
POS_STOVE = "POS-STOVE"
POLICY = RetryPolicy(max_attempts=3, max_elapsed=60.0, initial_backoff=0.0, multiplier=1.0, jitter=0.0)


class Clock:
    """Wall time that only moves when told (and a monotonic twin for rate limiters)."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return (self.now - START).total_seconds()

    async def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class ShopifyWorld:
    emu: ShopifyEmulator
    client: ShopifyClient

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.emu.aclose()


def shopify_world(version: str = "2025-01") -> ShopifyWorld:
    """A shop selling TENT-2P (199.00) and STOVE-1B (49.50) in USD, and a client on ``version``."""
    clock = Clock()
    emu = ShopifyEmulator(ShopifyEmulatorConfig(), clock=clock)
    location = emu.add_location("Main warehouse")
    emu.add_product(TENT, "Trail tent", "199.00")
    emu.add_product(STOVE, "Camp stove", "49.50")
    emu.set_available(TENT, location, 5)
    settings = ShopifySettings.model_validate(
        {
            "shop_url": "https://demo-outfitters.myshopify.com",
            "access_token": emu.config.access_token,
            "api_version": version,
        }
    )
    client = ShopifyClient(
        settings,
        transport=httpx.ASGITransport(app=emu.app),
        retry_policy=POLICY,
        clock=clock.monotonic,
        sleep=clock.sleep,
        now=clock,
    )
    return ShopifyWorld(emu, client)


@dataclass
class SquareWorld:
    emu: SquareEmulator
    client: SquareConnector
    tent_id: str

    async def aclose(self) -> None:
        await self.client.aclose()
        await self.emu.webhooks.aclose()


def square_world(
    wrap: Callable[[SquareEmulator, httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] | None = None,
) -> SquareWorld:
    """A seller with TENT-2P (19900 cents) and STOVE-1B (4950 cents) in USD, and a connector (whose transport
    ``wrap`` may wrap, e.g. to act on the emulator before a request reaches it)."""
    clock = Clock()
    config = SquareEmulatorConfig(requests_per_second=1000.0, burst=1000)
    emu = SquareEmulator(config, clock=clock, monotonic=clock.monotonic)
    emu.add_location("Downtown store")
    tent_id = emu.add_variation(TENT, "Trail tent", 19900)
    emu.add_variation(STOVE, "Camp stove", 4950)
    settings = SquareSettings.model_validate(
        {"base_url": "https://connect.squareup.test", "access_token": emu.config.access_token}
    )
    transport: httpx.AsyncBaseTransport = httpx.ASGITransport(app=emu.app)
    client = SquareConnector(
        settings,
        transport=wrap(emu, transport) if wrap else transport,
        retry_policy=POLICY,
        clock=clock.monotonic,
        sleep=clock.sleep,
        now=clock,
    )
    return SquareWorld(emu, client, tent_id)


@dataclass
class Served:
    """Both emulators served over HTTP (in a background thread) and a profile whose channels point at them:
    ``web`` (Shopify) and ``pos`` (Square) sell TENT-2P and STOVE-1B (spelt ``POS-STOVE`` on Square, mapped by
    ``sku_aliases``); only the web store sells LAMP-RED."""

    shopify: ShopifyEmulator
    square: SquareEmulator
    profile: Path


@contextmanager
def served_channels(workdir: Path, *, shopify_token: str | None = None) -> Iterator[Served]:
    """Serve seeded emulators on free ports for the duration of the block. ``shopify_token``: the token the shop
    accepts (default: the one the profile sends), to make the web channel refuse every call."""
    shopify = ShopifyEmulator(ShopifyEmulatorConfig(access_token=shopify_token or world.SHOPIFY_TOKEN))
    square = SquareEmulator(
        SquareEmulatorConfig(access_token=world.SQUARE_TOKEN, requests_per_second=1000.0, burst=1000)
    )
    location = shopify.add_location("Main warehouse")
    for sku, title, price in ((TENT, "Trail tent", "199.00"), (STOVE, "Camp stove", "49.50"), (LAMP, "Lamp", "9.99")):
        shopify.add_product(sku, title, price)
        shopify.set_available(sku, location, 1)
    square.add_location("Downtown store")
    square.add_variation(TENT, "Trail tent", 19900)
    square.add_variation(POS_STOVE, "Camp stove", 4950)
    ports = free_port(), free_port()
    profile = world.write_profile(
        workdir,
        shopify_url=f"http://127.0.0.1:{ports[0]}",
        square_url=f"http://127.0.0.1:{ports[1]}",
        receiver_url="http://127.0.0.1:9",
        settings=world.DemoSettings(shopify_api_version="2025-01"),
    )
    with (workdir / "mappings" / "square.yaml").open("a", encoding="utf-8") as mapping:
        mapping.write(f"sku_aliases:\n  {POS_STOVE}: {STOVE}\n")
    with serve_in_thread(shopify.app, square.app, ports=ports):
        yield Served(shopify, square, profile)
