"""A catalog SKU a channel does not list is named by the sync report, by ``explain`` and once as an incident."""

from __future__ import annotations

import json
from pathlib import Path
from types import MappingProxyType

import pytest
from amazon.test_client_emulator import world as amazon_world
from typer.testing import CliRunner

from connectors.amazon import connector as AMAZON
from omnibridge.cli.app import app
from omnibridge.cli.explain import unlisted_channels
from omnibridge.config import LoadedChannel, MappingTables
from omnibridge.store import Store
from omnibridge.sync import ChannelRuntime, ChannelSyncReport, SyncEngine, SyncReport
from omnibridge.sync.reconcile import ReconcileReport

from .fake_channel import SPEC, FakeChannel, FakeSettings, receive, runtime, seed_store

pytestmark = pytest.mark.anyio


def aliased(channel_id: str, fake: FakeChannel, aliases: dict[str, str]) -> ChannelRuntime:
    loaded = LoadedChannel(
        id=channel_id,
        connector="fake",
        spec=SPEC,
        settings=FakeSettings(),
        profile_path=Path("fake.yaml"),
        mappings=MappingTables(location_map=MappingProxyType({"P": "wh"}), sku_aliases=MappingProxyType(dict(aliases))),
    )
    return ChannelRuntime(channel_id, fake, loaded)


async def test_unlisted_and_unresolved_alias_skus_are_reported_once_as_incidents(store: Store) -> None:
    seed_store(store, ["A", "B", "C"], ["wh"])
    for sku in ("A", "B", "C"):
        receive(store, sku, "wh", 4)
    web, pos = FakeChannel(["W"]), FakeChannel(["P"])
    web.levels = {("A", "W"): 0, ("B", "W"): 0}  # C is not on the web store
    pos.levels = {("A", "P"): 0, ("B", "P"): 0, ("C", "P"): 0}  # A is listed as A, but the profile says POS-A
    engine = SyncEngine(store, [runtime("web", web, {"W": "wh"}), aliased("pos", pos, {"POS-A": "A"})])

    for _ in range(2):
        report = await engine.sync_once()
        rows = {row["channel"]: row for row in report.as_dict()["channels"]}
        assert (rows["web"]["not_listed"], rows["pos"]["not_listed"]) == (["C"], ["A"])
        assert report.ok

    incidents = store.incidents(kind="not_listed")
    assert [(i.channel, i.sku) for i in incidents] == [("web", "C"), ("pos", "A")]  # once each, over two passes
    assert "'POS-A'" in incidents[1].summary
    assert web.levels[("A", "W")] == 4
    assert ("C", "W") not in web.levels
    assert unlisted_channels(store, "C") == {"web": incidents[0].summary}
    assert unlisted_channels(store, "B") == {}

    web.levels[("C", "W")] = 0  # listed now: the next read clears what explain says
    await engine.sync_once()
    assert unlisted_channels(store, "C") == {}


async def test_amazon_skus_without_a_listing_are_not_skipped_silently(tmp_path: Path, store: Store) -> None:
    seed_store(store, ["TENT-1", "GHOST"], ["wh"])
    receive(store, "TENT-1", "wh", 3)
    async with amazon_world(tmp_path) as w:
        w.emu.control.seed_listing("TENT-1", title="Tent", price="10.00", quantity=0)
        loaded = LoadedChannel(
            id="amazon",
            connector="amazon",
            spec=AMAZON,
            settings=w.client.settings,
            profile_path=Path("amazon.yaml"),
            mappings=MappingTables(location_map=MappingProxyType({"DEFAULT": "wh"})),
        )
        engine = SyncEngine(store, [ChannelRuntime("amazon", w.client, loaded)])
        report = await engine.sync_once()
    [row] = report.as_dict()["channels"]
    assert (row["error"], row["not_listed"], row["pushed"]["applied"]) == (None, ["GHOST"], 1)
    [incident] = store.incidents(kind="not_listed")
    assert (incident.channel, incident.sku) == ("amazon", "GHOST")


def test_sync_prints_the_unlisted_skus_in_text_and_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def fake_run(_: Path) -> SyncReport:
        return SyncReport([ChannelSyncReport("amazon", reconcile=ReconcileReport("amazon", not_listed=["GHOST"]))])

    monkeypatch.setattr("omnibridge.cli.sync.run_sync_once", fake_run)
    text = CliRunner().invoke(app, ["sync", "--once", "--profile", str(tmp_path / "x.yaml")])
    assert text.exit_code == 0
    assert "  not listed: GHOST (the channel has no item with these SKUs" in text.stdout
    as_json = CliRunner().invoke(app, ["sync", "--once", "--json", "--profile", str(tmp_path / "x.yaml")])
    assert json.loads(as_json.stdout)["channels"][0]["not_listed"] == ["GHOST"]
