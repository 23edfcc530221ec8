"""Forwarded SQS notifications: signature, identification, malformed bodies, and the events they carry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import respx

from connectors.amazon.spec_check import load_spec
from omnibridge.sdk import SkippableRecordError, WebhookError, hmac_sha256_base64
from omnibridge.sdk.channel import OrderEvent, OrderEventKind, StockObservedEvent

from .test_client_support import ENDPOINT, FORWARDER_SECRET, SELLER, connector, lwa_route

HEADER = "X-Omnibridge-Forwarder-Signature"


def order_change(order_id: str = "903-8868176-2219830", notification_id: str = "d0e9e693-c3ad") -> dict[str, Any]:
    return {
        "NotificationVersion": "1.0",
        "NotificationType": "ORDER_CHANGE",
        "PayloadVersion": "1.0",
        "EventTime": "2026-03-02T11:09:53.109Z",
        "Payload": {
            "OrderChangeNotification": {
                "NotificationLevel": "OrderLevel",
                "SellerId": "A1SELLER0TEST",
                "AmazonOrderId": order_id,
                "OrderChangeType": "OrderStatusChange",
                "Summary": {"MarketplaceId": "ATVPDKIKX0DER", "OrderStatus": "Unshipped", "FulfillmentType": "MFN"},
            }
        },
        "NotificationMetadata": {
            "ApplicationId": "amzn1.sellerapps.app.test",
            "SubscriptionId": "subscription-1",
            "PublishTime": "2026-03-02T11:09:54.000Z",
            "NotificationId": notification_id,
        },
    }


FEED_FINISHED = {
    "notificationVersion": "2020-09-04",
    "notificationType": "FEED_PROCESSING_FINISHED",
    "payloadVersion": "2020-09-04",
    "eventTime": "2026-03-02T11:42:04.284Z",
    "payload": {
        "feedProcessingFinishedNotification": {
            "sellerId": "A1SELLER0TEST",
            "feedId": "53347018456",
            "feedType": "JSON_LISTINGS_FEED",
            "processingStatus": "DONE",
            "resultFeedDocumentId": "amzn1.tortuga.3.result",
        }
    },
    "notificationMetadata": {
        "applicationId": "amzn1.sellerapps.app.test",
        "subscriptionId": "subscription-2",
        "publishTime": "2026-03-02T11:42:04.284Z",
        "notificationId": "feed-notification-1",
    },
}


def signed(payload: Any, secret: str = FORWARDER_SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    return body, {HEADER: hmac_sha256_base64(secret, body), "Content-Type": "application/json"}


@pytest.fixture
def amazon() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=ENDPOINT, assert_all_called=False) as router:
        lwa_route(router)
        yield router


def test_signed_order_change_is_identified_by_notification_id() -> None:
    client, time = connector()
    body, headers = signed(order_change())
    delivery = client.verify_webhook(body, headers, "https://omnibridge.example/webhooks/amazon")
    assert delivery.delivery_id == delivery.event_id == "d0e9e693-c3ad"
    assert delivery.topic == "ORDER_CHANGE"
    assert delivery.raw_body == body
    assert delivery.received_at == time.now()


def test_camel_case_feed_notification_is_identified() -> None:
    client, _ = connector()
    body, headers = signed(FEED_FINISHED)
    delivery = client.verify_webhook(body, headers, "")
    assert (delivery.delivery_id, delivery.topic) == ("feed-notification-1", "FEED_PROCESSING_FINISHED")


@pytest.mark.parametrize(
    ("mutate", "match"),
    [
        (lambda b, h: (b, {}), "missing X-Omnibridge-Forwarder-Signature"),
        (lambda b, h: (b + b" ", h), "does not match"),
        (lambda b, h: (b, {HEADER: hmac_sha256_base64("another-secret", b)}), "does not match"),
        (lambda b, h: (b, {HEADER: "not base64!"}), "does not match"),
    ],
)
def test_forged_or_unsigned_deliveries_are_refused(mutate: Any, match: str) -> None:
    client, _ = connector()
    body, headers = mutate(*signed(order_change()))
    with pytest.raises(WebhookError, match=match):
        client.verify_webhook(body, headers, "")


def test_without_forwarder_secret_nothing_is_accepted() -> None:
    client, _ = connector(forwarder_secret=None)
    body, headers = signed(order_change())
    with pytest.raises(WebhookError, match="forwarder_secret"):
        client.verify_webhook(body, headers, "")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({k: v for k, v in order_change().items() if k != "NotificationMetadata"}, "NotificationMetadata"),
        ({k: v for k, v in order_change().items() if k != "NotificationType"}, "NotificationType"),
        ({**order_change(), "Payload": {"OrderChangeNotification": {}}}, "AmazonOrderId"),
        ([1, 2], "not a JSON object"),
    ],
)
def test_authentic_but_malformed_bodies_name_the_field(payload: Any, field: str) -> None:
    client, _ = connector()
    body, headers = signed(payload)
    with pytest.raises(WebhookError, match=field):
        client.verify_webhook(body, headers, "")


@pytest.mark.anyio
async def test_order_change_fetches_the_order_and_its_items(amazon: respx.MockRouter) -> None:
    order_id = "903-8868176-2219830"
    get_order = amazon.get(f"/orders/v0/orders/{order_id}").respond(
        json={
            "payload": {
                "AmazonOrderId": order_id,
                "PurchaseDate": "2026-03-02T11:00:00Z",
                "LastUpdateDate": "2026-03-02T11:09:53Z",
                "OrderStatus": "Canceled",
                "FulfillmentChannel": "MFN",
            }
        }
    )
    items = amazon.get(f"/orders/v0/orders/{order_id}/orderItems").respond(
        json={
            "payload": {
                "OrderItems": [{"ASIN": "B0", "SellerSKU": "SKU-A", "OrderItemId": "OI-1", "QuantityOrdered": 2}]
            }
        }
    )
    client, _ = connector()
    body, headers = signed(order_change(order_id))
    try:
        events = await client.webhook_events(client.verify_webhook(body, headers, ""))
    finally:
        await client.aclose()
    [event] = events
    assert isinstance(event, OrderEvent)
    assert (event.ref, event.kind, event.lines[0].sku, event.lines[0].line_ref) == (
        order_id,
        OrderEventKind.CANCELLED,
        "SKU-A",
        "OI-1",
    )
    assert get_order.call_count == 1
    assert items.call_count == 1


@pytest.mark.anyio
async def test_order_amazon_does_not_return_is_skippable(amazon: respx.MockRouter) -> None:
    amazon.get("/orders/v0/orders/903-1").respond(404, json={"errors": [{"code": "NotFound", "message": "no"}]})
    client, _ = connector()
    body, headers = signed(order_change("903-1"))
    try:
        with pytest.raises(SkippableRecordError, match="903-1"):
            await client.webhook_events(client.verify_webhook(body, headers, ""))
    finally:
        await client.aclose()


@pytest.mark.anyio
async def test_feed_processing_finished_carries_no_events(amazon: respx.MockRouter) -> None:
    client, _ = connector()
    body, headers = signed(FEED_FINISHED)
    try:
        assert await client.webhook_events(client.verify_webhook(body, headers, "")) == []
    finally:
        await client.aclose()
    assert len(amazon.calls) == 0


def mfn_change(sku: str = "SKU-A", quantity: Any = 4, **payload: Any) -> dict[str, Any]:
    return {
        "NotificationVersion": "1.0",
        "NotificationType": "LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
        "PayloadVersion": "1.0",
        "EventTime": "2026-03-02T11:09:53.194Z",
        "Payload": {
            "SellerId": SELLER,
            "FulfillmentChannelCode": "DEFAULT",
            "Sku": sku,
            "Quantity": quantity,
            **payload,
        },
        "NotificationMetadata": {
            "ApplicationId": "amzn1.sellerapps.app.test",
            "SubscriptionId": "subscription-3",
            "PublishTime": "2026-03-02T11:09:54.000Z",
            "NotificationId": "mfn-notification-1",
        },
    }


@pytest.mark.anyio
async def test_mfn_quantity_change_is_a_stock_observation_without_a_call(amazon: respx.MockRouter) -> None:
    schema = jsonschema.Draft7Validator(load_spec("ListingsItemMfnQuantityChange.json"))
    schema.validate(mfn_change())
    client, time = connector()
    body, headers = signed(mfn_change("A/B C", 0))
    no_time, no_time_headers = signed({k: v for k, v in mfn_change().items() if k != "EventTime"})
    try:
        delivery = client.verify_webhook(body, headers, "")
        events = await client.webhook_events(delivery)
        fallback = await client.webhook_events(client.verify_webhook(no_time, no_time_headers, ""))
    finally:
        await client.aclose()
    assert (delivery.delivery_id, delivery.topic) == ("mfn-notification-1", "LISTINGS_ITEM_MFN_QUANTITY_CHANGE")
    assert events == [StockObservedEvent("A/B C", "DEFAULT", 0, datetime(2026, 3, 2, 11, 9, 53, 194000, tzinfo=UTC))]
    assert fallback == [StockObservedEvent("SKU-A", "DEFAULT", 4, time.now())]
    assert len(amazon.calls) == 0


@pytest.mark.anyio
async def test_mfn_quantity_change_of_another_seller_or_channel_carries_nothing() -> None:
    client, _ = connector()
    try:
        for payload in (mfn_change(SellerId="A9OTHERSELLER"), mfn_change(FulfillmentChannelCode="AMAZON_NA")):
            body, headers = signed(payload)
            assert await client.webhook_events(client.verify_webhook(body, headers, "")) == []
    finally:
        await client.aclose()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (mfn_change(sku=""), "Payload.Sku"),
        (mfn_change(quantity="4"), "integer Payload.Quantity"),
        (mfn_change(quantity=True), "integer Payload.Quantity"),
        ({**mfn_change(), "Payload": None}, "Payload.Sku"),
    ],
)
def test_malformed_mfn_quantity_change_names_the_field(payload: Any, field: str) -> None:
    client, _ = connector()
    body, headers = signed(payload)
    with pytest.raises(WebhookError, match=field):
        client.verify_webhook(body, headers, "")
