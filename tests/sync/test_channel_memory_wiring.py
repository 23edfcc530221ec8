"""``build_channels(profile, store)`` gives each connector that keeps channel memory the store's, per channel."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.clover.client import CloverConnector
from omnibridge.config import load_profile
from omnibridge.store import open_store
from omnibridge.store.channel_memory import StoreChannelMemory
from omnibridge.sync import build_channels


@pytest.mark.anyio
async def test_connectors_built_with_a_store_load_what_their_channel_remembers(tmp_path: Path) -> None:
    (tmp_path / "clover.yaml").write_text(
        "connector: clover\nsettings: {base_url: 'http://127.0.0.1:9', merchant_id: TESTMERCHANT1, access_token: t}\n"
    )
    (tmp_path / "omnibridge.yaml").write_text(
        "version: 1\n"
        "merchant: {name: T, currency: USD, timezone: UTC}\n"
        "locations: [{id: shop, name: Shop, type: store}]\n"
        "channels:\n"
        "  - {id: pos, connector: clover, profile: clover.yaml}\n"
    )
    profile = load_profile(tmp_path / "omnibridge.yaml")
    with open_store(f"sqlite:///{tmp_path / 'omnibridge.db'}") as store:
        StoreChannelMemory(store, "pos").remember("item_id", {"TEE-1": "ITEM00000001"})
        StoreChannelMemory(store, "other").remember("item_id", {"MUG-1": "ITEM00000002"})
        [runtime] = build_channels(profile, store)
        connector = runtime.connector
        assert isinstance(connector, CloverConnector)
        try:
            # answered from memory: the base URL is unreachable, so a look-up would fail
            assert await connector.resolve_skus(["TEE-1"]) == {"TEE-1": "ITEM00000001"}
            assert connector._item_by_sku == {"TEE-1": "ITEM00000001"}  # only this channel's memory
        finally:
            await connector.aclose()
