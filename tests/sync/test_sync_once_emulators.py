"""`omnibridge sync --once` with the real Shopify and Square connectors against their emulators over HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connectors.shopify.emulator import ShopifyEmulator, ShopifyEmulatorConfig
from connectors.square.emulator import SquareEmulator, SquareEmulatorConfig
from omnibridge.cli.app import app
from omnibridge.cli.sync import run_sync_once
from omnibridge.config import load_profile
from omnibridge.demo import world
from omnibridge.sdk.emulator import free_port, run_server
from omnibridge.store import open_store
from omnibridge.sync import projection

pytestmark = pytest.mark.anyio


async def test_three_passes_push_the_ledger_then_a_pos_sale_then_nothing(tmp_path: Path) -> None:
    shopify = ShopifyEmulator(ShopifyEmulatorConfig(access_token=world.SHOPIFY_TOKEN, api_secret=world.SHOPIFY_SECRET))
    square = SquareEmulator(
        SquareEmulatorConfig(access_token=world.SQUARE_TOKEN, signature_key=world.SQUARE_SIGNATURE_KEY)
    )
    web_locations = world.seed_shopify(shopify)
    pos_locations = world.seed_square(square, drifted_every=7)
    shopify_port, square_port = free_port(), free_port()
    profile = world.write_profile(
        tmp_path,
        shopify_url=f"http://127.0.0.1:{shopify_port}",
        square_url=f"http://127.0.0.1:{square_port}",
        receiver_url="http://127.0.0.1:9",
        settings=world.DemoSettings(),
    )
    with open_store(load_profile(profile).store_url) as store:
        world.seed_ledger(store)

    async with run_server(shopify.app, port=shopify_port), run_server(square.app, port=square_port):
        first = {row["channel"]: row for row in (await run_sync_once(profile)).as_dict()["channels"]}
        assert (first["web"]["levels_checked"], first["web"]["pushed"]["applied"]) == (180, 180)
        assert (first["pos"]["levels_checked"], first["pos"]["pushed"]["applied"]) == (120, 18)  # the drifted ones

        square.pos_sale(pos_locations["boulder"], [("TENT-4P-BLU", 2)])
        second = {row["channel"]: row for row in (await run_sync_once(profile)).as_dict()["channels"]}
        assert (second["pos"]["events_pulled"], second["pos"]["movements_applied"]) == (1, 1)
        assert second["pos"]["orders_recorded"] == 1
        assert (second["web"]["levels_differing"], second["web"]["pushed"]["applied"]) == (1, 1)
        assert second["pos"]["levels_differing"] == 0

        third = (await run_sync_once(profile)).as_dict()["channels"]
        assert all(row["levels_differing"] == 0 and row["movements_applied"] == 0 for row in third)
        await shopify.webhooks.aclose()
        await square.webhooks.aclose()

    with open_store(load_profile(profile).store_url) as store:
        [sale] = [order for order in [store.find_order("pos", ref) for ref in square.state.orders] if order]
        assert (sale.status.value, [(line.sku, line.quantity, line.location_id) for line in sale.lines]) == (
            "completed",
            [("TENT-4P-BLU", 2, "boulder")],
        )
        for sku, location_id in [("TENT-4P-BLU", "boulder"), ("TENT-2P-GRN", "den-wh"), ("LAMP-RED", "fort-collins")]:
            wanted = projection(store, sku, location_id)
            assert shopify.available(sku, web_locations[location_id]) == wanted
            if location_id in pos_locations:
                assert square.quantity(sku, pos_locations[location_id]) == wanted


def test_sync_needs_once_and_a_channel(tmp_path: Path) -> None:
    runner = CliRunner()
    profile = tmp_path / "omnibridge.yaml"
    profile.write_text(
        "version: 1\nmerchant: {name: T, currency: USD, timezone: UTC}\n"
        "locations: [{id: wh, name: W, type: warehouse}]\n",
        encoding="utf-8",
    )
    without_once = runner.invoke(app, ["sync", "--profile", str(profile)])
    assert without_once.exit_code == 2  # a usage error
    assert "pass --once; to keep syncing, run the daemon: 'omnibridge run'" in without_once.stderr
    help_text = " ".join(runner.invoke(app, ["sync", "--help"]).stdout.split())
    assert "arrives later" not in help_text
    assert "omnibridge run" in help_text
    no_channel = runner.invoke(app, ["sync", "--once", "--profile", str(profile)])
    assert no_channel.exit_code == 1
    assert "no enabled sales channel to sync" in no_channel.stderr
    assert "Traceback" not in no_channel.stderr + no_channel.stdout


def test_sync_report_is_json_with_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from omnibridge.sync import ChannelSyncReport, SyncReport

    async def fake_run(_: Path) -> SyncReport:
        return SyncReport([ChannelSyncReport("web", error="push failed: HTTP 401")])

    monkeypatch.setattr("omnibridge.cli.sync.run_sync_once", fake_run)
    result = CliRunner().invoke(app, ["sync", "--once", "--json", "--profile", str(tmp_path / "x.yaml")])
    assert result.exit_code == 1  # a channel failed
    assert json.loads(result.stdout)["channels"][0]["error"] == "push failed: HTTP 401"
