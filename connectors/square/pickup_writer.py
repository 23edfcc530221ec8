"""Telling Square how a pickup stands: the order's PICKUP fulfillment moved with UpdateOrder.

:meth:`SquarePickups.update_pickup` (the connector's :class:`~omnibridge.sdk.pickup.PickupStatusWriter`):

1. ``RetrieveOrder``; the first PICKUP fulfillment not CANCELED or FAILED is the one moved;
2. it already shows the state: a repeat, ``duplicate=True`` and nothing is written; a finished fulfillment
   (COMPLETED, CANCELED, FAILED) or one further along than asked is refused with what Square shows;
3. otherwise ``UpdateOrder`` (``PUT /v2/orders/{order_id}``) with the sparse order ``{location_id, version,
   fulfillments: [{uid, state, pickup_details}]}`` and ``idempotency_key`` ``<reference>:v<version>``. Reserving
   sends ``pickup_at``, ``pickup_window_duration``, ``prep_time_duration``, ``expires_at`` and
   ``is_curbside_pickup``; cancelling (cancelled, expired, rejected) sends ``cancel_reason`` (≤100 characters);
4. a stale ``version`` (400 ``VERSION_MISMATCH``) is re-read and retried once; a second mismatch raises
   :class:`~omnibridge.errors.RetriableConnectorError`.

Square refuses an ``expires_at`` more than 7 days ahead; such an update is refused here, before any call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from connectors.square import mapper, pickups
from connectors.square.shipments import Call, SquareShipments, idempotency_key
from omnibridge.sdk import RetriableConnectorError
from omnibridge.sdk.pickup import PickupState, PickupUpdate, PickupUpdateResult

__all__ = ["MAX_EXPIRY", "PICKUP_STATES", "SquarePickups", "update_body"]

CONNECTOR_ID = "square"
MAX_EXPIRY = timedelta(days=7)  # FulfillmentPickupDetails.expires_at: "at most 7 days" ahead
PICKUP_STATES = frozenset(
    {
        PickupState.RESERVED,
        PickupState.READY,
        PickupState.COLLECTED,
        PickupState.CANCELLED,
        PickupState.EXPIRED,
        PickupState.REJECTED,
    }
)
"""What omnibridge can make Square show (ARRIVED is the buyer's to say, not the merchant's)."""
_RANK = {"PROPOSED": 0, "RESERVED": 1, "PREPARED": 2, "COMPLETED": 3}
_FINISHED = frozenset({"COMPLETED", "CANCELED", "FAILED"})
_CANCEL_REASONS = {PickupState.EXPIRED: "not collected before the hold expired", PickupState.REJECTED: "rejected"}


def _pickup_details(update: PickupUpdate) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if update.state is PickupState.RESERVED:
        if update.pickup_at is not None:
            details["pickup_at"] = mapper.format_time(update.pickup_at)
        if update.window_minutes is not None:
            details["pickup_window_duration"] = pickups.format_duration(update.window_minutes)
        if update.prep_minutes is not None:
            details["prep_time_duration"] = pickups.format_duration(update.prep_minutes)
        if update.expires_at is not None:
            details["expires_at"] = mapper.format_time(update.expires_at)
        if update.curbside:
            details["is_curbside_pickup"] = True
    elif pickups.square_state(update.state) == "CANCELED":
        reason = update.reason or _CANCEL_REASONS.get(update.state, "")
        if reason:
            details["cancel_reason"] = reason[:100]
    return details


def update_body(order: Mapping[str, Any], uid: str, update: PickupUpdate) -> dict[str, Any]:
    """The ``UpdateOrderRequest`` moving PICKUP fulfillment ``uid`` of ``order`` to ``update.state``."""
    fulfillment: dict[str, Any] = {"uid": uid, "state": pickups.square_state(update.state)}
    details = _pickup_details(update)
    if details:
        fulfillment["pickup_details"] = details
    return {
        "order": {"location_id": order["location_id"], "version": order["version"], "fulfillments": [fulfillment]},
        "idempotency_key": idempotency_key(update.reference, int(order["version"])),
    }


class SquarePickups:
    """``update_pickup`` over the connector's request function; ``now`` is the wall clock (the 7-day limit)."""

    def __init__(self, call: Call, now: Callable[[], datetime]) -> None:
        self._call = call
        self._now = now
        self._orders = SquareShipments(call)  # shares RetrieveOrder and its refusal wording

    def _refusal(self, update: PickupUpdate) -> str | None:
        if update.state not in PICKUP_STATES:
            return f"Square cannot be told a pickup is {update.state.value} (it shows {_shown()})"
        if update.expires_at is not None and update.expires_at - self._now() > MAX_EXPIRY:
            return (
                f"expires_at {mapper.format_time(update.expires_at)} is more than 7 days ahead; "
                "Square accepts a pickup expiry at most 7 days from now"
            )
        return None

    async def update_pickup(self, update: PickupUpdate) -> PickupUpdateResult:
        """Make Square show ``update.state`` on the order's PICKUP fulfillment; safe to repeat."""
        refused = self._refusal(update)
        if refused is not None:
            return PickupUpdateResult(False, message=refused)
        wanted = str(pickups.square_state(update.state))
        for attempt in (1, 2):
            order = await self._orders._order(update.order_ref)
            if isinstance(order, str):
                return PickupUpdateResult(False, message=order)
            fulfillment = pickups.pickup_fulfillment(order)
            if fulfillment is None:
                return PickupUpdateResult(False, message=f"Square order {update.order_ref} has no PICKUP fulfillment")
            if update.location_ref and order.get("location_id") != update.location_ref:
                return PickupUpdateResult(
                    False,
                    message=f"Square order {update.order_ref} is for pickup at {order.get('location_id')}, "
                    f"not {update.location_ref}",
                )
            current = str(fulfillment.get("state"))
            if current == wanted:
                return PickupUpdateResult(True, duplicate=True)
            if current in _FINISHED or _RANK.get(wanted, 4) < _RANK.get(current, 0):
                return PickupUpdateResult(
                    False, message=f"the pickup is {current} on Square and cannot become {wanted}"
                )
            if order.get("version") is None:
                return PickupUpdateResult(False, message=f"Square order {update.order_ref} has no version")
            body = update_body(order, str(fulfillment["uid"]), update)
            status, answer = await self._call(
                "PUT",
                f"/v2/orders/{quote(update.order_ref, safe='')}",
                "update_pickup",
                body,
                write_key=body["idempotency_key"],
                accept_400=True,
            )
            if status < 400:
                return PickupUpdateResult(True)
            errors = mapper.square_errors(answer)
            if any(e.get("code") == "VERSION_MISMATCH" for e in errors):
                if attempt == 1:
                    continue
                raise RetriableConnectorError(
                    f"order {update.order_ref} kept changing on Square while its pickup was updated",
                    connector=CONNECTOR_ID,
                    op="update_pickup",
                )
            return PickupUpdateResult(False, message=mapper.describe_errors(errors) or f"HTTP {status}")
        raise AssertionError("unreachable")  # pragma: no cover


def _shown() -> str:
    return ", ".join(sorted(state.value for state in PICKUP_STATES))
