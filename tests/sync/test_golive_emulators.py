"""Issue 11 §1 against the Shopify and Square emulators: a live store survives the first sync; the dry run sends no
mutation to any vendor (``OMNIBRIDGE_RECORD_REQUESTS``); ``onboard --from-channel`` takes the opening stock once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.shopify.emulator import ShopifyEmulator, ShopifyEmulatorConfig
from connectors.square.emulator import SquareEmulator, SquareEmulatorConfig
from omnibridge.cli.onboard import _channel_openings
from omnibridge.cli.sync import run_dry_run, run_sync_once
from omnibridge.config import load_profile
from omnibridge.demo import world
from omnibridge.demo.catalog import DEMO_LOCATIONS, demo_products
from omnibridge.onboard import apply_onboarding, plan_onboarding
from omnibridge.sdk.emulator import free_port, run_server
from omnibridge.store import open_store

pytestmark = pytest.mark.anyio

LIVE = ["TENT-4P-BLU", "TENT-2P-GRN", "LAMP-RED"]


def mutations(recorded: Path) -> list[str]:
    found = []
    for line in recorded.read_text(encoding="utf-8").splitlines() if recorded.exists() else []:
        request = json.loads(line)
        body = request["body"] if isinstance(request["body"], dict) else {}
        query = str(body.get("query", "")).lstrip()
        if request["service"] == "shopify" and query.startswith("mutation"):
            found.append(f"shopify {query[:60]}")
        if request["service"] == "square" and request["path"].endswith(("batch-create", "batch-upsert")):
            found.append(f"square {request['path']}")
    return found


async def test_first_sync_dry_run_and_onboarding_on_emulators(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorded = tmp_path / "requests.jsonl"
    monkeypatch.setenv("OMNIBRIDGE_RECORD_REQUESTS", str(recorded))
    shopify = ShopifyEmulator(ShopifyEmulatorConfig(access_token=world.SHOPIFY_TOKEN, api_secret=world.SHOPIFY_SECRET))
    square = SquareEmulator(
        SquareEmulatorConfig(access_token=world.SQUARE_TOKEN, signature_key=world.SQUARE_SIGNATURE_KEY)
    )
    web_locations = world.seed_shopify(shopify)
    world.seed_square(square, drifted_every=0)
    for sku in LIVE:  # the web store is live: 10 units of three SKUs at the warehouse
        shopify.set_available(sku, web_locations["den-wh"], 10)
    ports = free_port(), free_port()
    profile = world.write_profile(
        tmp_path,
        shopify_url=f"http://127.0.0.1:{ports[0]}",
        square_url=f"http://127.0.0.1:{ports[1]}",
        receiver_url="http://127.0.0.1:9",
        settings=world.DemoSettings(),
    )
    with open_store(load_profile(profile).store_url) as store:  # a new database with the catalog, no stock yet
        for location in DEMO_LOCATIONS:
            store.upsert_location(location)
        for product in demo_products():
            store.upsert_product(product)

    async with run_server(shopify.app, port=ports[0]), run_server(square.app, port=ports[1]):
        planned = {channel.channel: channel for channel in await run_dry_run(profile)}
        assert mutations(recorded) == []
        assert planned["web"].writes == []
        assert {(sku, "den-wh") for sku in LIVE} <= set(planned["web"].never_counted)

        report = await run_sync_once(profile)
        rows = {row["channel"]: row for row in report.as_dict()["channels"]}
        assert [shopify.available(sku, web_locations["den-wh"]) for sku in LIVE] == [10, 10, 10]
        assert rows["web"]["pushed"].get("applied", 0) == 0
        assert {"sku": "LAMP-RED", "location_id": "den-wh"} in rows["web"]["never_counted"]

        loaded = load_profile(profile)
        with open_store(loaded.store_url) as store:
            openings = await _channel_openings(loaded, store, "web")
            locations = [location.id for location in loaded.locations]
            plan = plan_onboarding(store, [openings], locations)
            assert {(o.sku, o.quantity) for o in plan.to_record if o.location_id == "den-wh" and o.quantity} == {
                (sku, 10) for sku in LIVE
            }
            apply_onboarding(store, plan)
            assert plan.applied == len(plan.to_record) > 0
            again = plan_onboarding(store, [await _channel_openings(loaded, store, "web")], locations)
            apply_onboarding(store, again)
            assert (again.applied, len(again.already)) == (0, plan.applied)

        recorded.unlink()
        planned = {channel.channel: channel for channel in await run_dry_run(profile)}
        assert mutations(recorded) == []
        assert planned["web"].writes == []  # the ledger now says what the web store shows
        await run_sync_once(profile)
        assert [shopify.available(sku, web_locations["den-wh"]) for sku in LIVE] == [10, 10, 10]
        await shopify.webhooks.aclose()
        await square.webhooks.aclose()
