"""ShipBob webhook deliveries: signature, identification and the events they carry.

Signing follows Standard Webhooks, as third-party write-ups describe ShipBob's (shared/reference
fulfilment-contracts.md A5, marked [3rd]: check it against ShipBob's own webhook page before going live):

* headers ``webhook-id`` (the delivery id, stable across retries), ``webhook-timestamp`` (Unix seconds),
  ``webhook-signature`` (space-separated ``v1,<base64 HMAC-SHA256>`` entries) and ``x-webhook-topic``;
* the HMAC is over ``"{webhook-id}.{webhook-timestamp}.{raw body}"`` keyed with the base64-decoded part of the
  secret after ``whsec_``;
* a timestamp more than :data:`TOLERANCE_SECONDS` (the default of the channel's ``webhook_tolerance_seconds``)
  away from now is refused (replay protection).

The 1.0 topics (spec ``Topics``) are ``order_shipped``, ``shipment_delivered``, ``shipment_exception``,
``shipment_onhold`` and ``shipment_cancelled``; the body is the ``Shipment``. Only ``order_shipped`` (a
:class:`FulfilmentEvent`) and ``shipment_cancelled`` (a :class:`FulfilmentStatusEvent` ``CANCELLED``) change what
omnibridge knows; the others are acknowledged and carry no event.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.shipbob import mapper
from omnibridge.sdk import MapMessage, WebhookDelivery, WebhookError, constant_time_equals, hmac_sha256_base64
from omnibridge.sdk.channel import FulfilmentEvent, FulfilmentStatusEvent

__all__ = [
    "ID_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "TOLERANCE_SECONDS",
    "TOPICS",
    "TOPIC_HEADER",
    "delivery_events",
    "sign",
    "signature_headers",
    "verify_delivery",
]

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
TOPIC_HEADER = "x-webhook-topic"
TOLERANCE_SECONDS = 300
TOPICS = frozenset(
    {"order_shipped", "shipment_delivered", "shipment_exception", "shipment_onhold", "shipment_cancelled"}
)
_PREFIX = "whsec_"


def _key(secret: str) -> bytes:
    if not secret.startswith(_PREFIX):
        raise WebhookError("shipbob: webhook_secret must start with 'whsec_'")
    try:
        return base64.b64decode(secret[len(_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise WebhookError("shipbob: webhook_secret is not whsec_ followed by base64") from None


def sign(secret: str, delivery_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value (``v1,<base64>``) for one delivery."""
    message = f"{delivery_id}.{timestamp}.".encode() + body
    return "v1," + hmac_sha256_base64(_key(secret), message)


def signature_headers(secret: str, delivery_id: str, timestamp: int, body: bytes, topic: str) -> dict[str, str]:
    """Every header ShipBob sends with a delivery, signed."""
    return {
        ID_HEADER: delivery_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, delivery_id, timestamp, body),
        TOPIC_HEADER: topic,
        "content-type": "application/json",
    }


def verify_delivery(
    secret: str | None,
    raw_body: bytes,
    headers: Mapping[str, str],
    received_at: datetime,
    *,
    tolerance_seconds: int = TOLERANCE_SECONDS,
) -> WebhookDelivery:
    """Check the signature (constant time) and the timestamp (within ``tolerance_seconds`` of ``received_at``,
    either way); raise :class:`WebhookError` otherwise. Pure."""
    if not secret:
        raise WebhookError("shipbob: webhook_secret is not configured, so deliveries cannot be verified")
    lowered = {name.lower(): value for name, value in headers.items()}
    delivery_id = lowered.get(ID_HEADER, "").strip()
    stamp = lowered.get(TIMESTAMP_HEADER, "").strip()
    claimed = lowered.get(SIGNATURE_HEADER, "").strip()
    for name, value in ((ID_HEADER, delivery_id), (TIMESTAMP_HEADER, stamp), (SIGNATURE_HEADER, claimed)):
        if not value:
            raise WebhookError(f"shipbob: the delivery has no {name} header")
    if not stamp.isdigit():
        raise WebhookError(f"shipbob: {TIMESTAMP_HEADER} {stamp!r} is not Unix seconds")
    if abs(received_at.timestamp() - int(stamp)) > tolerance_seconds:
        raise WebhookError(
            f"shipbob: {TIMESTAMP_HEADER} is more than {tolerance_seconds} s from now (a replay or a wrong clock)"
        )
    expected = sign(secret, delivery_id, int(stamp), raw_body)
    offered = [part for part in claimed.split(" ") if part.startswith("v1,")]
    if not any(constant_time_equals(candidate, expected) for candidate in offered):
        raise WebhookError(f"shipbob: {SIGNATURE_HEADER} does not match the body (forged or wrong secret)")
    body = _json(raw_body)
    topic = lowered.get(TOPIC_HEADER, "").strip() or str(body.get("topic") or "")
    if topic not in TOPICS:
        raise WebhookError(f"shipbob: unknown webhook topic {topic!r}; expected one of {sorted(TOPICS)}")
    shipment_id = body.get("id")
    event_id = f"{topic}:{shipment_id}" if isinstance(shipment_id, int) else None
    return WebhookDelivery(delivery_id, event_id, topic, raw_body, dict(headers), received_at)


def _json(raw_body: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw_body)
    except ValueError:
        raise WebhookError("shipbob: the delivery body is not JSON") from None
    if not isinstance(body, dict):
        raise WebhookError("shipbob: the delivery body is not a JSON object (a Shipment)")
    return body


def delivery_events(
    delivery: WebhookDelivery, order: Mapping[str, Any] | None
) -> tuple[list[FulfilmentEvent | FulfilmentStatusEvent], list[MapMessage]]:
    """The events a verified delivery carries. ``order`` is the shipment's order as ShipBob has it (for the line
    refs omnibridge tagged it with), when the caller could read it."""
    shipment = _json(delivery.raw_body)
    if delivery.topic == "order_shipped":
        result = mapper.shipment_event(shipment, order)
        return ([result.value] if result.value is not None else []), result.messages
    if delivery.topic == "shipment_cancelled":
        reference = shipment.get("reference_id") or (order or {}).get("reference_id")
        if not isinstance(reference, str) or not reference:
            return [], []
        return [mapper.cancellation(shipment, reference, order)], []
    return [], []
