"""Shipment confirmation on Square: an order's SHIPMENT fulfillment moved to COMPLETED with its tracking.

Orders sold at the POS are handed over at the counter: they have no SHIPMENT fulfillment and nothing is confirmed
(a refusal saying so). Web orders (Square Online, or created with CreateOrder) carry one SHIPMENT fulfillment that
starts ``PROPOSED`` and moves ``RESERVED`` (accepted) → ``PREPARED`` (packed, label bought) → ``COMPLETED``
(handed to the carrier). :meth:`SquareShipments.confirm_shipment`:

1. ``RetrieveOrder``; the first SHIPMENT fulfillment not CANCELED or FAILED is the one confirmed;
2. already ``COMPLETED``: a repeat, ``duplicate=True`` and nothing is written (Square does not let a completed
   fulfillment change; a different tracking number is named in ``message``);
3. otherwise ``UpdateOrder`` with the sparse order ``{location_id, version, fulfillments: [{uid, state:
   "COMPLETED", shipment_details: {carrier, shipping_type, tracking_number, tracking_url}}]}`` and
   ``idempotency_key`` = ``<reference>:v<version>`` (the confirmation's ``reference`` and the order version the
   update applies to: a retry of the same write replays, and the write retried after a version mismatch never
   reuses a key with another body, whether or not Square remembers failed requests). Square documents no rule
   that a fulfillment must pass through every state, so it goes to COMPLETED in one update (the emulator refuses
   only backward moves and changes to a finished fulfillment). ``shipped_at`` is read-only in Square's spec:
   Square stamps it;
4. a stale ``version`` (400 ``VERSION_MISMATCH``: someone changed the order in between) is re-read and retried
   once; a second mismatch raises :class:`~omnibridge.errors.RetriableConnectorError`.

Square refusing the order (404, a 400 other than the version) is ``accepted=False`` with Square's detail. Square
orders created through the API carry one fulfillment for all their items and it cannot be split, so the first
package's tracking is what Square shows for the whole order; later packages of it answer ``duplicate=True``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

from connectors.square import mapper
from omnibridge.sdk import HttpFatalError, RetriableConnectorError
from omnibridge.sdk.fulfilment import ConfirmationResult, ShipmentConfirmation

__all__ = ["SquareShipments", "shipment_details", "update_body"]

CONNECTOR_ID = "square"
_GONE = frozenset({"CANCELED", "FAILED"})
_MAX_KEY = 192  # UpdateOrderRequest.idempotency_key maxLength
_LIMITS = {"carrier": 50, "shipping_type": 50, "tracking_number": 100, "tracking_url": 2000}

Call = Callable[..., Awaitable[tuple[int, dict[str, Any]]]]


def idempotency_key(reference: str, version: int) -> str:
    """``<reference>:v<version>``, or its SHA-256 when that is longer than Square's 192 characters."""
    key = f"{reference}:v{version}"
    return key if len(key) <= _MAX_KEY else hashlib.sha256(key.encode("utf-8")).hexdigest()


def shipment_details(confirmation: ShipmentConfirmation) -> dict[str, str]:
    """The writable ``FulfillmentShipmentDetails`` fields the confirmation fills (each cut to Square's limit)."""
    values = {
        "carrier": confirmation.carrier,
        "shipping_type": confirmation.service,
        "tracking_number": confirmation.tracking_number,
        "tracking_url": confirmation.tracking_url,
    }
    return {name: value[: _LIMITS[name]] for name, value in values.items() if value}


def update_body(order: Mapping[str, Any], uid: str, confirmation: ShipmentConfirmation) -> dict[str, Any]:
    """The ``UpdateOrderRequest`` completing fulfillment ``uid`` of ``order`` at its current version."""
    fulfillment = {"uid": uid, "state": "COMPLETED", "shipment_details": shipment_details(confirmation)}
    return {
        "order": {"location_id": order["location_id"], "version": order["version"], "fulfillments": [fulfillment]},
        "idempotency_key": idempotency_key(confirmation.reference, int(order["version"])),
    }


