"""`omnibridge sync --once` with a Clover channel: the real connector against its emulator over HTTP, through the
engine (levels pushed, a POS sale imported once, nothing left to do on the next pass)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from connectors.clover.emulator import CloverEmulator, CloverEmulatorConfig
from omnibridge.cli.sync import run_sync_once
from omnibridge.config import load_profile
from omnibridge.demo.catalog import DEMO_LOCATIONS, demo_products, opening_stock
from omnibridge.demo.world import seed_ledger
from omnibridge.sdk.emulator import free_port, run_server
from omnibridge.store import open_store
from omnibridge.sync import projection

MERCHANT = "BOULDERSHOP01"
TOKEN = "clover-sync-token"
AUTH = "clover-sync-auth-code"


def write_profile(workdir: Path, base_url: str) -> Path:
    (workdir / "connectors").mkdir()
    (workdir / "mappings").mkdir()
    settings = {"base_url": base_url, "merchant_id": MERCHANT, "access_token": TOKEN, "webhook_auth_code": AUTH}
    (workdir / "connectors" / "clover.yaml").write_text(yaml.safe_dump({"connector": "clover", "settings": settings}))
    (workdir / "mappings" / "clover.yaml").write_text(yaml.safe_dump({"location_map": {MERCHANT: "boulder"}}))
    profile = {
        "version": 1,
        "merchant": {"name": "Clover shop", "currency": "USD", "timezone": "America/Denver"},
        "store": {"url": "sqlite:///omnibridge.db"},
        "locations": [
            {
                "id": loc.id,
                "name": loc.name,
                "type": loc.type.value,
                "capabilities": sorted(c.value for c in loc.capabilities),
            }
            for loc in DEMO_LOCATIONS
        ],
        "channels": [
            {
                "id": "pos",
                "connector": "clover",
                "profile": "connectors/clover.yaml",
                "mappings": ["mappings/clover.yaml"],
            }
        ],
    }
    path = workdir / "omnibridge.yaml"
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    return path


@pytest.mark.anyio
async def test_push_then_a_pos_sale_then_nothing(tmp_path: Path) -> None:
    emu = CloverEmulator(CloverEmulatorConfig(access_token=TOKEN, merchant_id=MERCHANT, auth_code=AUTH))
    stock = opening_stock()
    skus = [v.sku for p in demo_products() for v in p.variants]
    for n, sku in enumerate(skus):
        drift = 3 if n % 10 == 0 else 0  # every 10th SKU shows 3 too many on the POS
        emu.add_item(sku, sku, 1000, stock[(sku, "boulder")] + drift + 0.25)  # a weighed fraction is rounded down
    port = free_port()
    profile = write_profile(tmp_path, f"http://127.0.0.1:{port}")
    with open_store(load_profile(profile).store_url) as store:
        seed_ledger(store)

    async with run_server(emu.app, port=port):
        [first] = (await run_sync_once(profile)).as_dict()["channels"]
        assert (first["levels_checked"], first["pushed"]["applied"]) == (60, 6)

        emu.pos_sale([("TENT-4P-BLU", 2)])
        [second] = (await run_sync_once(profile)).as_dict()["channels"]
        assert (second["events_pulled"], second["movements_applied"], second["orders_recorded"]) == (1, 1, 1)
        assert second["levels_differing"] == 0

        [third] = (await run_sync_once(profile)).as_dict()["channels"]
        assert (third["levels_differing"], third["movements_applied"]) == (0, 0)
        await emu.webhooks.aclose()
    assert emu.refused == 0

    with open_store(load_profile(profile).store_url) as store:
        for sku in ("TENT-4P-BLU", skus[0], skus[10]):
            assert int(emu.quantity(sku)) == projection(store, sku, "boulder")
        assert projection(store, "TENT-4P-BLU", "boulder") == stock[("TENT-4P-BLU", "boulder")] - 2


def test_the_verification_post_is_answered_200_and_stores_nothing(tmp_path: Path) -> None:
    """Clover's dashboard wants a 2xx for its URL-verification POST; the engine acknowledges it, stores nothing,
    and still refuses a notification without the auth code."""
    from omnibridge.sync import SyncEngine

    profile = load_profile(write_profile(tmp_path, "http://127.0.0.1:9"))
    with open_store(profile.store_url) as store:
        engine = SyncEngine.for_profile(store, profile)
        url = "https://omnibridge.example/webhooks/pos"
        receipt = engine.receive("pos", b'{"verificationCode":"ce7643c1-0d1f"}', {}, url)
        assert (receipt.status, receipt.http_status) == ("acknowledged", 200)
        assert "ce7643c1-0d1f" in receipt.message
        forged = engine.receive("pos", b'{"appId":"A","merchants":{}}', {"X-Clover-Auth": "wrong"}, url)
        assert forged.http_status == 401
        assert store.inbox() == []
