"""Amazon shows an accepted quantity minutes later: the engine must not take the old value it reads back meanwhile
for a change made on Amazon (drift, a sale to pass on) nor write again."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import MappingProxyType

import pytest
from amazon.test_client_emulator import world as amazon_world

from connectors.amazon import connector as AMAZON
from connectors.amazon.emulator import AmazonEmulatorConfig
from omnibridge.config import LoadedChannel, MappingTables
from omnibridge.store import Store
from omnibridge.sync import ChannelRuntime, SyncEngine

from .fake_channel import FakeChannel, receive, runtime, seed_store

pytestmark = pytest.mark.anyio


async def test_a_read_back_inside_the_listing_delay_is_neither_drift_nor_a_sale(tmp_path: Path, store: Store) -> None:
    seed_store(store, ["RAISE", "LOWER"], ["wh"])
    receive(store, "RAISE", "wh", 3)
    receive(store, "LOWER", "wh", 2)
    web = FakeChannel(["W"])
    web.levels.update({("RAISE", "W"): 3, ("LOWER", "W"): 2})
    async with amazon_world(tmp_path, AmazonEmulatorConfig(listing_delay_s=120.0)) as w:
        w.emu.control.seed_listing("RAISE", title="Raise", price="10.00", quantity=0)
        w.emu.control.seed_listing("LOWER", title="Lower", price="10.00", quantity=10)
        amazon = LoadedChannel(
            id="amazon",
            connector="amazon",
            spec=AMAZON,
            settings=w.client.settings,
            profile_path=Path("amazon.yaml"),
            mappings=MappingTables(location_map=MappingProxyType({"DEFAULT": "wh"})),
            drift="channel",  # a change on Amazon would move the ledger, and so every other channel
        )
        engine = SyncEngine(
            store,
            [ChannelRuntime("amazon", w.client, amazon), runtime("web", web, {"W": "wh"})],
            drift_grace=timedelta(0),
        )
        first = await engine.sync_once()
        assert first.as_dict()["channels"][0]["pushed"]["applied"] == 2
        patches = w.emu.control.calls()["patchListingsItem"]
        w.time.t += 60  # Amazon still shows 0 and 10
        assert (w.emu.control.listing_quantity("RAISE"), w.emu.control.listing_quantity("LOWER")) == (0, 10)
        await engine.sync_once()
        await engine.sync_once()
        assert w.emu.control.calls()["patchListingsItem"] == patches  # nothing written again
        assert store.incidents(kind="drift") == []
        assert (store.position("RAISE", "wh").on_hand, store.position("LOWER", "wh").on_hand) == (3, 2)
        assert (web.levels[("RAISE", "W")], web.levels[("LOWER", "W")]) == (3, 2)
        w.time.t += 60  # past the delay: Amazon shows what it accepted
        assert (w.emu.control.listing_quantity("RAISE"), w.emu.control.listing_quantity("LOWER")) == (3, 2)
        await engine.sync_once()
        assert w.emu.control.calls()["patchListingsItem"] == patches
        assert store.incidents(kind="drift") == []
