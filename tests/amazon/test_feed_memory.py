"""A feed still processing when its connector gave up waiting (or restarted) is resumed, not sent again: a new
connector on the same store reads its result and creates no second feed."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from connectors.amazon.client import AmazonConnector
from connectors.amazon.emulator import AmazonEmulatorConfig
from omnibridge.sdk import RetriableConnectorError
from omnibridge.sdk.channel import PushStatus, StockTarget
from omnibridge.store import Store
from omnibridge.store.channel_memory import StoreChannelMemory

from .test_client_emulator import world


@pytest.mark.anyio
async def test_a_feed_in_flight_is_resumed_after_a_restart_not_sent_again(tmp_path: Path, store: Store) -> None:
    config = AmazonEmulatorConfig(feed_processing_s=6.0)
    skus = [f"BULK-{i:03d}" for i in range(60)]
    targets = [StockTarget(sku, "DEFAULT", i + 1) for i, sku in enumerate(skus)]
    async with world(tmp_path, config, feed_threshold=50, feed_timeout_seconds=2.0) as w:
        for sku in skus:
            w.emu.control.seed_listing(sku, quantity=0)
        w.client.attach_memory(StoreChannelMemory(store, "amazon-us"))
        with pytest.raises(RetriableConnectorError, match=r"still IN_(QUEUE|PROGRESS)"):
            await w.client.push_levels(targets)
        assert w.emu.control.calls()["createFeed"] == 1

        restarted = AmazonConnector(
            w.client.settings.model_copy(update={"feed_timeout_seconds": 60.0}),
            transport=httpx.ASGITransport(app=w.emu.app),
            clock=w.time.monotonic,
            sleep=w.time.sleep,
            now=w.time.now,
        )
        restarted.attach_memory(StoreChannelMemory(store, "amazon-us"))
        try:
            results = await restarted.push_levels(targets)
        finally:
            await restarted.aclose()
        assert [r.status for r in results] == [PushStatus.APPLIED] * len(skus)
        calls = w.emu.control.calls()
        assert (calls["createFeedDocument"], calls["createFeed"], calls["getFeedDocument"]) == (1, 1, 1)
        assert restarted.feeds.feeds_resumed == 1
        assert StoreChannelMemory(store, "amazon-us").load("feed") == {}  # read back: nothing pending any more
        assert w.spec_problems() == []
