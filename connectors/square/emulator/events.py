"""Square webhook events of the emulator: payload shapes (spec ``x-webhook`` schemas) and signature headers.

* ``inventory.count.updated``: ``data{type:"inventory_counts", id, object{inventory_counts:[InventoryCount]}}``
* ``order.updated`` / ``order.created``: ``data{type:"order_updated", id:<order_id>, object{order_updated{...}}}``
* ``order.fulfillment.updated`` (UpdateOrder only): ``data{type:"order_fulfillment_updated", id:<order_id>,
  object{order_fulfillment_updated{order_id, version, location_id, state, created_at, updated_at,
  fulfillment_update:[{fulfillment_uid, old_state, new_state}]}}}``
* ``refund.created`` / ``refund.updated``: ``data{type:"refund", id:<refund_id>, object{refund:PaymentRefund}}``

Signature: ``x-square-hmacsha256-signature`` = base64 HMAC-SHA256(signature_key, notification_url + raw body);
the legacy ``x-square-signature`` (HMAC-SHA1 of the same string) is sent too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Any

from omnibridge.sdk import hmac_sha256_base64

__all__ = ["fulfillment_event", "inventory_event", "order_event", "refund_event", "retry_headers", "signer"]


def signer(signature_key: str) -> Callable[[bytes, str], Mapping[str, str]]:
    """The ``sign`` callable for :class:`omnibridge.sdk.emulator.WebhookSender`."""

    def sign(body: bytes, url: str) -> Mapping[str, str]:
        message = url.encode("utf-8") + body
        legacy = hmac.new(signature_key.encode("utf-8"), message, hashlib.sha1).digest()
        return {
            "x-square-hmacsha256-signature": hmac_sha256_base64(signature_key, message),
            "x-square-signature": base64.b64encode(legacy).decode("ascii"),
        }

    return sign


def retry_headers(retry_number: int, reason: str) -> Mapping[str, str]:
    """Headers Square adds to a re-attempt."""
    return {"square-retry-number": str(retry_number), "square-retry-reason": reason or "http_error"}


def inventory_event(
    merchant_id: str, event_id: str, data_id: str, created_at: str, counts: list[dict[str, Any]]
) -> dict[str, Any]:
    """An ``inventory.count.updated`` event carrying the given InventoryCount objects."""
    return {
        "merchant_id": merchant_id,
        "type": "inventory.count.updated",
        "event_id": event_id,
        "created_at": created_at,
        "data": {"type": "inventory_counts", "id": data_id, "object": {"inventory_counts": counts}},
    }


def order_event(
    merchant_id: str, event_id: str, created_at: str, order: Mapping[str, Any], kind: str
) -> dict[str, Any]:
    """An ``order.created`` or ``order.updated`` event (``kind`` ``"created"``/``"updated"``) for ``order``."""
    summary: dict[str, Any] = {
        "order_id": order["id"],
        "version": order["version"],
        "location_id": order["location_id"],
        "state": order["state"],
        "created_at": order["created_at"],
    }
    if kind == "updated":
        summary["updated_at"] = order["updated_at"]
    return {
        "merchant_id": merchant_id,
        "type": f"order.{kind}",
        "event_id": event_id,
        "created_at": created_at,
        "data": {"type": f"order_{kind}", "id": order["id"], "object": {f"order_{kind}": summary}},
    }


def fulfillment_event(
    merchant_id: str, event_id: str, created_at: str, order: Mapping[str, Any], updates: list[dict[str, Any]]
) -> dict[str, Any]:
    """An ``order.fulfillment.updated`` event: ``updates`` are ``{fulfillment_uid, old_state, new_state}``."""
    summary = {
        "order_id": order["id"],
        "version": order["version"],
        "location_id": order["location_id"],
        "state": order["state"],
        "created_at": order["created_at"],
        "updated_at": order["updated_at"],
        "fulfillment_update": updates,
    }
    return {
        "merchant_id": merchant_id,
        "type": "order.fulfillment.updated",
        "event_id": event_id,
        "created_at": created_at,
        "data": {
            "type": "order_fulfillment_updated",
            "id": order["id"],
            "object": {"order_fulfillment_updated": summary},
        },
    }


def refund_event(
    merchant_id: str, event_id: str, created_at: str, refund: Mapping[str, Any], kind: str
) -> dict[str, Any]:
    """A ``refund.created`` or ``refund.updated`` event (``kind`` ``"created"``/``"updated"``) for a PaymentRefund."""
    return {
        "merchant_id": merchant_id,
        "type": f"refund.{kind}",
        "event_id": event_id,
        "created_at": created_at,
        "data": {"type": "refund", "id": refund["id"], "object": {"refund": dict(refund)}},
    }
