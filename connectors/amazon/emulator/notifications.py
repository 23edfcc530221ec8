"""Notification bodies the emulator publishes (the SQS message ``Body``) and the forwarder's signature.

* ``ORDER_CHANGE`` (payload version 1.0, PascalCase keys; ``OrderChangeType`` ``OrderStatusChange``).
* ``FEED_PROCESSING_FINISHED`` (version 2020-09-04, camelCase keys).
* ``LISTINGS_ITEM_MFN_QUANTITY_CHANGE`` (version 1.0, PascalCase keys): a listing's merchant-fulfilled quantity.

Amazon delivers to SQS/EventBridge without any HMAC; omnibridge receives them from a small forwarder that reads
the queue and POSTs each body with ``X-Omnibridge-Forwarder-Signature`` = base64 HMAC-SHA256(secret, raw body)
and ``X-Omnibridge-Notification-Id`` (the notification id, for dedupe without parsing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from connectors.amazon.emulator.common import format_time_ms
from omnibridge.sdk import hmac_sha256_base64

__all__ = [
    "NOTIFICATION_ID_HEADER",
    "SIGNATURE_HEADER",
    "feed_processing_finished",
    "forwarder_signer",
    "mfn_quantity_change",
    "order_change",
]

SIGNATURE_HEADER = "X-Omnibridge-Forwarder-Signature"
NOTIFICATION_ID_HEADER = "X-Omnibridge-Notification-Id"


def forwarder_signer(secret: str) -> Callable[[bytes, str], Mapping[str, str]]:
    """The ``sign`` callable for :class:`omnibridge.sdk.emulator.WebhookSender`: base64 HMAC-SHA256 of the body."""

    def sign(body: bytes, url: str) -> Mapping[str, str]:
        return {SIGNATURE_HEADER: hmac_sha256_base64(secret, body)}

    return sign


def _metadata(application_id: str, subscription_id: str, now: datetime, notification_id: str) -> dict[str, str]:
    return {
        "ApplicationId": application_id,
        "SubscriptionId": subscription_id,
        "PublishTime": format_time_ms(now),
        "NotificationId": notification_id,
    }


def order_change(
    *,
    seller_id: str,
    order: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
    now: datetime,
    notification_id: str,
    application_id: str,
    subscription_id: str,
    reason: str,
) -> dict[str, Any]:
    """An ORDER_CHANGE notification (OrderStatusChange, order level) for the stored v0 ``order``.

    ``OrderItemStatus`` is left out: Amazon only shows it when the items' statuses differ, and all items of an
    emulated order share the order's status.
    """
    status = str(order["OrderStatus"])
    summary: dict[str, Any] = {
        "MarketplaceId": order["MarketplaceId"],
        "OrderStatus": status,
        "PurchaseDate": order["PurchaseDate"],
        "DestinationPostalCode": None,
        "FulfillmentType": order["FulfillmentChannel"],
        "OrderType": order["OrderType"],
        "NumberOfItemsShipped": order["NumberOfItemsShipped"],
        "NumberOfItemsUnshipped": order["NumberOfItemsUnshipped"],
        "EarliestShipDate": order["EarliestShipDate"],
        "LatestShipDate": order["LatestShipDate"],
        "OrderItems": [
            {
                "OrderItemId": item["OrderItemId"],
                "SellerSKU": item["SellerSKU"],
                "SupplySourceId": None,
                "Quantity": item["QuantityOrdered"],
                "QuantityShipped": item["QuantityShipped"],
                "IsBuyerRequestedCancel": False,
            }
            for item in items
        ],
    }
    return {
        "NotificationVersion": "1.0",
        "NotificationType": "ORDER_CHANGE",
        "PayloadVersion": "1.0",
        "EventTime": format_time_ms(now),
        "Payload": {
            "OrderChangeNotification": {
                "NotificationLevel": "OrderLevel",
                "SellerId": seller_id,
                "AmazonOrderId": order["AmazonOrderId"],
                "OrderChangeType": "OrderStatusChange",
                "OrderChangeTrigger": {"TimeOfOrderChange": format_time_ms(now), "ChangeReason": reason},
                "Summary": summary,
            }
        },
        "NotificationMetadata": _metadata(application_id, subscription_id, now, notification_id),
    }


def feed_processing_finished(
    *,
    seller_id: str,
    feed: Mapping[str, Any],
    now: datetime,
    notification_id: str,
    application_id: str,
    subscription_id: str,
) -> dict[str, Any]:
    """A FEED_PROCESSING_FINISHED notification for the ``Feed`` object ``feed`` (DONE, FATAL or CANCELLED)."""
    finished: dict[str, Any] = {
        "sellerId": seller_id,
        "accountId": f"amzn1.merchant.o.{seller_id}",
        "feedId": feed["feedId"],
        "feedType": feed["feedType"],
        "processingStatus": feed["processingStatus"],
    }
    if feed.get("resultFeedDocumentId"):
        finished["resultFeedDocumentId"] = feed["resultFeedDocumentId"]
    meta = _metadata(application_id, subscription_id, now, notification_id)
    return {
        "notificationVersion": "2020-09-04",
        "notificationType": "FEED_PROCESSING_FINISHED",
        "payloadVersion": "2020-09-04",
        "eventTime": format_time_ms(now),
        "payload": {"feedProcessingFinishedNotification": finished},
        "notificationMetadata": {key[0].lower() + key[1:]: value for key, value in meta.items()},
    }


def mfn_quantity_change(
    *,
    seller_id: str,
    sku: str,
    quantity: int,
    now: datetime,
    notification_id: str,
    application_id: str,
    subscription_id: str,
) -> dict[str, Any]:
    """A LISTINGS_ITEM_MFN_QUANTITY_CHANGE notification: ``sku`` now shows ``quantity`` on the DEFAULT channel."""
    return {
        "NotificationVersion": "1.0",
        "NotificationType": "LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
        "PayloadVersion": "1.0",
        "EventTime": format_time_ms(now),
        "Payload": {"SellerId": seller_id, "FulfillmentChannelCode": "DEFAULT", "Sku": sku, "Quantity": quantity},
        "NotificationMetadata": _metadata(application_id, subscription_id, now, notification_id),
    }
