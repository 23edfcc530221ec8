"""Clover webhook verification and payload parsing. Pure: no I/O, no clock of its own.

Clover does not sign deliveries. Once a webhook URL is verified, the developer dashboard shows a static
"Clover Auth Code" that Clover sends unchanged in the ``X-Clover-Auth`` header of every message; it is compared
in constant time with the configured ``webhook_auth_code``. Because it is a shared secret and not an HMAC, it
proves who sent a delivery but not that the body was untouched in transit (HTTPS has to do that).

Message body::

    {"appId": "DRKVA1YBF2VS4",
     "merchants": {"<mId>": [{"objectId": "O:GHIVJT2ABCRSC", "type": "CREATE|UPDATE|DELETE", "ts": 1536156558000}]}}

``objectId`` is ``<prefix>:<id>`` (``O`` order, ``I`` item, ``IS`` item stock, ``IA`` item availability, ``P``
payment, ``C`` customer, ...). Notifications are light: the connector calls the API back for details.

**The verification POST.** When a URL is registered, Clover POSTs ``{"verificationCode": "<uuid>"}`` without
``X-Clover-Auth``, and the code has to be pasted into the dashboard. :func:`verify_delivery` refuses it with
:class:`CloverVerificationRequest` (a :class:`WebhookError`) whose message names the code, so the refusal is
logged with the code for the person setting up the app, and an unauthenticated body never reaches the inbox.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import SecretStr

from omnibridge.sdk import WebhookDelivery, WebhookError, WebhookHeaders, constant_time_equals

AUTH_HEADER = "X-Clover-Auth"
TOPIC_INVENTORY = "clover.inventory"
"""Deliveries naming only items (``I``, ``IS``, ``IA``): stock-level hints, applied in the engine's stock stream."""
TOPIC_ORDERS = "clover.orders"
"""Deliveries naming at least one order (``O``)."""
TOPIC_OTHER = "clover.other"
INVENTORY_PREFIXES = frozenset({"I", "IS", "IA"})
ORDER_PREFIX = "O"
EVENT_TYPES = frozenset({"CREATE", "UPDATE", "DELETE"})


class CloverVerificationRequest(WebhookError):
    """Clover's URL-verification POST: not a notification. ``verification_code`` goes into the dashboard.

    ``acknowledge`` is True: a receiver that knows the attribute may answer this refusal with 200 (Clover's
    dashboard wants a 200 for the verification POST) while still storing nothing.
    """

    acknowledge: bool = True

    def __init__(self, verification_code: str) -> None:
        self.verification_code = verification_code
        super().__init__(
            f"Clover webhook URL verification request: paste verificationCode {verification_code!r} into the "
            "Clover developer dashboard, then set webhook_auth_code to the Clover Auth Code it shows "
            "(this request carries no X-Clover-Auth and is not stored)"
        )


@dataclass(frozen=True, slots=True)
class Notification:
    """One entry of a Clover message: ``prefix`` and ``object_id`` split from ``objectId``."""

    merchant_id: str
    prefix: str
    object_id: str
    type: str
    ts: int


def parse_payload(raw_body: bytes) -> dict[str, Any]:
    """The message body as a JSON object; :class:`WebhookError` if it is not one."""
    try:
        payload = json.loads(raw_body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookError(f"clover notification body is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise WebhookError("clover notification body is not a JSON object")
    return payload


def notifications(payload: Mapping[str, Any]) -> list[Notification]:
    """Every notification of a message, in order; :class:`WebhookError` naming the first malformed entry."""
    merchants = payload.get("merchants")
    if not isinstance(merchants, dict) or not merchants:
        raise WebhookError('clover notification has no "merchants" map (expected {"merchants": {mId: [...]}})')
    found: list[Notification] = []
    for merchant_id, entries in merchants.items():
        if not isinstance(entries, list):
            raise WebhookError(f"clover notification: merchants.{merchant_id} is not a list of updates")
        for index, entry in enumerate(entries):
            where = f"merchants.{merchant_id}[{index}]"
            if not isinstance(entry, dict):
                raise WebhookError(f"clover notification: {where} is not an object")
            object_id, kind, ts = entry.get("objectId"), entry.get("type"), entry.get("ts")
            prefix, _, bare = object_id.partition(":") if isinstance(object_id, str) else ("", "", "")
            if not prefix or not bare:
                raise WebhookError(f"clover notification: {where}.objectId {object_id!r} is not '<prefix>:<id>'")
            if kind not in EVENT_TYPES:
                raise WebhookError(f"clover notification: {where}.type {kind!r} is not CREATE, UPDATE or DELETE")
            if isinstance(ts, bool) or not isinstance(ts, int):
                raise WebhookError(f"clover notification: {where}.ts {ts!r} is not Unix milliseconds")
            found.append(Notification(str(merchant_id), prefix, bare, str(kind), ts))
    return found


def delivery_id(items: list[Notification]) -> str:
    """The dedupe key: SHA-256 of every ``(merchantId, objectId, type, ts)``, in order.

    Clover sends no delivery id; a retry carries the same body, so the same entries give the same key (the
    ``type`` is included so a CREATE and an UPDATE of one object in the same millisecond stay two deliveries).
    """
    canonical = json.dumps(
        [[n.merchant_id, f"{n.prefix}:{n.object_id}", n.type, n.ts] for n in items], separators=(",", ":")
    )
    return "clover:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def topic(items: list[Notification]) -> str:
    """:data:`TOPIC_ORDERS` if any order is named, :data:`TOPIC_INVENTORY` if only items, else :data:`TOPIC_OTHER`."""
    prefixes = {n.prefix for n in items}
    if ORDER_PREFIX in prefixes:
        return TOPIC_ORDERS
    if prefixes <= INVENTORY_PREFIXES:
        return TOPIC_INVENTORY
    return TOPIC_OTHER


def verify_delivery(
    raw_body: bytes, headers: Mapping[str, str], *, auth_code: SecretStr | None, received_at: datetime
) -> WebhookDelivery:
    """Check ``X-Clover-Auth`` and identify a delivery; raise :class:`WebhookError` naming what is wrong.

    A verification POST raises :class:`CloverVerificationRequest` (see module doc). ``event_id`` is ``None``:
    Clover has no event ids.
    """
    view = WebhookHeaders(headers)
    claimed = view.get(AUTH_HEADER)
    if not claimed:
        code = _verification_code(raw_body)
        if code is not None:
            raise CloverVerificationRequest(code)
    if auth_code is None:
        raise WebhookError("clover webhooks are not configured: set webhook_auth_code (the Clover Auth Code)")
    if not claimed:
        raise WebhookError(f"missing {AUTH_HEADER} header")
    if not constant_time_equals(claimed.strip(), auth_code.get_secret_value()):
        raise WebhookError(f"{AUTH_HEADER} does not match the configured webhook_auth_code (forged or another app)")
    items = notifications(parse_payload(raw_body))
    return WebhookDelivery(
        delivery_id=delivery_id(items),
        event_id=None,
        topic=topic(items),
        raw_body=raw_body,
        headers=headers,
        received_at=received_at,
    )


def _verification_code(raw_body: bytes) -> str | None:
    try:
        payload = json.loads(raw_body)
    except (UnicodeDecodeError, ValueError):
        return None
    if isinstance(payload, dict) and set(payload) == {"verificationCode"}:
        code = payload["verificationCode"]
        return code if isinstance(code, str) and code else None
    return None
