"""Scripted shop actions: state changes like Shopify's and signed webhook deliveries; the /_emulator/ API."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from omnibridge.sdk import verify_hmac_base64

from .emulator_support import SECRET, SKU, SKU2, Shop, client, make_shop


def drain(shop: Shop) -> None:
    asyncio.run(shop.emu.webhooks.drain(5))


def test_place_order_commits_stock_and_fires_signed_orders_create_then_level_update() -> None:
    shop = make_shop()
    order = shop.emu.place_order([(SKU, 2), (SKU2, 1)], location_id=shop.location)
    assert shop.emu.quantities(SKU, shop.location) | {} == {
        **shop.emu.quantities(SKU, shop.location),
        "available": 8,
        "committed": 2,
        "on_hand": 10,
    }
    drain(shop)
    assert shop.receiver.topics() == ["orders/create", "inventory_levels/update", "inventory_levels/update"]
    for delivery in shop.receiver.received:
        assert verify_hmac_base64(SECRET, delivery.body, delivery.headers["x-shopify-hmac-sha256"])
        assert not verify_hmac_base64("other-secret", delivery.body, delivery.headers["x-shopify-hmac-sha256"])
        assert delivery.headers["x-shopify-shop-domain"] == "demo-outfitters.myshopify.com"
        assert delivery.headers["x-shopify-api-version"] == "2025-01"
        assert delivery.headers["x-shopify-webhook-id"]
        assert delivery.headers["x-shopify-event-id"]
        assert delivery.headers["x-shopify-triggered-at"].startswith("2026-11-23T19:00:00")
    body = json.loads(shop.receiver.received[0].body)
    assert body == order
    assert body["admin_graphql_api_id"] == f"gid://shopify/Order/{body['id']}"
    assert [(li["sku"], li["quantity"]) for li in body["line_items"]] == [(SKU, 2), (SKU2, 1)]
    assert body["created_at"] == "2026-11-23T15:00:00-04:00"
    level = json.loads(shop.receiver.received[1].body)
    assert level == {
        "inventory_item_id": int(shop.item_id.rsplit("/", 1)[1]),
        "location_id": int(shop.location.rsplit("/", 1)[1]),
        "available": 8,
        "updated_at": "2026-11-23T15:00:00-04:00",
        "admin_graphql_api_id": (
            f"gid://shopify/InventoryLevel/{shop.location.rsplit('/', 1)[1]}"
            f"?inventory_item_id={shop.item_id.rsplit('/', 1)[1]}"
        ),
    }


def test_cancel_with_restock_releases_committed_and_fires_cancel_then_level() -> None:
    shop = make_shop()
    order = shop.emu.place_order([(SKU, 3)], location_id=shop.location)
    shop.clock.advance(30)
    cancelled = shop.emu.cancel_order(order["admin_graphql_api_id"], restock=True)
    assert cancelled["cancelled_at"] == "2026-11-23T15:00:30-04:00"
    assert cancelled["cancel_reason"] == "customer"
    assert shop.emu.quantities(SKU, shop.location)["available"] == 10
    assert shop.emu.quantities(SKU, shop.location)["committed"] == 0
    drain(shop)
    assert shop.receiver.topics()[-2:] == ["orders/cancelled", "inventory_levels/update"]
    assert json.loads(shop.receiver.received[-1].body)["available"] == 10


def test_refund_return_after_fulfilment_restocks_at_the_given_location() -> None:
    shop = make_shop()
    order = shop.emu.place_order([(SKU, 2)], location_id=shop.location)
    shop.emu.fulfill(order["id"])
    assert shop.emu.quantities(SKU, shop.location) | {} == {
        **shop.emu.quantities(SKU, shop.location),
        "available": 8,
        "committed": 0,
        "on_hand": 8,
    }
    refund = shop.emu.refund(order["id"], [(SKU, 1)], restock_type="return", location_id=shop.location2)
    assert shop.emu.available(SKU, shop.location2) == 4
    assert shop.emu.available(SKU, shop.location) == 8
    [line] = refund["refund_line_items"]
    assert line["restock_type"] == "return"
    assert line["quantity"] == 1
    assert line["location_id"] == int(shop.location2.rsplit("/", 1)[1])
    assert refund["order_id"] == order["id"]
    assert refund["admin_graphql_api_id"].startswith("gid://shopify/Refund/")
    drain(shop)
    assert shop.receiver.topics()[-2:] == ["refunds/create", "inventory_levels/update"]


def test_admin_adjust_fires_level_update_and_no_restock_refund_fires_none() -> None:
    shop = make_shop()
    assert shop.emu.admin_adjust(SKU, shop.location, -4) == 6
    order = shop.emu.place_order([(SKU2, 1)], location_id=shop.location)
    shop.emu.fulfill(order["id"])
    shop.emu.refund(order["id"], [(SKU2, 1)], restock_type="no_restock")
    drain(shop)
    assert shop.receiver.topics() == [
        "inventory_levels/update",
        "orders/create",
        "inventory_levels/update",
        "fulfillments/create",  # a fulfilment leaves available alone: no inventory_levels/update
        "refunds/create",
    ]


def test_redelivery_and_duplicates_keep_webhook_and_event_ids() -> None:
    shop = make_shop()
    shop.emu.place_order([(SKU, 1)], location_id=shop.location)
    shop.emu.redeliver_last("orders/create")
    shop.emu.webhooks.knobs.duplicate_next = 1
    shop.emu.admin_adjust(SKU, shop.location, 1)
    drain(shop)
    creates = [r for r in shop.receiver.received if r.headers["x-shopify-topic"] == "orders/create"]
    assert len(creates) == 2
    assert creates[0].body == creates[1].body
    assert creates[0].headers["x-shopify-webhook-id"] == creates[1].headers["x-shopify-webhook-id"]
    assert creates[0].headers["x-shopify-event-id"] == creates[1].headers["x-shopify-event-id"]
    levels = [r for r in shop.receiver.received if r.headers["x-shopify-topic"] == "inventory_levels/update"]
    assert len(levels) == 3  # order commit, adjust, adjust duplicated
    assert levels[1].headers["x-shopify-event-id"] == levels[2].headers["x-shopify-event-id"]
    ids = {r.headers["x-shopify-event-id"] for r in shop.receiver.received}
    assert len(ids) == 3


def test_failed_attempts_are_retried_with_the_same_signed_body() -> None:
    shop = make_shop()
    shop.receiver.fail_with = [500, 503]
    shop.emu.admin_adjust(SKU, shop.location, 2)
    drain(shop)
    assert len(shop.receiver.received) == 3
    assert len({r.body for r in shop.receiver.received}) == 1
    assert all(verify_hmac_base64(SECRET, r.body, r.headers["x-shopify-hmac-sha256"]) for r in shop.receiver.received)
    assert shop.emu.webhooks.deliveries[-1].delivered


def test_control_endpoints_drive_the_shop() -> None:
    shop = make_shop()

    async def go() -> dict[str, Any]:
        async with client(shop.emu) as http:
            loc = (await http.post("/_emulator/locations", json={"name": "Pop-up"})).json()["id"]
            product = (
                await http.post("/_emulator/products", json={"sku": "MUG-1", "title": "Mug", "price": "12.00"})
            ).json()
            assert product["inventory_item_id"].startswith("gid://shopify/InventoryItem/")
            assert (
                await http.post("/_emulator/inventory/set", json={"sku": "MUG-1", "location_id": loc, "available": 5})
            ).json() == {"available": 5}
            order = (
                await http.post(
                    "/_emulator/orders", json={"lines": [{"sku": "MUG-1", "quantity": 2}], "location_id": loc}
                )
            ).json()
            refund = await http.post(
                f"/_emulator/orders/{order['id']}/refunds", json={"lines": [["MUG-1", 1]], "restock_type": "cancel"}
            )
            assert refund.status_code == 200
            cancel = await http.post(
                f"/_emulator/orders/{order['admin_graphql_api_id']}/cancel", json={"restock": True}
            )
            assert cancel.json()["cancelled_at"] is not None
            adjust = await http.post(
                "/_emulator/inventory/adjust", json={"sku": "MUG-1", "location_id": loc, "delta": -1}
            )
            assert adjust.json() == {"available": 4}
            bad = await http.post("/_emulator/orders", json={"lines": [["NOPE", 1]], "location_id": loc})
            assert bad.status_code == 422
            assert "NOPE" in bad.json()["error"]
            knobs = (
                await http.post(
                    "/_emulator/knobs", json={"error_rate": 0.0, "fail_next": 1, "webhooks": {"duplicate_next": 1}}
                )
            ).json()
            assert knobs["fail_next"] == 1
            assert knobs["webhooks"]["duplicate_next"] == 1
            assert (await http.post("/_emulator/webhook-url", json={"url": "http://elsewhere.test/hooks"})).json() == {
                "url": "http://elsewhere.test/hooks"
            }
            redelivered = (await http.post("/_emulator/webhooks/redeliver", json={"topic": "orders/create"})).json()
            assert redelivered["topic"] == "orders/create"
            state: dict[str, Any] = (await http.get("/_emulator/state")).json()
            await shop.emu.aclose()
            return state

    state = asyncio.run(go())
    mug = next(level for level in state["levels"] if level["sku"] == "MUG-1")
    assert mug["quantities"]["available"] == 4
    assert mug["quantities"]["committed"] == 0
    assert [o["financial_status"] for o in state["orders"]] == ["refunded"]
    assert [w["topic"] for w in state["webhooks"]][:2] == ["orders/create", "inventory_levels/update"]
