"""`omnibridge deadletters replay` hands a carrier channel's dead letters back to the carrier runtime (not to the
sync engine, which does not know carrier channels and would bury them again as "not configured")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.easypost.webhooks import SIGNATURE_HEADER, sign
from omnibridge.cli.deadletters import replay_entries
from omnibridge.config import load_profile
from omnibridge.shipping.runtime import CarrierRuntime
from omnibridge.store import InboxStatus, open_store

SECRET = "replay-secret"


def write_profile(root: Path) -> Path:
    (root / "easypost.yaml").write_text(
        "connector: easypost\n"
        f"settings: {{base_url: 'http://127.0.0.1:9/v2', api_key: EZTK1, webhook_secret: {SECRET}}}\n"
    )
    (root / "omnibridge.yaml").write_text(
        "version: 1\n"
        "merchant: {name: T, currency: USD, timezone: UTC}\n"
        "store: {url: 'sqlite:///omnibridge.db'}\n"
        "locations: [{id: wh, name: Warehouse, type: warehouse}]\n"
        "channels:\n"
        "  - {id: parcels, connector: easypost, profile: easypost.yaml}\n"
    )
    return root / "omnibridge.yaml"


@pytest.mark.anyio
async def test_a_carrier_dead_letter_is_replayed_through_the_carrier_runtime(tmp_path: Path) -> None:
    path = write_profile(tmp_path)
    body = json.dumps(
        {"object": "Event", "id": "evt_1", "description": "tracker.updated", "result": {"object": "Tracker"}}
    ).encode()
    profile = load_profile(path)
    with open_store(profile.store_url) as store:
        carriers = CarrierRuntime.for_profile(store, profile)
        try:
            receipt = carriers.receive(
                "parcels", body, {SIGNATURE_HEADER: sign(SECRET, body)}, "http://x/webhooks/parcels"
            )
            assert receipt.http_status == 200
            await carriers.process_pending()
        finally:
            await carriers.aclose()
        [entry] = store.inbox()
        assert entry.status is InboxStatus.DEAD

    report = await replay_entries(path, None)

    [row] = report["replayed"]
    assert row["id"] == entry.id
    assert row["status"] == "dead"  # still malformed: the carrier runtime looked at it again...
    assert "not configured" not in row["error"]  # ...rather than the engine refusing the channel
    assert "tracking" in row["error"]


def test_an_authentic_carrier_delivery_that_cannot_be_stored_is_a_dead_letter_answered_200(tmp_path: Path) -> None:
    profile = load_profile(write_profile(tmp_path))
    body = json.dumps({"object": "Event", "id": "evt_" + "9" * 300, "description": "tracker.updated"}).encode()
    with open_store(profile.store_url) as store:
        carriers = CarrierRuntime.for_profile(store, profile)
        receipt = carriers.receive("parcels", body, {SIGNATURE_HEADER: sign(SECRET, body)}, "http://x/webhooks/parcels")
        assert (receipt.http_status, receipt.status) == (200, "dead")
        [entry] = store.inbox()
        assert entry.status is InboxStatus.DEAD
        assert entry.error == "unstorable delivery: the delivery id is 304 characters long; at most 255 are kept"
        assert entry.delivery.raw_body == body
