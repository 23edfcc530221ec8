"""The connector against the in-process Amazon emulator (fake clock shared by both), with every request it sends
recorded and checked against Amazon's models by :mod:`connectors.amazon.spec_check`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.amazon.client import AmazonConnector
from connectors.amazon.emulator import AmazonEmulator, AmazonEmulatorConfig
from connectors.amazon.notifications import SIGNATURE_HEADER
from connectors.amazon.settings import AmazonSettings
from connectors.amazon.spec_check import validate_recorded
from omnibridge.sdk import RetryPolicy, hmac_sha256_base64
from omnibridge.sdk.channel import OrderEvent, OrderEventKind, PushStatus, StockObservedEvent, StockTarget
from omnibridge.sdk.emulator import RequestRecorder, read_recorded
from omnibridge.sdk.listings import ListingUpdate

from .test_client_support import FakeTime

EMU_URL = "http://amazon.emulator"
FORWARDER = "emulator-forwarder-secret"


class World:
    def __init__(self, emu: AmazonEmulator, client: AmazonConnector, time: FakeTime, record: Path) -> None:
        self.emu, self.client, self.time, self.record = emu, client, time, record

    def spec_problems(self) -> list[str]:
        return validate_recorded(read_recorded(self.record))


@asynccontextmanager
async def world(tmp_path: Path, config: AmazonEmulatorConfig | None = None, **overrides: Any) -> AsyncIterator[World]:
    time = FakeTime()
    record = tmp_path / "requests.jsonl"
    emu = AmazonEmulator(
        config or AmazonEmulatorConfig(),
        time.now,
        monotonic=time.monotonic,
        recorder=RequestRecorder("amazon", record),
    )
    cfg = emu.config
    values: dict[str, Any] = {
        "endpoint": EMU_URL,
        "lwa_endpoint": f"{EMU_URL}/auth/o2/token",
        "client_id": cfg.client_id,
        "client_secret": cfg.client_secret,
        "refresh_token": cfg.refresh_token,
        "seller_id": cfg.seller_id,
        "marketplace_id": cfg.marketplace_id,
        "forwarder_secret": cfg.forwarder_secret,
        "feed_poll_seconds": 1.0,
        **overrides,
    }
    client = AmazonConnector(
        AmazonSettings.model_validate(values),
        transport=httpx.ASGITransport(app=emu.app),
        retry_policy=RetryPolicy(max_attempts=4, initial_backoff=0.5, jitter=0.0, max_elapsed=600.0),
        clock=time.monotonic,
        sleep=time.sleep,
        now=time.now,
    )
    try:
        yield World(emu, client, time, record)
    finally:
        await client.aclose()
        await emu.webhooks.aclose()


@pytest.mark.anyio
async def test_a_few_skus_are_patched_and_read_back(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        for sku in ("TENT-1", "STOVE 2"):
            w.emu.control.seed_listing(sku, title="x", price="10.00", quantity=1)
        results = await w.client.push_levels(
            [
                StockTarget("TENT-1", "DEFAULT", 7),
                StockTarget("STOVE 2", "DEFAULT", 0),
                StockTarget("GHOST", "DEFAULT", 3),
            ]
        )
        levels = await w.client.read_levels(["TENT-1", "STOVE 2", "GHOST"])
        assert [r.status for r in results] == [PushStatus.APPLIED, PushStatus.APPLIED, PushStatus.UNKNOWN_SKU]
        assert [(lvl.sku, lvl.available) for lvl in levels] == [("TENT-1", 7), ("STOVE 2", 0)]
        assert w.emu.control.calls()["patchListingsItem"] == 3
        assert w.emu.control.refused_requests() == 0
        assert w.spec_problems() == []


@pytest.mark.anyio
async def test_an_accepted_quantity_is_reported_until_the_visibility_window_ends(
    tmp_path: Path,
) -> None:
    config = AmazonEmulatorConfig(listing_delay_s=600.0)
    async with world(tmp_path, config, listing_visibility_seconds=300.0) as w:
        for sku in ("TENT-1", "STOVE-2"):
            w.emu.control.seed_listing(sku, title="x", price="10.00", quantity=1)
        await w.client.push_levels([StockTarget("TENT-1", "DEFAULT", 7), StockTarget("STOVE-2", "DEFAULT", 4)])
        levels = await w.client.read_levels(["TENT-1", "STOVE-2"])
        assert [lvl.available for lvl in levels] == [7, 4]  # Amazon still shows 1 and 1
        w.time.t += 300  # the window is over and Amazon has still not shown it: report what it shows
        levels = await w.client.read_levels(["TENT-1", "STOVE-2"])
        assert [lvl.available for lvl in levels] == [1, 1]


@pytest.mark.anyio
async def test_a_patch_amazon_accepts_for_an_unknown_sku_leaving_an_incomplete_listing_is_unknown_sku(
    tmp_path: Path,
) -> None:
    async with world(tmp_path, AmazonEmulatorConfig(unknown_sku_patch="ACCEPTED")) as w:
        w.emu.control.seed_listing("TENT-1", title="x", price="10.00", quantity=1)
        results = await w.client.push_levels([StockTarget("TENT-1", "DEFAULT", 7), StockTarget("GHOST", "DEFAULT", 3)])
        levels = await w.client.read_levels(["TENT-1", "GHOST"])
    assert [r.status for r in results] == [PushStatus.APPLIED, PushStatus.UNKNOWN_SKU]
    assert results[1].shown is None
    assert "18448: Attributes tagged as relevant_attributes are incomplete" in (results[1].message or "")
    assert [(lvl.sku, lvl.available) for lvl in levels] == [("TENT-1", 7)]
    assert w.spec_problems() == []


@pytest.mark.anyio
async def test_many_skus_go_as_one_feed_and_each_gets_its_result(tmp_path: Path) -> None:
    config = AmazonEmulatorConfig(report_compression="GZIP", feed_processing_s=3.0)
    async with world(tmp_path, config, feed_threshold=50) as w:
        skus = [f"BULK-{i:03d}" for i in range(60)]
        for sku in skus:
            w.emu.control.seed_listing(sku, quantity=0)
        targets = [StockTarget(sku, "DEFAULT", i + 1) for i, sku in enumerate(skus)]
        targets.insert(10, StockTarget("NOT-LISTED", "DEFAULT", 5))
        results = await w.client.push_levels(targets)
        statuses = [r.status for r in results]
        assert statuses.count(PushStatus.APPLIED) == 60
        assert results[10].status is PushStatus.UNKNOWN_SKU
        assert all(w.emu.control.listing_quantity(sku) == i + 1 for i, sku in enumerate(skus))
        calls = w.emu.control.calls()
        assert calls.get("patchListingsItem", 0) == 0
        assert (calls["createFeedDocument"], calls["createFeed"], calls["getFeedDocument"]) == (1, 1, 1)
        assert calls["getFeed"] == 3  # processing takes 3 s, polled every second
        assert w.emu.control.refused_requests() == 0
        assert w.spec_problems() == []


@pytest.mark.anyio
async def test_titles_and_prices_are_set(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.emu.control.seed_listing("TENT-1", title="Old", price="10.00", quantity=1)
        results = await w.client.push_listings(
            [ListingUpdate("TENT-1", title="Trail tent 2P", price=Decimal("189.95"), currency="USD")]
        )
        assert [r.status for r in results] == [PushStatus.APPLIED]
        title, price = w.emu.control.listing("TENT-1")
        assert title == "Trail tent 2P"
        assert price is not None
        assert Decimal(price) == Decimal("189.95")
        assert w.spec_problems() == []


@pytest.mark.anyio
async def test_orders_are_polled_through_their_life(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.emu.control.seed_listing("TENT-1", quantity=10)
        first = await w.client.pull_events(None)
        assert first.events == []
        w.time.t += 300
        placed = w.emu.control.create_order("TENT-1", 2)
        cancelled = w.emu.control.create_order("TENT-1", 1)
        w.time.t += 300
        second = await w.client.pull_events(first.bookmark)
        w.emu.control.ship_order(placed)
        w.emu.control.cancel_order(cancelled)
        w.time.t += 300
        third = await w.client.pull_events(second.bookmark)
        kinds = {e.ref: e.kind for e in second.events if isinstance(e, OrderEvent)}
        assert kinds == {placed: OrderEventKind.PLACED, cancelled: OrderEventKind.PLACED}
        later = {e.ref: e.kind for e in third.events if isinstance(e, OrderEvent)}
        assert later == {placed: OrderEventKind.COMPLETED, cancelled: OrderEventKind.CANCELLED}
        [event] = [e for e in second.events if isinstance(e, OrderEvent) and e.ref == placed]
        assert [(line.sku, line.quantity, line.location_ref) for line in event.lines] == [("TENT-1", 2, "DEFAULT")]
        marks = [json.loads(r.bookmark or "")["orders"] for r in (first, second, third)]
        assert marks == sorted(marks)
        assert w.emu.control.refused_requests() == 0
        assert w.spec_problems() == []


@pytest.mark.anyio
async def test_order_change_notification_yields_the_order(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.emu.control.seed_listing("TENT-1", quantity=10)
        order_id = w.emu.control.create_order("TENT-1", 3)
        [notification] = [n for n in w.emu.control.notifications() if n.get("NotificationType") == "ORDER_CHANGE"]
        body = json.dumps(notification).encode()
        headers = {SIGNATURE_HEADER: hmac_sha256_base64(FORWARDER, body)}
        delivery = w.client.verify_webhook(body, headers, "https://omnibridge.example/webhooks/amazon")
        events = await w.client.webhook_events(delivery)
        assert delivery.delivery_id == notification["NotificationMetadata"]["NotificationId"]
        [event] = events
        assert isinstance(event, OrderEvent)
        assert (event.ref, event.kind, event.lines[0].quantity) == (order_id, OrderEventKind.PLACED, 3)


@pytest.mark.anyio
async def test_expired_tokens_are_refreshed_and_throttling_is_retried(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.emu.control.seed_listing("TENT-1", quantity=4)
        assert [lvl.available for lvl in await w.client.read_levels(["TENT-1"])] == [4]
        w.emu.control.expire_access_tokens()
        w.emu.control.fail_next(429)
        assert [lvl.available for lvl in await w.client.read_levels(["TENT-1"])] == [4]
        assert w.client.api.tokens.exchanges == 2
        assert w.emu.control.refused_requests() == 0
        assert w.spec_problems() == []


@pytest.mark.anyio
async def test_a_sku_holding_a_slash_and_spaces_is_written_read_and_recorded_valid(tmp_path: Path) -> None:
    sku = "TENT/2P GRN"
    async with world(tmp_path) as w:
        w.emu.control.seed_listing(sku, quantity=1)
        w.emu.control.seed_listing("STOVE", quantity=2)
        [result] = await w.client.push_levels([StockTarget(sku, "DEFAULT", 6)])
        alone = await w.client.read_levels([sku])
        together = await w.client.read_levels([sku, "STOVE"])
        assert result.status is PushStatus.APPLIED
        assert [(lvl.sku, lvl.available) for lvl in alone] == [(sku, 6)]
        assert [(lvl.sku, lvl.available) for lvl in together] == [(sku, 6), ("STOVE", 2)]
        calls = w.emu.control.calls()
        assert (calls["patchListingsItem"], calls["getListingsItem"], calls["searchListingsItems"]) == (1, 1, 1)
        paths = [row["path"] for row in read_recorded(w.record) if row["method"] in ("GET", "PATCH")]
        assert "/listings/2021-08-01/items/A1EMULATORSELLER/TENT%2F2P%20GRN" in paths
        assert w.spec_problems() == []


@pytest.mark.anyio
async def test_many_skus_are_read_twenty_a_call_within_the_search_bucket(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        skus = [f"READ-{i:03d}" for i in range(101)]
        for i, sku in enumerate(skus):
            if i % 10 != 7:  # every tenth SKU has no listing
                w.emu.control.seed_listing(sku, quantity=i)
        started = w.time.t
        levels = await w.client.read_levels([*skus, "READ-000"])
        assert [(lvl.sku, lvl.available) for lvl in levels] == [(s, i) for i, s in enumerate(skus) if i % 10 != 7]
        calls = w.emu.control.calls()
        # 101 SKUs: five searches of 20, the lone last SKU through getListingsItem
        assert (calls["searchListingsItems"], calls["getListingsItem"]) == (5, 1)
        assert w.emu.control.refused_requests() == 0
        # five searches against the full burst of 5: none waits (each counted until its answer, so no reserve)
        assert w.time.t - started == pytest.approx(0.0)
        assert w.spec_problems() == []


@pytest.mark.anyio
async def test_mfn_quantity_change_from_a_buyer_order_is_a_stock_observation(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.emu.control.seed_listing("TENT-1", quantity=10)
        w.emu.control.create_order("TENT-1", 3)
        [notification] = [
            n for n in w.emu.control.notifications() if n["NotificationType"] == "LISTINGS_ITEM_MFN_QUANTITY_CHANGE"
        ]
        body = json.dumps(notification).encode()
        headers = {SIGNATURE_HEADER: hmac_sha256_base64(FORWARDER, body)}
        delivery = w.client.verify_webhook(body, headers, "https://omnibridge.example/webhooks/amazon")
        events = await w.client.webhook_events(delivery)
        assert delivery.topic == "LISTINGS_ITEM_MFN_QUANTITY_CHANGE"
        assert events == [StockObservedEvent("TENT-1", "DEFAULT", 7, w.time.now().replace(microsecond=0))]
        assert w.emu.control.calls() == {}  # the notification carries the level: nothing is fetched
