"""A burst of concurrent writes through a connector gets no refusal from its emulator, over a network with transit.

The emulators count a request when it arrives; :class:`Transit` delays each request on its way there (and its answer
on the way back) by a seeded random time, as a network does, so arrivals bunch up where sends were evenly paced.
Clover, Square and Amazon (patchListingsItem) are covered; ShipBob's 150 per minute and Shopify's cost bucket by
the limiter property tests (``tests/sdk/test_ratelimit_in_flight.py``), a real-time burst of those would take
minutes. The connectors keep no margin below their vendor's limits: their buckets count each request until its answer.
These run in real time (a couple of seconds each) because transit is concurrency, which the fake clocks of the
connector tests do not model.
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime

import httpx
import pytest
from clover.world import World as CloverWorld

from connectors.amazon.client import AmazonConnector
from connectors.amazon.emulator import AmazonEmulator
from connectors.amazon.settings import AmazonSettings
from connectors.clover.client import CloverConnector
from connectors.square.client import SquareConnector
from connectors.square.emulator import SquareEmulator, SquareEmulatorConfig
from connectors.square.settings import SquareSettings
from omnibridge.sdk import RetryPolicy
from omnibridge.sdk.channel import StockTarget


class Transit(httpx.AsyncBaseTransport):
    """Delays each request before it reaches ``inner`` and its answer after, by up to ``max_delay`` seconds each."""

    def __init__(self, inner: httpx.AsyncBaseTransport, *, seed: int, max_delay: float) -> None:
        self._inner = inner
        self._random = random.Random(seed)
        self._max_delay = max_delay

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(self._random.uniform(0.0, self._max_delay))
        response = await self._inner.handle_async_request(request)
        await response.aread()
        await asyncio.sleep(self._random.uniform(0.0, self._max_delay))
        return response


_ONE_ATTEMPT = RetryPolicy(max_attempts=1)


@pytest.mark.anyio
@pytest.mark.parametrize("seed", [1, 2])
async def test_a_burst_of_clover_writes_is_never_refused(seed: int) -> None:
    world = CloverWorld()
    world.emu.monotonic = time.monotonic
    skus = [f"TEE-{i}" for i in range(36)]
    for sku in skus:
        world.emu.add_item(sku, "Tee", 2500, 10)
    connector = CloverConnector(
        world.settings(),
        transport=Transit(httpx.ASGITransport(app=world.emu.app), seed=seed, max_delay=0.03),
        retry_policy=_ONE_ATTEMPT,
        now=world.wall,
    )
    try:
        await connector.resolve_skus(skus)
        refused_before = world.emu.refused
        results = await asyncio.gather(
            *(connector.push_levels([StockTarget(sku, world.settings().merchant_id, 3)]) for sku in skus)
        )
    finally:
        await connector.aclose()
    assert [r[0].status.value for r in results] == ["applied"] * len(skus)
    assert world.emu.refused == refused_before == 0


@pytest.mark.anyio
@pytest.mark.parametrize("seed", [1, 2])
async def test_a_burst_of_square_writes_is_never_refused(seed: int) -> None:
    emu = SquareEmulator(
        SquareEmulatorConfig(access_token="EAAA-burst", requests_per_second=10, burst=20),
        lambda: datetime.now(UTC),
        monotonic=time.monotonic,
        webhook_transport=httpx.MockTransport(lambda request: httpx.Response(200)),
    )
    location = emu.add_location("Main Street")
    skus = [f"TEE-{i}" for i in range(36)]
    for sku in skus:
        emu.add_variation(sku, "Tee", 2500)
    connector = SquareConnector(
        SquareSettings(base_url="http://square.emulator", access_token="EAAA-burst"),
        transport=Transit(httpx.ASGITransport(app=emu.app), seed=seed, max_delay=0.03),
        retry_policy=_ONE_ATTEMPT,
    )
    try:
        await connector.resolve_skus(skus)
        results = await asyncio.gather(*(connector.push_levels([StockTarget(sku, location, 3)]) for sku in skus))
    finally:
        await connector.aclose()
        await emu.webhooks.aclose()
    assert [r[0].status.value for r in results] == ["applied"] * len(skus)
    assert emu.calls["rate_limited"] == 0


@pytest.mark.anyio
@pytest.mark.parametrize("seed", [1, 2])
async def test_a_burst_of_amazon_patches_is_never_refused(seed: int) -> None:
    emu = AmazonEmulator()  # real clocks; patchListingsItem: 5/s, burst 5
    cfg = emu.config
    skus = [f"TENT-{i}" for i in range(16)]
    for sku in skus:
        emu.control.seed_listing(sku, quantity=1)
    settings = AmazonSettings(
        endpoint="http://amazon.emulator",
        lwa_endpoint="http://amazon.emulator/auth/o2/token",
        client_id=cfg.client_id,
        client_secret=cfg.client_secret,
        refresh_token=cfg.refresh_token,
        seller_id=cfg.seller_id,
        marketplace_id=cfg.marketplace_id,
        concurrency=16,
    )
    connector = AmazonConnector(
        settings,
        transport=Transit(httpx.ASGITransport(app=emu.app), seed=seed, max_delay=0.03),
        retry_policy=_ONE_ATTEMPT,
    )
    try:
        results = await asyncio.gather(*(connector.push_levels([StockTarget(sku, "DEFAULT", 4)]) for sku in skus))
    finally:
        await connector.aclose()
        await emu.webhooks.aclose()
    assert [r[0].status.value for r in results] == ["applied"] * len(skus)
    assert emu.control.refused_requests() == 0
