"""Square webhook verification and payload parsing. Pure: no I/O, no clock of its own.

Square signs every notification with the subscription's signature key:
``x-square-hmacsha256-signature = base64(HMAC-SHA256(key, notification_url + raw_body))``. The URL is part of the
signed message and must be byte-identical to the subscription's ``notification_url``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import SecretStr

from omnibridge.sdk import WebhookDelivery, WebhookError, WebhookHeaders, verify_hmac_base64

SIGNATURE_HEADER = "x-square-hmacsha256-signature"
INVENTORY_COUNT_UPDATED = "inventory.count.updated"
CATALOG_VERSION_UPDATED = "catalog.version.updated"
FULFILLMENT_UPDATED = "order.fulfillment.updated"
ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.fulfillment.updated"})
REFUND_TOPICS = frozenset({"refund.created", "refund.updated"})


def verify_delivery(
    raw_body: bytes,
    headers: Mapping[str, str],
    *,
    signature_key: SecretStr | None,
    notification_url: str | None,
    received_at: datetime,
) -> WebhookDelivery:
    """Check a Square delivery's signature and identify it; raise :class:`WebhookError` naming what is wrong.

    ``notification_url`` is the configured subscription URL, not the URL the request arrived on: behind a
    proxy or load balancer the arrival URL differs (scheme, host, port, path prefix) while Square signed the
    subscribed URL, and trusting the arrival URL would let whoever controls routing choose the signed bytes.
    ``delivery_id`` and ``event_id`` are the body's ``event_id`` (Square keeps it across retries, so the inbox
    dedupes retries and duplicates on it); ``topic`` is the body's ``type``.
    """
    if signature_key is None or not notification_url:
        raise WebhookError("square webhooks are not configured: set webhook_signature_key and webhook_notification_url")
    signature = WebhookHeaders(headers).get(SIGNATURE_HEADER)
    if not signature:
        raise WebhookError(f"missing {SIGNATURE_HEADER} header")
    if not verify_hmac_base64(signature_key, notification_url.encode("utf-8") + raw_body, signature):
        raise WebhookError(
            f"{SIGNATURE_HEADER} does not match the body signed for {notification_url!r} "
            "(forged, altered, signed with another key, or subscribed under a different URL)"
        )
    payload = parse_payload(raw_body)
    event_id = payload.get("event_id")
    topic = payload.get("type")
    if not isinstance(event_id, str) or not event_id:
        raise WebhookError("square notification has no event_id")
    if not isinstance(topic, str) or not topic:
        raise WebhookError("square notification has no type")
    return WebhookDelivery(
        delivery_id=event_id,
        event_id=event_id,
        topic=topic,
        raw_body=raw_body,
        headers=headers,
        received_at=received_at,
    )


def parse_payload(raw_body: bytes) -> dict[str, Any]:
    """The notification body as a JSON object; :class:`WebhookError` if it is not one."""
    try:
        payload = json.loads(raw_body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookError(f"square notification body is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise WebhookError("square notification body is not a JSON object")
    return payload


def inventory_counts(payload: Mapping[str, Any]) -> list[Any]:
    """``data.object.inventory_counts`` of an ``inventory.count.updated`` notification."""
    data = payload.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    counts = obj.get("inventory_counts") if isinstance(obj, dict) else None
    return counts if isinstance(counts, list) else []


def order_id(payload: Mapping[str, Any]) -> str | None:
    """The order an ``order.*`` notification names: ``data.object.<order_created|order_updated|...>.order_id``,
    else ``data.id``."""
    data = payload.get("data")
    if not isinstance(data, dict):
        return None
    obj = data.get("object")
    if isinstance(obj, dict):
        for value in obj.values():
            if isinstance(value, dict) and isinstance(value.get("order_id"), str) and value["order_id"]:
                return str(value["order_id"])
    identifier = data.get("id")
    return identifier if isinstance(identifier, str) and identifier else None


def refund_order_id(payload: Mapping[str, Any]) -> str | None:
    """The order a ``refund.created`` / ``refund.updated`` notification's ``data.object.refund`` names: for an
    itemized return the return order, else the refunded order."""
    data = payload.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    refund = obj.get("refund") if isinstance(obj, dict) else None
    value = refund.get("order_id") if isinstance(refund, dict) else None
    return value if isinstance(value, str) and value else None
