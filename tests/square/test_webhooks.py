"""Square webhook signatures (Square's own SDK test vectors plus our fixtures) and notification → events."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
import respx
from pydantic import SecretStr

from connectors.square.webhooks import SIGNATURE_HEADER, verify_delivery
from omnibridge.sdk import SkippableRecordError, WebhookDelivery, WebhookError
from omnibridge.sdk.channel import ChannelEvent, OrderEvent, OrderEventKind, StockObservedEvent

from .fixtures import BASE_URL, NOTIFICATION_URL, NOW, SIGNATURE_KEY, connector, load, raw

# Square's published vector (square-python-sdk tests/utils/test_webhooks_helper.py and the other official SDKs).
SDK_BODY = (
    b'{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification",'
    b'"event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z",'
    b'"data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}'
)
SDK_SIGNATURE = "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4="
SDK_KEY = SecretStr("Ibxx_5AKakO-3qeNVR61Dw")
SDK_URL = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9"
RECEIVED = datetime(2025, 8, 21, 12, 0, 5, tzinfo=UTC)


def sign(body: bytes, url: str = NOTIFICATION_URL, key: str = SIGNATURE_KEY) -> str:
    """Independent reference implementation: base64(HMAC-SHA256(key, url + body))."""
    return base64.b64encode(hmac.new(key.encode(), url.encode() + body, hashlib.sha256).digest()).decode()


def test_square_sdk_vector_verifies() -> None:
    delivery = verify_delivery(
        SDK_BODY,
        {"X-Square-HmacSha256-Signature": SDK_SIGNATURE, "Square-Environment": "Production"},
        signature_key=SDK_KEY,
        notification_url=SDK_URL,
        received_at=RECEIVED,
    )
    assert delivery.delivery_id == delivery.event_id == "ac3ac95b-f97d-458c-a6e6-18981597e05f"
    assert delivery.topic == "webhooks.test_notification"
    assert delivery.raw_body == SDK_BODY
    assert delivery.headers["square-environment"] == "Production"


@pytest.mark.parametrize(
    ("body", "signature", "key", "url", "problem"),
    [
        (
            SDK_BODY,
            SDK_SIGNATURE,
            SDK_KEY,
            "https://webhook.site/79a4f3a-dcfa-49ee-bac5-9d0edad886b9",
            "does not match",
        ),
        (SDK_BODY, SDK_SIGNATURE, SecretStr("MCmhFRxGX82xMwg5FsaoQA"), SDK_URL, "does not match"),
        (SDK_BODY, "1z2n3DEJJiUPKcPzQo1ftvbxGdw=", SDK_KEY, SDK_URL, "does not match"),
        (SDK_BODY + b" ", SDK_SIGNATURE, SDK_KEY, SDK_URL, "does not match"),
        (SDK_BODY, "not base64!!", SDK_KEY, SDK_URL, "does not match"),
        (SDK_BODY, SDK_SIGNATURE, None, SDK_URL, "not configured"),
        (SDK_BODY, SDK_SIGNATURE, SDK_KEY, None, "not configured"),
    ],
    ids=["wrong-url", "wrong-key", "forged", "body-altered", "garbage", "no-key", "no-url"],
)
def test_bad_signatures_are_rejected(
    body: bytes, signature: str, key: SecretStr | None, url: str | None, problem: str
) -> None:
    with pytest.raises(WebhookError, match=problem):
        verify_delivery(
            body, {SIGNATURE_HEADER: signature}, signature_key=key, notification_url=url, received_at=RECEIVED
        )


def test_missing_header_is_named() -> None:
    with pytest.raises(WebhookError, match="missing x-square-hmacsha256-signature"):
        verify_delivery(SDK_BODY, {}, signature_key=SDK_KEY, notification_url=SDK_URL, received_at=RECEIVED)


def test_signed_but_malformed_body_is_rejected() -> None:
    for body, problem in [
        (b"{not json", "not valid JSON"),
        (b"[1]", "not a JSON object"),
        (b'{"type":"x"}', "event_id"),
    ]:
        with pytest.raises(WebhookError, match=problem):
            verify_delivery(
                body,
                {SIGNATURE_HEADER: sign(body)},
                signature_key=SecretStr(SIGNATURE_KEY),
                notification_url=NOTIFICATION_URL,
                received_at=RECEIVED,
            )


def test_connector_verifies_against_the_configured_url_not_the_arrival_url() -> None:
    client, _, _ = connector()
    body = raw("webhook_order_updated")
    behind_proxy = "http://10.0.0.7:8080/omnibridge/square"
    delivery = client.verify_webhook(body, {SIGNATURE_HEADER: sign(body)}, behind_proxy)
    assert delivery.topic == "order.updated"
    assert delivery.received_at == NOW
    # Signed for the arrival URL instead of the subscribed one: rejected.
    with pytest.raises(WebhookError):
        client.verify_webhook(body, {SIGNATURE_HEADER: sign(body, url=behind_proxy)}, behind_proxy)
    asyncio.run(client.aclose())


def test_replayed_delivery_keeps_the_same_delivery_id() -> None:
    client, _, _ = connector()
    body = raw("webhook_inventory_count_updated")
    headers = {SIGNATURE_HEADER: sign(body), "square-retry-number": "1", "square-retry-reason": "http_timeout"}
    first = client.verify_webhook(body, {SIGNATURE_HEADER: sign(body)}, NOTIFICATION_URL)
    retry = client.verify_webhook(body, headers, NOTIFICATION_URL)
    assert first.delivery_id == retry.delivery_id == "5f4c0c4e-8d4c-4c1a-9e0b-6a4d3f2e1b01"
    assert first.body_sha256 == retry.body_sha256
    asyncio.run(client.aclose())


def test_inventory_count_updated_becomes_observed_levels() -> None:
    client, _, _ = connector()
    body = raw("webhook_inventory_count_updated")
    delivery = client.verify_webhook(body, {SIGNATURE_HEADER: sign(body)}, NOTIFICATION_URL)

    async def main() -> list[ChannelEvent]:
        with respx.mock(base_url=BASE_URL) as router:
            catalog = router.post("/v2/catalog/batch-retrieve").respond(
                json={
                    "objects": [
                        {
                            "type": "ITEM_VARIATION",
                            "id": "VAR-TEE-RED-M",
                            "item_variation_data": {"item_id": "ITEM-TEE", "sku": "TEE-RED-M"},
                        }
                    ]
                }
            )
            events = list(await client.webhook_events(delivery))
            assert json.loads(catalog.calls.last.request.content)["object_ids"] == ["VAR-TEE-RED-M"]
            # Second delivery: the id -> SKU cache answers, no catalog call.
            again = await client.webhook_events(delivery)
            assert catalog.call_count == 1
            assert again == events
        await client.aclose()
        return events

    events = asyncio.run(main())
    assert events == [
        StockObservedEvent(
            sku="TEE-RED-M",
            location_ref="L1MAIN0000001",
            available=51,
            observed_at=datetime(2025, 8, 21, 12, 0, tzinfo=UTC),
            item_ref="VAR-TEE-RED-M",
        )
    ]  # the SOLD count in the same notification is not a level buyers see


def test_order_updated_fetches_the_order() -> None:
    client, _, _ = connector()
    body = raw("webhook_order_updated")
    delivery = client.verify_webhook(body, {SIGNATURE_HEADER: sign(body)}, NOTIFICATION_URL)
    order = load("orders_search")["orders"][0]

    async def main() -> list[ChannelEvent]:
        with respx.mock(base_url=BASE_URL) as router:
            fetch = router.post("/v2/orders/batch-retrieve").respond(json={"orders": [order]})
            router.post("/v2/catalog/batch-retrieve").respond(
                json={
                    "objects": [
                        {"type": "ITEM_VARIATION", "id": "VAR-TEE-RED-M", "item_variation_data": {"sku": "TEE-RED-M"}}
                    ]
                }
            )
            events = list(await client.webhook_events(delivery))
            assert json.loads(fetch.calls.last.request.content) == {"order_ids": ["ORD-COMPLETED-1"]}
        await client.aclose()
        return events

    (event,) = asyncio.run(main())
    assert isinstance(event, OrderEvent)
    assert event.ref == "ORD-COMPLETED-1"
    assert event.kind is OrderEventKind.COMPLETED
    assert [(ln.sku, ln.quantity) for ln in event.lines] == [("TEE-RED-M", 2), (None, 1)]


def test_order_missing_on_square_is_a_skippable_record() -> None:
    client, _, _ = connector()
    body = raw("webhook_order_updated")
    delivery = client.verify_webhook(body, {SIGNATURE_HEADER: sign(body)}, NOTIFICATION_URL)

    async def main() -> None:
        with respx.mock(base_url=BASE_URL) as router:
            router.post("/v2/orders/batch-retrieve").respond(json={"orders": []})
            try:
                await client.webhook_events(delivery)
            finally:
                await client.aclose()

    with pytest.raises(SkippableRecordError, match="ORD-COMPLETED-1"):
        asyncio.run(main())


def test_catalog_update_clears_the_sku_cache_and_other_topics_carry_nothing() -> None:
    client, _, _ = connector()

    def delivery(topic: str) -> WebhookDelivery:
        body = json.dumps({"type": topic, "event_id": f"e-{topic}", "data": {}}).encode()
        return client.verify_webhook(body, {SIGNATURE_HEADER: sign(body)}, NOTIFICATION_URL)

    async def main() -> None:
        with respx.mock(base_url=BASE_URL) as router:
            search = router.post("/v2/catalog/search").respond(json=load("catalog_search"))
            assert await client.resolve_skus(["TEE-RED-M"]) == {"TEE-RED-M": "VAR-TEE-RED-M"}
            assert await client.webhook_events(delivery("payment.updated")) == []
            await client.resolve_skus(["TEE-RED-M"])
            assert search.call_count == 1  # cached
            assert await client.webhook_events(delivery("catalog.version.updated")) == []
            await client.resolve_skus(["TEE-RED-M"])
            assert search.call_count == 2  # looked up again after the catalog changed
        await client.aclose()

    asyncio.run(main())


def test_square_sdk_escaped_characters_vector_passes_the_signature_check() -> None:
    # Square's second vector ('>' and '<' in the body, signed as sent); it has no event_id, so getting past the
    # signature to the event_id check proves the HMAC matched.
    body = b'{"data":{"type":"webhooks","id":">id<"}}'
    with pytest.raises(WebhookError, match="no event_id"):
        verify_delivery(
            body,
            {SIGNATURE_HEADER: "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U="},
            signature_key=SecretStr("signature-key"),
            notification_url="https://webhook.site/webhooks",
            received_at=RECEIVED,
        )
