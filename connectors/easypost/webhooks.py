"""EasyPost webhook Events: signature, identification and the tracking updates they carry.

EasyPost signs the raw body: ``X-Hmac-Signature: hmac-sha256-hex=<hex HMAC-SHA256>`` keyed with the webhook
secret after Unicode NFKD normalisation, UTF-8 encoded (as the official ``validate_webhook`` does). The Event
``id`` (``evt_…``) is both the delivery id and the event id: EasyPost re-sends the same Event on retries.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from connectors.easypost.mapper import MappingError, parse_tracker
from omnibridge.sdk import WebhookDelivery, WebhookError, hmac_sha256_hex, verify_hmac_hex
from omnibridge.sdk.carrier import TrackingUpdate

__all__ = [
    "SIGNATURE_HEADER",
    "SIGNATURE_PREFIX",
    "TRACKER_TOPICS",
    "sign",
    "signature_key",
    "tracking_updates",
    "verify_delivery",
]

SIGNATURE_HEADER = "X-Hmac-Signature"
SIGNATURE_PREFIX = "hmac-sha256-hex="
TRACKER_TOPICS = frozenset({"tracker.created", "tracker.updated"})


def signature_key(secret: str) -> bytes:
    """The HMAC key: the secret NFKD-normalised, UTF-8 encoded."""
    return unicodedata.normalize("NFKD", secret).encode("utf-8")


def sign(secret: str, body: bytes) -> str:
    """The ``X-Hmac-Signature`` value EasyPost sends for ``body``."""
    return SIGNATURE_PREFIX + hmac_sha256_hex(signature_key(secret), body)


def verify_delivery(
    secret: str | None, raw_body: bytes, headers: Mapping[str, str], received_at: datetime
) -> WebhookDelivery:
    """Check the signature (constant time) and identify the Event; raise :class:`WebhookError` otherwise."""
    if not secret:
        raise WebhookError("easypost: webhook_secret is not configured, so deliveries cannot be verified")
    lowered = {name.lower(): value for name, value in headers.items()}
    claimed = lowered.get(SIGNATURE_HEADER.lower())
    if not claimed:
        raise WebhookError(f"easypost: the delivery has no {SIGNATURE_HEADER} header")
    if not verify_hmac_hex(signature_key(secret), raw_body, claimed, prefix=SIGNATURE_PREFIX):
        raise WebhookError(f"easypost: {SIGNATURE_HEADER} does not match the body (forged or wrong secret)")
    event = _event(raw_body)
    event_id = event.get("id")
    topic = event.get("description")
    if not isinstance(event_id, str) or not event_id:
        raise WebhookError("easypost: the Event has no id")
    if not isinstance(topic, str) or not topic:
        raise WebhookError(f"easypost: Event {event_id} has no description (event type)")
    return WebhookDelivery(event_id, event_id, topic, raw_body, dict(headers), received_at)


def _event(raw_body: bytes) -> Mapping[str, Any]:
    try:
        event = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookError("easypost: the delivery body is not JSON") from None
    if not isinstance(event, dict) or event.get("object") != "Event":
        raise WebhookError("easypost: the delivery body is not an EasyPost Event object")
    return event


def tracking_updates(delivery: WebhookDelivery) -> list[TrackingUpdate]:
    """The tracking updates of a verified ``tracker.created``/``tracker.updated`` Event (other events: none)."""
    if delivery.topic not in TRACKER_TOPICS:
        return []
    result = _event(delivery.raw_body).get("result")
    if not isinstance(result, Mapping):
        raise WebhookError(f"easypost: Event {delivery.delivery_id} ({delivery.topic}) has no Tracker result")
    try:
        return parse_tracker(result)
    except MappingError as exc:
        raise WebhookError(f"easypost: Event {delivery.delivery_id}: {exc}") from None


def signer(secret: str) -> Callable[[bytes, str], Mapping[str, str]]:
    """The ``sign`` callable for :class:`omnibridge.sdk.emulator.WebhookSender` (EasyPost ignores the URL)."""

    def _sign(body: bytes, url: str) -> Mapping[str, str]:
        return {SIGNATURE_HEADER: sign(secret, body)}

    return _sign
