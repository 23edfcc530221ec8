"""SP-API notifications as omnibridge receives them: SQS message bodies posted by a signing forwarder. Pure.

Amazon does not sign notifications. ``ORDER_CHANGE`` is delivered to an Amazon SQS queue, and what makes a message
authentic is the queue policy: only Amazon's SP-API principal may ``sqs:SendMessage`` to it. omnibridge cannot
check that from an HTTP request, so it expects a forwarder run by the merchant next to the queue (an SQS-triggered
Lambda, see the example in :mod:`connectors.amazon`) that POSTs each message body unchanged with::

    X-Omnibridge-Forwarder-Signature: base64(HMAC-SHA256(forwarder_secret, raw body))

and deletes the message only after a 2xx answer (SQS redelivers otherwise: at least once). Deliveries are
deduplicated on ``NotificationMetadata.NotificationId``; the topic is ``NotificationType``. ``ORDER_CHANGE`` and
``LISTINGS_ITEM_MFN_QUANTITY_CHANGE`` use PascalCase keys, ``FEED_PROCESSING_FINISHED`` camelCase; both are
accepted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import SecretStr

from connectors.amazon import mapper
from omnibridge.sdk import WebhookDelivery, WebhookError, WebhookHeaders, verify_hmac_base64
from omnibridge.sdk.channel import StockObservedEvent

SIGNATURE_HEADER = "X-Omnibridge-Forwarder-Signature"
ORDER_CHANGE = "ORDER_CHANGE"
FEED_PROCESSING_FINISHED = "FEED_PROCESSING_FINISHED"
MFN_QUANTITY_CHANGE = "LISTINGS_ITEM_MFN_QUANTITY_CHANGE"


def _field(payload: Mapping[str, Any], pascal: str) -> Any:
    """``payload[pascal]``, or its camelCase spelling (FEED_PROCESSING_FINISHED writes ``notificationType``)."""
    if pascal in payload:
        return payload[pascal]
    return payload.get(pascal[:1].lower() + pascal[1:])


def verify_delivery(
    raw_body: bytes,
    headers: Mapping[str, str],
    *,
    forwarder_secret: SecretStr | None,
    received_at: datetime,
) -> WebhookDelivery:
    """Check the forwarder's signature over the raw body and identify the notification.

    Raises :class:`WebhookError` naming what is wrong: no ``forwarder_secret`` configured, the header missing or
    not matching, the body not a JSON object, or (authentic but malformed) a missing ``NotificationType``,
    ``NotificationMetadata.NotificationId``, for ``ORDER_CHANGE`` ``Payload.OrderChangeNotification.AmazonOrderId``,
    for ``LISTINGS_ITEM_MFN_QUANTITY_CHANGE`` ``Payload.Sku`` or an integer ``Payload.Quantity``, for
    ``FEED_PROCESSING_FINISHED`` ``payload.feedProcessingFinishedNotification.feedId`` or ``processingStatus``.
    """
    if forwarder_secret is None:
        raise WebhookError("amazon notifications are not configured: set forwarder_secret (the forwarder's HMAC key)")
    signature = WebhookHeaders(headers).get(SIGNATURE_HEADER)
    if not signature:
        raise WebhookError(
            f"missing {SIGNATURE_HEADER} header (omnibridge accepts Amazon notifications only from "
            "the signing SQS forwarder)"
        )
    if not verify_hmac_base64(forwarder_secret, raw_body, signature):
        raise WebhookError(
            f"{SIGNATURE_HEADER} does not match the body (forged, altered, or signed with another forwarder_secret)"
        )
    payload = parse_payload(raw_body)
    topic = _field(payload, "NotificationType")
    if not isinstance(topic, str) or not topic:
        raise WebhookError("amazon notification has no NotificationType")
    metadata = _field(payload, "NotificationMetadata")
    notification_id = _field(metadata, "NotificationId") if isinstance(metadata, dict) else None
    if not isinstance(notification_id, str) or not notification_id:
        raise WebhookError("amazon notification has no NotificationMetadata.NotificationId")
    if topic == ORDER_CHANGE:
        order_id_of(payload)
    elif topic == MFN_QUANTITY_CHANGE:
        mfn_quantity_of(payload)
    elif topic == FEED_PROCESSING_FINISHED:
        feed_finished_of(payload)
    return WebhookDelivery(
        delivery_id=notification_id,
        event_id=notification_id,
        topic=topic,
        raw_body=raw_body,
        headers=headers,
        received_at=received_at,
    )


def parse_payload(raw_body: bytes) -> dict[str, Any]:
    """The notification as a JSON object; :class:`WebhookError` if it is not one."""
    try:
        payload = json.loads(raw_body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookError(f"amazon notification body is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise WebhookError("amazon notification body is not a JSON object")
    return payload


def order_id_of(payload: Mapping[str, Any]) -> str:
    """``Payload.OrderChangeNotification.AmazonOrderId`` of an ``ORDER_CHANGE``; :class:`WebhookError` naming the
    field when it is missing."""
    body = _field(payload, "Payload")
    change = _field(body, "OrderChangeNotification") if isinstance(body, dict) else None
    order_id = _field(change, "AmazonOrderId") if isinstance(change, dict) else None
    if not isinstance(order_id, str) or not order_id:
        raise WebhookError("ORDER_CHANGE notification has no Payload.OrderChangeNotification.AmazonOrderId")
    return order_id


def mfn_quantity_of(payload: Mapping[str, Any]) -> tuple[str, int]:
    """``(Payload.Sku, Payload.Quantity)`` of a ``LISTINGS_ITEM_MFN_QUANTITY_CHANGE``; :class:`WebhookError` naming
    the field when one is missing or of the wrong type."""
    body = _field(payload, "Payload")
    sku = _field(body, "Sku") if isinstance(body, dict) else None
    quantity = _field(body, "Quantity") if isinstance(body, dict) else None
    if not isinstance(sku, str) or not sku:
        raise WebhookError(f"{MFN_QUANTITY_CHANGE} notification has no Payload.Sku")
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise WebhookError(f"{MFN_QUANTITY_CHANGE} notification has no integer Payload.Quantity (got {quantity!r})")
    return sku, quantity


def feed_finished_of(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``payload.feedProcessingFinishedNotification`` of a ``FEED_PROCESSING_FINISHED`` (``sellerId``, ``feedId``,
    ``feedType``, ``processingStatus``: DONE | FATAL | CANCELLED, ``resultFeedDocumentId`` when there is a
    report); :class:`WebhookError` naming the field when ``feedId`` or ``processingStatus`` is missing."""
    body = _field(payload, "Payload")
    finished = _field(body, "FeedProcessingFinishedNotification") if isinstance(body, dict) else None
    if not isinstance(finished, dict):
        raise WebhookError(f"{FEED_PROCESSING_FINISHED} notification has no payload.feedProcessingFinishedNotification")
    for name in ("feedId", "processingStatus"):
        if not isinstance(finished.get(name), str) or not finished[name]:
            raise WebhookError(
                f"{FEED_PROCESSING_FINISHED} notification has no payload.feedProcessingFinishedNotification.{name}"
            )
    return finished


def stock_observed(payload: Mapping[str, Any], *, seller_id: str, received_at: datetime) -> list[StockObservedEvent]:
    """A ``LISTINGS_ITEM_MFN_QUANTITY_CHANGE`` as one :class:`StockObservedEvent` at ``DEFAULT`` (``available`` =
    ``Quantity``, ``observed_at`` = ``EventTime``, or ``received_at`` when that is missing or malformed).

    Nothing for another seller (one SQS queue may serve every seller who authorized the application) or for a
    fulfillment channel other than ``DEFAULT``. The notification carries no reference, so our own writes come
    back too: harmless, since the engine only re-reads and reconciles the SKU.
    """
    sku, quantity = mfn_quantity_of(payload)
    body = _field(payload, "Payload")
    seller = _field(body, "SellerId") if isinstance(body, dict) else None
    channel = _field(body, "FulfillmentChannelCode") if isinstance(body, dict) else None
    if (isinstance(seller, str) and seller != seller_id) or channel not in (None, mapper.MFN_CHANNEL):
        return []
    observed_at = mapper.parse_time(_field(payload, "EventTime")) or received_at
    return [StockObservedEvent(sku, mapper.MFN_CHANNEL, quantity, observed_at)]
