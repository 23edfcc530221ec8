"""UpdateOrder (``PUT /v2/orders/{order_id}``) of the Square emulator: fulfillments moved through their states.

What Square documents, enforced here:

* "Orders with a ``COMPLETED`` or ``CANCELED`` state cannot be updated" (400 ``BAD_REQUEST``);
* the sparse order carries ``location_id`` (the order's) and the latest ``version``: another version is 400
  ``VERSION_MISMATCH`` on ``order.version`` (optimistic concurrency), none is 400 ``MISSING_REQUIRED_PARAMETER``;
* the ``idempotency_key`` replays: the same key with the same body answers the order as it is now (Square: "The
  latest order version is returned") without applying anything again; with another body it is 400
  ``IDEMPOTENCY_KEY_REUSED``. Only successful updates are remembered;
* a fulfillment is addressed by its ``uid``; its ``state`` moves forward along PROPOSED → RESERVED → PREPARED →
  COMPLETED (skipping a step is allowed: Square documents no rule requiring each step), or to CANCELED / FAILED;
  moving back, or changing a fulfillment that is COMPLETED, CANCELED or FAILED, is 400 ``INVALID_VALUE``;
* writable ``shipment_details`` fields (carrier, shipping_type, tracking_number, tracking_url, shipping_note,
  expected_shipped_at, cancel_reason, failure_reason) are merged; the read-only timestamps are Square's own and
  are stamped here (``in_progress_at`` at RESERVED, ``packaged_at`` at PREPARED, ``shipped_at`` at COMPLETED,
  ``canceled_at``/``failed_at``); sent values for them are ignored;
* a PICKUP fulfillment's writable ``pickup_details`` are merged and checked (``expires_at`` at most 7 days
  ahead), its lifecycle stamps set by the emulator (see :mod:`connectors.square.emulator.pickups`).

The emulator models only fulfillments (and ``reference_id``/``ticket_name``) in an update: any other order field, or
``fields_to_clear``, is 400 ``BAD_REQUEST`` naming it, so a client never believes a change landed that the emulator
dropped. The order itself stays OPEN (Square completes it when it is paid and
every fulfillment is finished).
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from connectors.square.emulator import pickups
from connectors.square.emulator.common import invalid
from connectors.square.emulator.inventory import IdempotencyCache
from connectors.square.emulator.state import MerchantState, format_time

__all__ = ["FULFILLMENT_STATES", "update"]

FULFILLMENT_STATES = ("PROPOSED", "RESERVED", "PREPARED", "COMPLETED", "CANCELED", "FAILED")
_RANK = {"PROPOSED": 0, "RESERVED": 1, "PREPARED": 2, "COMPLETED": 3}
_FINISHED = frozenset({"COMPLETED", "CANCELED", "FAILED"})
_STAMPS = {
    "RESERVED": "in_progress_at",
    "PREPARED": "packaged_at",
    "COMPLETED": "shipped_at",
    "CANCELED": "canceled_at",
    "FAILED": "failed_at",
}
_READ_ONLY = frozenset({"placed_at", "in_progress_at", "packaged_at", "shipped_at", "failed_at"})
_UPDATABLE = frozenset({"location_id", "version", "fulfillments", "reference_id", "ticket_name"})


def _move(fulfillment: dict[str, Any], sent: dict[str, Any], where: str, moment: datetime) -> None:
    now = format_time(moment)
    current = str(fulfillment.get("state", "PROPOSED"))
    wanted = str(sent.get("state") or current)
    if current in _FINISHED and (wanted != current or sent.get("shipment_details") or sent.get("pickup_details")):
        raise invalid("INVALID_VALUE", f"The fulfillment is {current} and can no longer change.", f"{where}.state")
    if wanted != current and wanted in _RANK and _RANK[wanted] < _RANK.get(current, 0):
        raise invalid("INVALID_VALUE", f"A fulfillment cannot move back from {current} to {wanted}.", f"{where}.state")
    kind = fulfillment.get("type")
    if "shipment_details" in sent and kind != "SHIPMENT":
        raise invalid("INVALID_VALUE", f"shipment_details on a {kind} fulfillment.", f"{where}.shipment_details")
    if "pickup_details" in sent and kind != "PICKUP":
        raise invalid("INVALID_VALUE", f"pickup_details on a {kind} fulfillment.", f"{where}.pickup_details")
    if kind == "PICKUP":
        pickups.merge(fulfillment, sent.get("pickup_details") or {}, f"{where}.pickup_details", moment)
    details = sent.get("shipment_details") or {}
    target = fulfillment.setdefault("shipment_details", {}) if kind == "SHIPMENT" else {}
    for name, value in details.items():
        if name == "recipient" and isinstance(value, dict):
            target["recipient"] = {**target.get("recipient", {}), **value}
        elif name not in _READ_ONLY:
            target[name] = value
    if wanted != current:
        fulfillment["state"] = wanted
        stamp = _STAMPS.get(wanted)
        if stamp and kind == "SHIPMENT":
            target[stamp] = now
        if kind == "PICKUP":
            pickups.stamp(fulfillment, wanted, moment)


def update(state: MerchantState, cache: IdempotencyCache, order_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """UpdateOrder (see the module docstring); returns ``{"order": ...}``."""
    order = state.orders.get(order_id)
    if order is None:
        raise invalid("NOT_FOUND", f"Order {order_id} not found.", "order_id", status=404)
    key = body.get("idempotency_key")
    fingerprint = IdempotencyCache.fingerprint({"order_id": order_id, **body})
    if key is not None and key in cache.entries:
        if cache.entries[key][0] != fingerprint:
            raise invalid(
                "IDEMPOTENCY_KEY_REUSED",
                "The idempotency key was already used with a different request body.",
                "idempotency_key",
            )
        return {"order": copy.deepcopy(order)}
    if order["state"] in ("COMPLETED", "CANCELED"):
        raise invalid("BAD_REQUEST", f"Orders with a {order['state']} state cannot be updated.", "order_id")
    sent = body.get("order") or {}
    if body.get("fields_to_clear"):
        raise invalid("BAD_REQUEST", "The emulator does not model fields_to_clear.", "fields_to_clear")
    unsupported = sorted(set(sent) - _UPDATABLE)
    if unsupported:
        detail = f"The emulator's UpdateOrder changes fulfillments only, not {', '.join(unsupported)}."
        raise invalid("BAD_REQUEST", detail, f"order.{unsupported[0]}")
    if sent.get("location_id") != order["location_id"]:
        raise invalid("INVALID_VALUE", "location_id must be the order's location.", "order.location_id")
    if sent.get("version") is None:
        raise invalid("MISSING_REQUIRED_PARAMETER", "The order's version is required.", "order.version")
    if sent["version"] != order["version"]:
        detail = f"Version {sent['version']} does not match the order's version {order['version']}."
        raise invalid("VERSION_MISMATCH", detail, "order.version")
    updated = copy.deepcopy(order)
    moment = state.now()
    now = format_time(moment)
    by_uid = {f.get("uid"): f for f in updated.get("fulfillments") or []}
    for index, change in enumerate(sent.get("fulfillments") or []):
        where = f"order.fulfillments[{index}]"
        target = by_uid.get(change.get("uid"))
        if target is None:
            raise invalid("INVALID_VALUE", f"The order has no fulfillment {change.get('uid')!r}.", f"{where}.uid")
        _move(target, change, where, moment)
    for name in ("reference_id", "ticket_name"):
        if name in sent:
            updated[name] = sent[name]
    updated["version"] = int(order["version"]) + 1
    updated["updated_at"] = now
    order.clear()
    order.update(updated)
    if key is not None:
        cache.entries[key] = (fingerprint, {})
    return {"order": copy.deepcopy(order)}
