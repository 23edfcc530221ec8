"""Amazon in-store pickup (ISPU): Orders v0 ``updateShipmentStatus``, 5 requests/s, burst 15.

``POST /orders/v0/orders/{orderId}/shipment`` with ``{marketplaceId, shipmentStatus, orderItems?}``; Amazon answers
204. omnibridge's pickup states map to Amazon's ``ShipmentStatus``: READY → ``ReadyForPickup``, COLLECTED →
``PickedUp``, REJECTED → ``RefusedPickup`` (the only three Amazon has; the others are not sent). ``orderItems``
(``{orderItemId, quantity}``) is left out when the update covers the whole order; with ``line_refs`` the items
are named (Amazon wants a quantity with each: the ordered quantity, read with ``getOrderItems``).

Repeats: Amazon gives a status update no reference, so one already sent by this process for the same order and
status is answered ``duplicate=True`` without a call; after a restart it is sent again (setting the status the
order already has is harmless). A 400 or 404 with Amazon's ``errors`` is a refusal (``accepted=False`` with
Amazon's message, e.g. an order that is not an in-store pickup order).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from connectors.amazon import mapper
from omnibridge.sdk.pickup import PickupState, PickupUpdate, PickupUpdateResult

if TYPE_CHECKING:
    from connectors.amazon.client import AmazonApi
    from connectors.amazon.orders import OrdersPoller

__all__ = ["SHIPMENT_STATUSES", "PickupStatusUpdater", "shipment_status_body"]

OPERATION = "updateShipmentStatus"
SHIPMENT_STATUSES: Mapping[PickupState, str] = {
    PickupState.READY: "ReadyForPickup",
    PickupState.COLLECTED: "PickedUp",
    PickupState.REJECTED: "RefusedPickup",
}
_REMEMBERED = 10_000


def shipment_status_body(
    update: PickupUpdate, marketplace_id: str, quantities: Mapping[str, int] | None = None
) -> dict[str, Any]:
    """The ``UpdateShipmentStatusRequest`` for ``update`` (``quantities``: ordered quantity by OrderItemId)."""
    body: dict[str, Any] = {"marketplaceId": marketplace_id, "shipmentStatus": SHIPMENT_STATUSES[update.state]}
    if update.line_refs:
        known = quantities or {}
        body["orderItems"] = [
            {"orderItemId": ref, **({"quantity": known[ref]} if ref in known else {})} for ref in update.line_refs
        ]
    return body


class PickupStatusUpdater:
    """``update_pickup`` for one seller and marketplace (see the module docstring)."""

    pickup_states: frozenset[PickupState] = frozenset(SHIPMENT_STATUSES)

    def __init__(self, api: AmazonApi, orders: OrdersPoller, marketplace_id: str) -> None:
        self._orders = orders
        self._api = api
        self._marketplace_id = marketplace_id
        self._sent: OrderedDict[tuple[str, str, tuple[str, ...]], None] = OrderedDict()

    async def update_pickup(self, update: PickupUpdate) -> PickupUpdateResult:
        """Make Amazon show ``update.state`` for the in-store pickup order ``update.order_ref``; safe to repeat."""
        status = SHIPMENT_STATUSES.get(update.state)
        if status is None:
            shown = ", ".join(s.value for s in SHIPMENT_STATUSES)
            return PickupUpdateResult(False, message=f"Amazon shows no {update.state.value!r} pickup (only {shown})")
        key = (update.order_ref, status, update.line_refs)
        if key in self._sent:
            return PickupUpdateResult(True, duplicate=True)
        quantities: dict[str, int] = {}
        if update.line_refs:
            for item in await self._orders.items(update.order_ref):
                if isinstance(item, dict) and isinstance(item.get("QuantityOrdered"), int):
                    quantities[str(item.get("OrderItemId"))] = int(item["QuantityOrdered"])
        answer_status, answer = await self._api.call(
            OPERATION,
            "POST",
            f"/orders/v0/orders/{quote(update.order_ref, safe='')}/shipment",
            json=shipment_status_body(update, self._marketplace_id, quantities),
            expected=(400, 404),
        )
        if answer_status >= 400:
            detail = mapper.describe_errors(mapper.amazon_errors(answer)) or f"HTTP {answer_status}"
            return PickupUpdateResult(False, message=f"Amazon refused {status} for {update.order_ref}: {detail}")
        self._sent[key] = None
        while len(self._sent) > _REMEMBERED:
            self._sent.popitem(last=False)
        return PickupUpdateResult(True)
