"""Square emulator, webhooks: signatures over notification_url + body, event shapes, duplicates and retries."""

from __future__ import annotations

import json
from typing import Any

import httpx

from omnibridge.sdk import verify_hmac_base64

from .emulator_support import HOOK_URL, SIGNATURE_KEY, SKU, Shop, adjustment, make_shop, run


def _payloads(shop: Shop) -> list[dict[str, Any]]:
    return [json.loads(body) for _, body in shop.receiver.received]


def test_pos_sale_sends_signed_order_updated_and_inventory_count_updated() -> None:
    shop = make_shop()

    async def sale() -> dict[str, Any]:
        order = shop.emu.pos_sale(shop.location_id, [(SKU, 2)])
        await shop.emu.webhooks.drain(timeout=5)
        return order

    order = run(sale)
    assert shop.emu.quantity(SKU, shop.location_id) == 8
    payloads = _payloads(shop)
    assert [p["type"] for p in payloads] == ["order.updated", "inventory.count.updated"]  # no order.created for POS
    for headers, body in shop.receiver.received:
        signed = HOOK_URL.encode() + body
        assert verify_hmac_base64(SIGNATURE_KEY, signed, headers["x-square-hmacsha256-signature"])
        assert not verify_hmac_base64("another-key", signed, headers["x-square-hmacsha256-signature"])
        assert not verify_hmac_base64(SIGNATURE_KEY, body, headers["x-square-hmacsha256-signature"])
        assert headers["square-environment"] == "Sandbox"
        assert headers["square-initial-delivery-timestamp"].endswith("Z")
        assert "square-retry-number" not in headers

    updated, counted = payloads
    assert updated["merchant_id"] == "MLEMULATOR"
    assert updated["data"]["type"] == "order_updated"
    assert updated["data"]["id"] == order["id"]
    assert updated["data"]["object"]["order_updated"] | {"created_at": "", "updated_at": ""} == {
        "order_id": order["id"],
        "version": order["version"],
        "location_id": shop.location_id,
        "state": "COMPLETED",
        "created_at": "",
        "updated_at": "",
    }
    assert counted["data"]["type"] == "inventory_counts"
    (count,) = counted["data"]["object"]["inventory_counts"]
    assert count | {"calculated_at": ""} == {
        "catalog_object_id": shop.variation_id,
        "catalog_object_type": "ITEM_VARIATION",
        "state": "IN_STOCK",
        "location_id": shop.location_id,
        "quantity": "8",
        "calculated_at": "",
    }
    assert updated["event_id"] != counted["event_id"]


def test_api_writes_fire_inventory_count_updated_once_and_replays_fire_nothing() -> None:
    shop = make_shop()
    body = {"idempotency_key": "k-1", "changes": [adjustment(shop, "1", -1, from_state="NONE", to_state="IN_STOCK")]}

    async def twice() -> None:
        async with shop.client() as client:
            assert (await client.post("/v2/inventory/changes/batch-create", json=body)).status_code == 200
            assert (await client.post("/v2/inventory/changes/batch-create", json=body)).status_code == 200
        await shop.emu.webhooks.drain(timeout=5)

    run(twice)
    payloads = _payloads(shop)
    assert [p["type"] for p in payloads] == ["inventory.count.updated"]
    assert payloads[0]["data"]["object"]["inventory_counts"][0]["quantity"] == "11"


def test_redeliver_last_repeats_the_event_id() -> None:
    shop = make_shop()

    async def script() -> None:
        shop.emu.receive_stock(shop.location_id, SKU, 5)
        shop.emu.physical_count(shop.location_id, SKU, 3)
        shop.emu.redeliver_last("inventory.count.updated")
        await shop.emu.webhooks.drain(timeout=5)

    run(script)
    payloads = _payloads(shop)
    assert [p["data"]["object"]["inventory_counts"][0]["quantity"] for p in payloads] == ["15", "3", "3"]
    assert payloads[1]["event_id"] == payloads[2]["event_id"]
    assert payloads[0]["event_id"] != payloads[1]["event_id"]
    assert shop.emu.quantity(SKU, shop.location_id) == 3


def test_failed_deliveries_are_retried_with_square_retry_headers() -> None:
    shop = make_shop()
    shop.receiver.statuses = [500, 503]

    async def script() -> None:
        shop.emu.receive_stock(shop.location_id, SKU, 1)
        await shop.emu.webhooks.drain(timeout=5)

    run(script)
    attempts = shop.receiver.received
    assert len(attempts) == 3
    assert [h.get("square-retry-number") for h, _ in attempts] == [None, "1", "2"]
    assert attempts[1][0]["square-retry-reason"]
    assert len({body for _, body in attempts}) == 1
    for headers, body in attempts:
        assert verify_hmac_base64(SIGNATURE_KEY, HOOK_URL.encode() + body, headers["x-square-hmacsha256-signature"])
    (record,) = shop.emu.webhooks.deliveries
    assert record.delivered


def test_set_notification_url_changes_what_is_signed() -> None:
    shop = make_shop()
    other = "https://hooks.example.com/omnibridge/square?profile=shop-2"
    shop.emu.set_notification_url(other)

    async def script() -> None:
        shop.emu.physical_count(shop.location_id, SKU, 4)
        await shop.emu.webhooks.drain(timeout=5)

    run(script)
    ((headers, body),) = shop.receiver.received
    assert verify_hmac_base64(SIGNATURE_KEY, other.encode() + body, headers["x-square-hmacsha256-signature"])
    assert not verify_hmac_base64(SIGNATURE_KEY, HOOK_URL.encode() + body, headers["x-square-hmacsha256-signature"])


def test_control_api_redelivers_and_drains() -> None:
    shop = make_shop()

    async def script() -> list[int]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=shop.emu.app), base_url="http://emu") as c:
            await c.post("/_emulator/receive", json={"location_id": shop.location_id, "sku": SKU, "quantity": 2})
            again = await c.post("/_emulator/redeliver", json={"event_type": "inventory.count.updated"})
            none = await c.post("/_emulator/redeliver", json={"event_type": "order.created"})
            drained = await c.post("/_emulator/drain", json={"timeout": 5})
            listed = await c.get("/_emulator/webhooks")
            assert [d["duplicate"] for d in listed.json()] == [False, True]
            assert all(d["delivered"] for d in listed.json())
            return [again.status_code, none.status_code, drained.status_code]

    assert run(script) == [200, 400, 200]
    first, second = _payloads(shop)
    assert first == second
