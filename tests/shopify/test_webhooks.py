"""Webhook signature checks (pure) and the events each topic yields (with GraphQL look-ups where needed)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from connectors.shopify import queries, webhooks
from connectors.shopify.client import ShopifyClient
from omnibridge.sdk import SkippableRecordError, WebhookDelivery, WebhookError
from omnibridge.sdk.channel import (
    ChannelEvent,
    OrderEvent,
    OrderEventKind,
    OrderLineEvent,
    RefundEvent,
    RefundLineEvent,
    RestockType,
    StockObservedEvent,
)

from .client_support import NOW, SECRET, STORE, WAREHOUSE, ScriptedShop, data, fixture, fixture_bytes, run_client

URL = "https://omnibridge.example.com/webhooks/shopify"


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def headers(body: bytes, topic: str, **extra: str) -> dict[str, str]:
    values = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(body),
        "X-Shopify-Shop-Domain": "demo.myshopify.com",
        "X-Shopify-API-Version": "2026-04",
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "X-Shopify-Event-Id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
        "X-Shopify-Triggered-At": "2026-11-23T18:58:44.501Z",
    }
    values.update(extra)
    return values


def verify(body: bytes, hdrs: dict[str, str], secret: str | None = SECRET) -> WebhookDelivery:
    return webhooks.verify(body, hdrs, SecretStr(secret) if secret is not None else None, received_at=NOW)


def test_known_signature_vector() -> None:
    body = b'{"inventory_item_id":1,"location_id":2,"available":3}'
    hdrs = {
        "X-Shopify-Hmac-Sha256": "pZFdn7MS/KUc7hMeRFMbFzFw67nwClN4dXzGeFYE5/Q=",
        "X-Shopify-Webhook-Id": "d-1",
        "X-Shopify-Topic": "inventory_levels/update",
    }
    delivery = verify(body, hdrs, secret="hush")
    assert delivery.delivery_id == "d-1"
    assert delivery.event_id is None


def test_valid_delivery_is_identified() -> None:
    body = fixture_bytes("webhook_orders_create.json")

    delivery = verify(body, headers(body, "orders/create"))

    assert delivery.delivery_id == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    assert delivery.event_id == "98880550-7158-44d4-b7cd-2c97c8a091b5"
    assert delivery.topic == "orders/create"
    assert delivery.raw_body == body
    assert delivery.received_at == NOW
    assert delivery.headers["x-shopify-topic"] == "orders/create"


def test_header_names_are_case_insensitive() -> None:
    body = fixture_bytes("webhook_orders_create.json")
    lower = {name.lower(): value for name, value in headers(body, "orders/create").items()}

    assert verify(body, lower).topic == "orders/create"


def test_forged_altered_and_wrong_secret_deliveries_are_rejected() -> None:
    body = fixture_bytes("webhook_orders_create.json")
    with pytest.raises(WebhookError, match="does not match"):
        verify(body, headers(body, "orders/create", **{"X-Shopify-Hmac-Sha256": sign(body, "attacker")}))
    with pytest.raises(WebhookError, match="does not match"):
        verify(body.replace(b'"quantity":2', b'"quantity":9'), headers(body, "orders/create"))
    with pytest.raises(WebhookError, match="does not match"):
        verify(body, headers(body, "orders/create", **{"X-Shopify-Hmac-Sha256": "not base64!"}))


def test_missing_signature_or_ids_or_secret_are_rejected() -> None:
    body = fixture_bytes("webhook_orders_create.json")
    unsigned = headers(body, "orders/create")
    del unsigned["X-Shopify-Hmac-Sha256"]
    with pytest.raises(WebhookError, match="missing X-Shopify-Hmac-Sha256"):
        verify(body, unsigned)
    no_id = headers(body, "orders/create")
    del no_id["X-Shopify-Webhook-Id"]
    with pytest.raises(WebhookError, match="X-Shopify-Webhook-Id"):
        verify(body, no_id)
    no_topic = headers(body, "orders/create")
    del no_topic["X-Shopify-Topic"]
    with pytest.raises(WebhookError, match="X-Shopify-Topic"):
        verify(body, no_topic)
    with pytest.raises(WebhookError, match="api_secret"):
        verify(body, headers(body, "orders/create"), secret=None)


def test_signed_but_malformed_json_is_kept_and_its_parse_names_the_problem() -> None:
    # authentic but not JSON: accepted (so it is stored and dead-lettered with the reason), never refused
    for body in (b"{not json", b"[1, 2]", b"\xff\xfe"):
        delivery = verify(body, headers(body, "orders/create"))
        assert delivery.raw_body == body
        with pytest.raises(WebhookError, match="JSON"):
            webhooks.parse_body(body)


def test_a_replayed_delivery_keeps_its_delivery_id() -> None:
    body = fixture_bytes("webhook_orders_create.json")
    first = verify(body, headers(body, "orders/create"))
    replay = verify(body, headers(body, "orders/create", **{"X-Shopify-Triggered-At": "2026-11-23T19:10:00Z"}))

    assert replay.delivery_id == first.delivery_id
    assert replay.event_id == first.event_id
    assert replay.body_sha256 == first.body_sha256


def test_client_verify_webhook_uses_the_settings_secret() -> None:
    body = fixture_bytes("webhook_refunds_create.json")

    async def call(client: ShopifyClient) -> WebhookDelivery:
        return client.verify_webhook(body, headers(body, "refunds/create"), URL)

    delivery, shop = run_client("2026-04", call)
    assert delivery.topic == "refunds/create"
    assert shop.sent == []


def events(
    topic: str, name: str, shop: ScriptedShop | None = None, prime: list[str] | None = None
) -> tuple[list[ChannelEvent], ScriptedShop]:
    body = fixture_bytes(name)

    async def call(client: ShopifyClient) -> list[ChannelEvent]:
        if prime:
            await client.read_levels(prime)
        delivery = client.verify_webhook(body, headers(body, topic), URL)
        return await client.webhook_events(delivery)

    return run_client("2026-04", call, shop or ScriptedShop("2026-04"))


def test_orders_create_reads_the_order_for_its_assigned_locations() -> None:
    shop = ScriptedShop("2026-04")
    order = fixture("orders_page.json")["data"]["orders"]["nodes"][0]
    shop.reply("OrderLean", data({"order": order}))

    result, shop = events("orders/create", "webhook_orders_create.json", shop)

    # The lean read (cost 70) holds every line and location: the whole order (cost 917) is not read.
    (sent,) = shop.of("OrderLean")
    assert sent.query == queries.ORDER_LEAN_QUERY
    assert sent.variables == {"id": "gid://shopify/Order/5829485871155"}
    assert shop.of("Order") == []
    (placed,) = result
    assert isinstance(placed, OrderEvent)
    assert placed.kind is OrderEventKind.PLACED
    assert [line.location_ref for line in placed.lines] == [WAREHOUSE, STORE]


def test_orders_updated_for_a_deleted_order_gives_nothing() -> None:
    shop = ScriptedShop("2026-04")
    shop.reply("OrderLean", data({"order": None}))

    result, _ = events("orders/updated", "webhook_orders_create.json", shop)

    assert result == []


def test_an_order_with_refunds_is_read_whole_after_the_lean_read() -> None:
    shop = ScriptedShop("2026-04")
    order = fixture("orders_page.json")["data"]["orders"]["nodes"][0]
    shop.reply("OrderLean", data({"order": {**order, "refunds": [{"id": "gid://shopify/Refund/1"}]}}))
    shop.reply("Order", data({"order": order}))

    result, shop = events("orders/create", "webhook_orders_create.json", shop)

    assert [sent.operation for sent in shop.sent] == ["OrderLean", "Order"]
    assert len(result) == 1


def test_orders_cancelled_comes_from_the_payload() -> None:
    result, shop = events("orders/cancelled", "webhook_orders_cancelled.json")

    assert shop.sent == []
    assert result == [
        OrderEvent(
            "gid://shopify/Order/5829485903923",
            OrderEventKind.CANCELLED,
            datetime(2026, 11, 23, 18, 31, 8, tzinfo=UTC),
            (OrderLineEvent("gid://shopify/LineItem/14820539252787", "TEE-BLK-M", 1),),
            name="#1043",
            currency="EUR",
            total="19.90",
            status="cancelled",
        )
    ]


def test_refunds_create_comes_from_the_rest_payload() -> None:
    result, shop = events("refunds/create", "webhook_refunds_create.json")

    assert shop.sent == []
    assert result == [
        RefundEvent(
            "gid://shopify/Refund/998877665544",
            "gid://shopify/Order/5829485936691",
            datetime(2026, 11, 23, 18, 45, 29, tzinfo=UTC),
            (
                RefundLineEvent("gid://shopify/LineItem/14820539285555", "TEE-BLK-M", 1, RestockType.RETURN, STORE),
                RefundLineEvent("gid://shopify/LineItem/14820539285556", "GIFT-WRAP", 1, RestockType.NO_RESTOCK, None),
            ),
        )
    ]


def test_inventory_level_update_resolves_the_sku_from_the_cache() -> None:
    shop = ScriptedShop("2026-04")
    shop.reply("InventoryItemsBySku", fixture("inventory_items.json"))
    shop.reply("InventoryItem", fixture("inventory_item_more_levels.json"))

    result, shop = events("inventory_levels/update", "webhook_inventory_levels_update.json", shop, prime=["TEE-BLK-M"])

    assert len(shop.sent) == 1  # only the priming read; the SKU came from the cache
    assert result == [
        StockObservedEvent(
            "TEE-BLK-M",
            STORE,
            2,
            datetime(2026, 11, 23, 18, 30, tzinfo=UTC),
            item_ref="gid://shopify/InventoryItem/43729076",
        )
    ]


def test_inventory_level_update_looks_the_item_up_when_not_cached() -> None:
    shop = ScriptedShop("2026-04")
    item = {
        "id": "gid://shopify/InventoryItem/43729076",
        "sku": "TEE-BLK-M",
        "inventoryLevels": {"nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}},
    }
    shop.reply("InventoryItem", data({"inventoryItem": item}))

    result, shop = events("inventory_levels/update", "webhook_inventory_levels_update.json", shop)

    (sent,) = shop.of("InventoryItem")
    assert sent.variables == {"id": "gid://shopify/InventoryItem/43729076", "levels": 1, "levelsAfter": None}
    assert isinstance(result[0], StockObservedEvent)
    assert result[0].sku == "TEE-BLK-M"


def test_unmappable_payload_is_skippable_and_other_topics_give_nothing() -> None:
    body = b'{"id": 1, "order_id": 2, "refund_line_items": []}'

    async def call(client: ShopifyClient) -> list[Any]:
        delivery = client.verify_webhook(body, headers(body, "refunds/create"), URL)
        with pytest.raises(SkippableRecordError, match="created_at"):
            await client.webhook_events(delivery)
        other = client.verify_webhook(b"{}", headers(b"{}", "app/uninstalled"), URL)
        return await client.webhook_events(other)

    result, _ = run_client("2026-04", call)
    assert result == []
