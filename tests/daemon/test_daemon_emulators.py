"""`omnibridge run` as a real process against the Shopify and Square emulators: a POS sale reaches the web store,
/metrics tells the story, and SIGTERM stops it cleanly with nothing left pending."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from connectors.shopify.emulator import ShopifyEmulator, ShopifyEmulatorConfig
from connectors.square.emulator import SquareEmulator, SquareEmulatorConfig
from omnibridge.config import load_profile
from omnibridge.demo import world
from omnibridge.demo.catalog import opening_stock
from omnibridge.sdk.emulator import free_port, run_server
from omnibridge.store import InboxStatus, open_store

from .promtext import Exposition, parse

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
GUARD_S = 60.0
"""Only a guard against hangs; nothing asserts on time."""
SKU, LOCATION, SOLD = "TENT-4P-BLU", "boulder", 2


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Poll ``check`` until true; fail after the guard."""
    try:
        async with asyncio.timeout(GUARD_S):
            while not await check():
                await asyncio.sleep(0.05)
    except TimeoutError:
        pytest.fail(f"gave up waiting for {what}")


async def test_a_pos_sale_reaches_the_web_store_through_the_daemon(tmp_path: Path) -> None:
    daemon_port, shopify_port, square_port = free_port(), free_port(), free_port()
    daemon_url = f"http://127.0.0.1:{daemon_port}"
    shopify = ShopifyEmulator(
        ShopifyEmulatorConfig(
            access_token=world.SHOPIFY_TOKEN, api_secret=world.SHOPIFY_SECRET, webhook_url=f"{daemon_url}/webhooks/web"
        )
    )
    square = SquareEmulator(
        SquareEmulatorConfig(
            access_token=world.SQUARE_TOKEN,
            signature_key=world.SQUARE_SIGNATURE_KEY,
            notification_url=f"{daemon_url}/webhooks/pos",
        )
    )
    web_locations = world.seed_shopify(shopify)
    pos_locations = world.seed_square(square, drifted_every=0)
    profile = world.write_profile(
        tmp_path,
        shopify_url=f"http://127.0.0.1:{shopify_port}",
        square_url=f"http://127.0.0.1:{square_port}",
        receiver_url=daemon_url,
        settings=world.DemoSettings(),
    )
    store_url = load_profile(profile).store_url
    with open_store(store_url) as store:
        world.seed_ledger(store)
    opening = opening_stock()[(SKU, LOCATION)]
    assert opening > SOLD

    log_path = tmp_path / "daemon.log"
    async with run_server(shopify.app, port=shopify_port), run_server(square.app, port=square_port):
        with log_path.open("wb") as log_file:
            daemon = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "omnibridge", "run", "--profile", str(profile), "--port", str(daemon_port),
                "--poll-seconds", "3600", "--readback-minutes", "60", "--log-format", "json",
                stdout=log_file, stderr=log_file, cwd=tmp_path,
            )  # fmt: skip
            try:
                async with httpx.AsyncClient(base_url=daemon_url, timeout=5.0) as client:

                    async def ready() -> bool:
                        if daemon.returncode is not None:
                            pytest.fail(f"the daemon exited with {daemon.returncode}: {log_path.read_text()}")
                        try:
                            return (await client.get("/readyz")).status_code == 200
                        except httpx.TransportError:
                            return False

                    async def metrics() -> Exposition:
                        response = await client.get("/metrics")
                        assert response.status_code == 200
                        return parse(response.text)

                    await until(ready, "/readyz")
                    assert (await client.get("/healthz")).status_code == 200

                    async def caught_up() -> bool:  # the start-up read-back pushed the ledger to both channels
                        try:
                            done = (await metrics()).value("omnibridge_job_runs_total", job="startup", outcome="ok")
                        except KeyError:  # not run yet: no such series
                            return False
                        return done == 1 and shopify.available(SKU, web_locations[LOCATION]) == opening

                    await until(caught_up, "the catch-up read-back")
                    square.pos_sale(pos_locations[LOCATION], [(SKU, SOLD)])

                    async def propagated() -> bool:
                        return shopify.available(SKU, web_locations[LOCATION]) == opening - SOLD

                    await until(propagated, "the POS sale to show on the web store")
                    await shopify.webhooks.drain(timeout=GUARD_S)  # our own writes, echoed back
                    await square.webhooks.drain(timeout=GUARD_S)

                    async def inbox_empty() -> bool:
                        scraped = await metrics()
                        return all(value == 0 for value in scraped.series("omnibridge_inbox_pending").values())

                    await until(inbox_empty, "the inbox to be processed")
                    scraped = await metrics()
            finally:
                if daemon.returncode is None:
                    daemon.send_signal(signal.SIGTERM)
                code = await asyncio.wait_for(daemon.wait(), GUARD_S)
        await shopify.webhooks.aclose()
        await square.webhooks.aclose()

    assert code == 0, log_path.read_text()
    assert square.quantity(SKU, pos_locations[LOCATION]) == opening - SOLD
    assert scraped.value("omnibridge_up") == 1
    assert scraped.value("omnibridge_ready") == 1
    assert scraped.value("omnibridge_webhooks_received_total", channel="pos") >= 1
    assert scraped.value("omnibridge_webhooks_rejected_total", channel="pos") == 0
    assert scraped.value("omnibridge_engine_processed_total") >= 1
    assert scraped.value("omnibridge_engine_dead_total") == 0
    assert scraped.value("omnibridge_job_runs_total", job="startup", outcome="ok") == 1
    assert scraped.value("omnibridge_pushes_total", channel="web", status="applied") >= 1  # the catch-up's pushes
    assert scraped.value("omnibridge_sync_lag_seconds", channel="pos") == 0
    assert scraped.value("omnibridge_channel_locations_resolved", channel="web") == 1
    assert "omnibridge_throttle_waits_total" in scraped.types

    lines = log_path.read_text(encoding="utf-8").splitlines()
    events = [json.loads(line)["event"] for line in lines]  # every line is one JSON object
    assert "daemon.started" in events
    assert events[-1] == "daemon.stopped"
    with open_store(store_url) as store:
        assert store.inbox(status=InboxStatus.PENDING) == []
        assert store.inbox(status=InboxStatus.DEAD) == []
        assert store.position(SKU, LOCATION).on_hand == opening - SOLD
