"""The Amazon connector's conformance harness: the real connector against its emulator served over HTTP.

``tests/conformance/test_amazon.py`` turns it into a test class with
``omnibridge.testing.conformance_suite(AmazonHarness)``. The emulator runs at Amazon's default usage plans; the
control hooks are the emulator's own back door (:class:`connectors.amazon.emulator.AmazonControl`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime

from connectors.amazon import connector as spec
from connectors.amazon import mapper
from connectors.amazon.emulator import AmazonEmulator, AmazonEmulatorConfig
from connectors.amazon.notifications import SIGNATURE_HEADER
from connectors.amazon.settings import AmazonSettings
from omnibridge.sdk import hmac_sha256_base64
from omnibridge.sdk.channel import OrderEvent, OrderEventKind, OrderLineEvent
from omnibridge.sdk.emulator import run_server
from omnibridge.testing import ConformanceHarness, ConformanceSession, MapperFixture, WebhookVector

__all__ = ["AmazonHarness"]

FORWARDER_SECRET = "amazon-conformance-forwarder-secret"  # noqa: S105 - test key
_AT = datetime(2026, 3, 2, 11, 9, 53, tzinfo=UTC)


def _order_change(order_id: str, notification_id: str) -> bytes:
    body = {
        "NotificationVersion": "1.0",
        "NotificationType": "ORDER_CHANGE",
        "PayloadVersion": "1.0",
        "EventTime": "2026-03-02T11:09:53.109Z",
        "Payload": {
            "OrderChangeNotification": {
                "NotificationLevel": "OrderLevel",
                "SellerId": "A1EMULATORSELLER",
                "AmazonOrderId": order_id,
                "OrderChangeType": "OrderStatusChange",
                "Summary": {"MarketplaceId": "ATVPDKIKX0DER", "OrderStatus": "Unshipped", "FulfillmentType": "MFN"},
            }
        },
        "NotificationMetadata": {
            "ApplicationId": "amzn1.sellerapps.app.emulator",
            "SubscriptionId": "subscription-conformance",
            "PublishTime": "2026-03-02T11:09:54.000Z",
            "NotificationId": notification_id,
        },
    }
    return json.dumps(body, separators=(",", ":")).encode()


def _mfn_quantity_change(sku: str, quantity: int, notification_id: str) -> bytes:
    body = {
        "NotificationVersion": "1.0",
        "NotificationType": "LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
        "PayloadVersion": "1.0",
        "EventTime": "2026-03-02T11:09:53.194Z",
        "Payload": {
            "SellerId": "A1EMULATORSELLER",
            "FulfillmentChannelCode": "DEFAULT",
            "Sku": sku,
            "Quantity": quantity,
        },
        "NotificationMetadata": {
            "ApplicationId": "amzn1.sellerapps.app.emulator",
            "SubscriptionId": "subscription-conformance-mfn",
            "PublishTime": "2026-03-02T11:09:54.000Z",
            "NotificationId": notification_id,
        },
    }
    return json.dumps(body, separators=(",", ":")).encode()


class AmazonHarness(ConformanceHarness):
    """Starts an :class:`AmazonEmulator` on a local port per session and builds the connector via
    ``spec.factory``; feeds are polled every 0.2 s (the emulator finishes one in 0.5 s)."""

    spec = spec
    rate_probe_requests = 30

    def session(self) -> AbstractAsyncContextManager[ConformanceSession]:
        return self._session()

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[ConformanceSession]:
        emu = AmazonEmulator(AmazonEmulatorConfig(forwarder_secret=FORWARDER_SECRET))
        config = emu.config
        async with run_server(emu.app) as server:
            settings = AmazonSettings(
                endpoint=server.url,
                lwa_endpoint=f"{server.url.rstrip('/')}/auth/o2/token",
                client_id=config.client_id,
                client_secret=config.client_secret,
                refresh_token=config.refresh_token,
                seller_id=config.seller_id,
                marketplace_id=config.marketplace_id,
                forwarder_secret=FORWARDER_SECRET,
                feed_poll_seconds=0.2,
                feed_timeout_seconds=30,
                order_lookback_minutes=60,
                max_attempts=4,
                max_retry_seconds=30,
            )
            client = self.spec.factory(settings) if self.spec.factory is not None else None
            try:
                yield ConformanceSession(client, settings, emu.control, "CONF-SKU-1", mapper.MFN_CHANNEL)
            finally:
                if client is not None:
                    await client.aclose()
                await emu.webhooks.aclose()

    def mapper_fixtures(self) -> Sequence[MapperFixture]:
        order = {
            "AmazonOrderId": "902-3159896-1390916",
            "PurchaseDate": "2026-03-02T11:00:00Z",
            "LastUpdateDate": "2026-03-02T11:09:53Z",
            "OrderStatus": "PartiallyShipped",
            "FulfillmentChannel": "MFN",
            "OrderTotal": {"CurrencyCode": "USD", "Amount": "59.97"},
        }
        items = [
            {
                "ASIN": "B00TEST001",
                "SellerSKU": "TENT-1",
                "OrderItemId": "68828574383266",
                "QuantityOrdered": 3,
                "ItemPrice": {"CurrencyCode": "USD", "Amount": "59.97"},
            }
        ]
        report = {
            "header": {"sellerId": "A1EMULATORSELLER", "version": "2.0", "feedId": "1"},
            "issues": [
                {"messageId": 2, "sku": "B", "code": "4000004", "severity": "ERROR", "message": "no such SKU"},
                {"messageId": 3, "sku": "C", "code": "18448", "severity": "WARNING", "message": "incomplete"},
            ],
            "summary": {
                "errors": 1,
                "warnings": 1,
                "messagesProcessed": 3,
                "messagesAccepted": 2,
                "messagesInvalid": 1,
            },
        }
        return (
            MapperFixture(
                "partially shipped MFN order",
                {"order": order, "items": items},
                lambda raw: mapper.map_order(raw["order"], raw["items"]).value,
                OrderEvent(
                    "902-3159896-1390916",
                    OrderEventKind.PLACED,
                    _AT,
                    (OrderLineEvent("68828574383266", "TENT-1", 3, "DEFAULT", "19.99"),),
                    name="902-3159896-1390916",
                    currency="USD",
                    total="59.97",
                    status="PartiallyShipped",
                ),
            ),
            MapperFixture(
                "getListingsItem fulfillmentAvailability (MFN and FBA)",
                {
                    "sku": "TENT-1",
                    "fulfillmentAvailability": [
                        {"fulfillmentChannelCode": "AMAZON_NA", "quantity": 40},
                        {"fulfillmentChannelCode": "DEFAULT", "quantity": 6},
                    ],
                },
                mapper.mfn_quantity,
                6,
            ),
            MapperFixture(
                "searchListingsItems item: fulfillmentAvailability without a quantity shows 0",
                {
                    "sku": "A/B C",
                    "summaries": [{"marketplaceId": "ATVPDKIKX0DER", "asin": "B00TEST002", "status": ["DISCOVERABLE"]}],
                    "fulfillmentAvailability": [{"fulfillmentChannelCode": "DEFAULT"}],
                },
                mapper.mfn_quantity,
                0,
            ),
            MapperFixture(
                "feed processing report: ERROR issues by messageId, warnings ignored",
                report,
                lambda raw: {k: [i["code"] for i in v] for k, v in mapper.report_errors(raw).items()},
                {2: ["4000004"]},
            ),
        )

    def webhook_vectors(self) -> Sequence[WebhookVector]:
        body = _order_change("902-3159896-1390916", "d0e9e693-c3ad-4373-979f-ed4ec98dd746")
        forged = _order_change("902-3159896-1390917", "d0e9e693-c3ad-4373-979f-000000000000")
        quantity = _mfn_quantity_change("TENT/2P GRN", 7, "8e009934-da2c-4f9c-9bc7-93f23b7e1f60")
        return (
            WebhookVector(
                "ORDER_CHANGE forwarded from SQS",
                body,
                {SIGNATURE_HEADER: hmac_sha256_base64(FORWARDER_SECRET, body), "Content-Type": "application/json"},
                url="https://omnibridge.example/webhooks/amazon",
                signature_headers=(SIGNATURE_HEADER,),
                expected_delivery_id="d0e9e693-c3ad-4373-979f-ed4ec98dd746",
            ),
            WebhookVector(
                "LISTINGS_ITEM_MFN_QUANTITY_CHANGE forwarded from SQS",
                quantity,
                {SIGNATURE_HEADER: hmac_sha256_base64(FORWARDER_SECRET, quantity), "Content-Type": "application/json"},
                url="https://omnibridge.example/webhooks/amazon",
                signature_headers=(SIGNATURE_HEADER,),
                expected_delivery_id="8e009934-da2c-4f9c-9bc7-93f23b7e1f60",
            ),
            WebhookVector(
                "ORDER_CHANGE signed with another forwarder secret",
                forged,
                {SIGNATURE_HEADER: hmac_sha256_base64("not-the-forwarder-secret", forged)},
                url="https://omnibridge.example/webhooks/amazon",
                valid=False,
                signature_headers=(SIGNATURE_HEADER,),
            ),
        )
