"""Shopify's mandatory compliance webhooks: verified like every delivery, read as privacy requests."""

from __future__ import annotations

import json

import pytest

from connectors.shopify.client import ShopifyClient
from omnibridge.sdk import SkippableRecordError, WebhookError
from omnibridge.sdk.channel import ChannelEvent
from omnibridge.sdk.privacy import PrivacyRequestEvent

from .client_support import NOW, ScriptedShop, run_client
from .test_webhooks import URL, headers, sign

REDACT = {
    "shop_id": 954889,
    "shop_domain": "demo.myshopify.com",
    "customer": {"id": 191167, "email": "john@example.com", "phone": "555-625-1199"},
    "orders_to_redact": [299938, 280263],
}
DATA_REQUEST = {
    "shop_id": 954889,
    "shop_domain": "demo.myshopify.com",
    "orders_requested": [299938],
    "customer": {"id": 191167, "email": "john@example.com", "phone": "555-625-1199"},
    "data_request": {"id": 9999},
}


def events(topic: str, payload: object, **header: str) -> list[ChannelEvent]:
    body = json.dumps(payload).encode()

    async def call(client: ShopifyClient) -> list[ChannelEvent]:
        delivery = client.verify_webhook(body, {**headers(body, topic), **header}, URL)
        return await client.webhook_events(delivery)

    found, shop = run_client("2026-04", call, ScriptedShop("2026-04"))
    assert shop.sent == []  # nothing is fetched for a compliance webhook
    return found


def test_customers_redact_becomes_a_redact_request_with_gids() -> None:
    assert events("customers/redact", REDACT) == [
        PrivacyRequestEvent(
            "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
            "redact",
            NOW,
            customer_ref="gid://shopify/Customer/191167",
            email="john@example.com",
            phone="555-625-1199",
            orders=("gid://shopify/Order/299938", "gid://shopify/Order/280263"),
            shop="demo.myshopify.com",
        )
    ]


def test_data_request_and_shop_redact() -> None:
    (request,) = events("customers/data_request", DATA_REQUEST)
    assert isinstance(request, PrivacyRequestEvent)
    assert (request.kind, request.orders) == ("data_request", ("gid://shopify/Order/299938",))
    (shop,) = events("shop/redact", {"shop_id": 954889, "shop_domain": "demo.myshopify.com"})
    assert isinstance(shop, PrivacyRequestEvent)
    assert (shop.kind, shop.customer_ref, shop.shop) == ("shop_redact", None, "demo.myshopify.com")


def test_a_forged_compliance_webhook_is_refused_and_one_without_customer_is_skipped() -> None:
    body = json.dumps(REDACT).encode()
    with pytest.raises(WebhookError, match="does not match"):
        events("customers/redact", REDACT, **{"X-Shopify-Hmac-Sha256": sign(body, "wrong-secret")})
    with pytest.raises(SkippableRecordError, match="names no customer"):
        events("customers/redact", {"shop_domain": "demo.myshopify.com", "customer": {}})