def _shipment(order: Mapping[str, Any]) -> Mapping[str, Any] | None:
    fulfillments = order.get("fulfillments")
    for fulfillment in fulfillments if isinstance(fulfillments, list) else []:
        if not isinstance(fulfillment, Mapping):
            continue
        if fulfillment.get("type") == "SHIPMENT" and fulfillment.get("state") not in _GONE:
            return fulfillment
    return None


class SquareShipments:
    """``confirm_shipment`` over the connector's request function ``call(method, path, op, body, **options)``."""

    def __init__(self, call: Call) -> None:
        self._call = call

    async def _order(self, order_id: str) -> dict[str, Any] | str:
        """The order, or Square's reason for not returning it."""
        try:
            _, body = await self._call("GET", f"/v2/orders/{quote(order_id, safe='')}", "retrieve_order")
        except HttpFatalError as error:
            if error.status_code in (400, 404):
                return f"Square has no order {order_id}: {error}"
            raise
        order = body.get("order")
        return order if isinstance(order, dict) else f"Square answered without order {order_id}"

    async def confirm_shipment(self, confirmation: ShipmentConfirmation) -> ConfirmationResult:
        """Complete the order's SHIPMENT fulfillment with the confirmation's carrier and tracking; safe to repeat."""
        for attempt in (1, 2):
            order = await self._order(confirmation.order_ref)
            if isinstance(order, str):
                return ConfirmationResult(False, message=order)
            refused = self._refusal(order, confirmation)
            if refused is not None:
                return refused
            fulfillment = _shipment(order)
            assert fulfillment is not None  # _refusal answered otherwise
            uid = str(fulfillment["uid"])
            if fulfillment.get("state") == "COMPLETED":
                return self._repeat(fulfillment, confirmation)
            body = update_body(order, uid, confirmation)
            status, answer = await self._call(
                "PUT",
                f"/v2/orders/{quote(confirmation.order_ref, safe='')}",
                "update_order",
                body,
                write_key=body["idempotency_key"],
                accept_400=True,
            )
            if status < 400:
                return ConfirmationResult(True, channel_ref=uid)
            errors = mapper.square_errors(answer)
            if any(e.get("code") == "VERSION_MISMATCH" for e in errors):
                if attempt == 1:
                    continue
                raise RetriableConnectorError(
                    f"order {confirmation.order_ref} kept changing on Square while its shipment was confirmed",
                    connector=CONNECTOR_ID,
                    op="update_order",
                )
            return ConfirmationResult(False, message=mapper.describe_errors(errors) or f"HTTP {status}")
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _refusal(order: Mapping[str, Any], confirmation: ShipmentConfirmation) -> ConfirmationResult | None:
        order_id = confirmation.order_ref
        if order.get("state") == "CANCELED":
            return ConfirmationResult(False, message=f"Square order {order_id} is CANCELED")
        if _shipment(order) is None:
            return ConfirmationResult(
                False,
                message=f"Square order {order_id} has no open SHIPMENT fulfillment (a POS sale or pickup is "
                "handed over at the store): nothing to confirm",
            )
        uids = {line.get("uid") for line in order.get("line_items") or [] if isinstance(line, Mapping)}
        unknown = sorted(line.line_ref for line in confirmation.lines if line.line_ref not in uids)
        if unknown:
            return ConfirmationResult(False, message=f"Square order {order_id} has no line item {', '.join(unknown)}")
        if order.get("version") is None:
            return ConfirmationResult(False, message=f"Square order {order_id} has no version and cannot be updated")
        return None

    @staticmethod
    def _repeat(fulfillment: Mapping[str, Any], confirmation: ShipmentConfirmation) -> ConfirmationResult:
        details = fulfillment.get("shipment_details")
        shown = details.get("tracking_number") if isinstance(details, Mapping) else None
        message = ""
        if shown and confirmation.tracking_number and shown != confirmation.tracking_number:
            message = f"the shipment was already completed with tracking number {shown}"
        return ConfirmationResult(True, channel_ref=str(fulfillment["uid"]), duplicate=True, message=message)
