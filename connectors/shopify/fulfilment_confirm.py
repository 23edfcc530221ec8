"""Tell Shopify a package left: ``fulfillmentCreate`` per location, with tracking (fulfilment-contracts A1).

:func:`confirm_shipment` implements :class:`~omnibridge.sdk.fulfilment.ShipmentConfirmer` for
:class:`~connectors.shopify.client.ShopifyClient`. Shopify fulfils fulfillment orders of one location per call
("All fulfillment orders must be assigned to a single location"), so the confirmed units are taken from the open
fulfillment order lines of each line (at the confirmation's location when it names one, or the location of a
split-line ref) and sent as one ``fulfillmentCreate`` per location, with ``trackingInfo`` {number, company (the
carrier mapped to Shopify's name), url} and ``notifyCustomer`` from the profile (default false).

Idempotency: ``FulfillmentInput`` has no field for a caller's reference, and ``fulfillmentCreate`` takes no
``@idempotent`` key, so a repeat is recognised from what Shopify holds: successful fulfillments carrying the same
tracking number that already cover the confirmed units answer ``duplicate=True`` without a write. Without a
tracking number, a repeat is recognised only once the units are no longer unfulfilled and untracked successful
fulfillments cover them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from connectors.shopify import fulfilment_queries as fq
from connectors.shopify.fulfilment_assign import read_fulfillment_orders, user_errors
from connectors.shopify.fulfilment_plan import FoView, shopify_carrier, split_ref
from omnibridge.sdk.fulfilment import ConfirmationResult, ShipmentConfirmation

if TYPE_CHECKING:
    from connectors.shopify.client import ShopifyClient

__all__ = ["confirm_shipment"]

_OP = "confirm_shipment"


def _wanted(confirmation: ShipmentConfirmation) -> dict[str, int]:
    wanted: dict[str, int] = {}
    for line in confirmation.lines:
        base, _ = split_ref(line.line_ref)
        wanted[base] = wanted.get(base, 0) + line.quantity
    return wanted


def _covering(fulfillments: list[Mapping[str, Any]], wanted: dict[str, int], number: str | None) -> list[str]:
    """Ids of successful fulfillments with tracking ``number`` (None: untracked) that cover ``wanted``, or []."""
    shipped: dict[str, int] = {}
    ids: list[str] = []
    for fulfillment in fulfillments:
        numbers = {t.get("number") for t in fulfillment.get("trackingInfo") or () if isinstance(t, Mapping)}
        numbers.discard(None)
        if fulfillment.get("status") != "SUCCESS" or (number not in numbers if number else bool(numbers)):
            continue
        ids.append(str(fulfillment.get("id")))
        for item in (fulfillment.get("fulfillmentLineItems") or {}).get("nodes") or ():
            line = item.get("lineItem") or {}
            shipped[str(line.get("id"))] = shipped.get(str(line.get("id")), 0) + int(item.get("quantity") or 0)
    covered = bool(wanted) and all(shipped.get(base, 0) >= units for base, units in wanted.items())
    return ids if covered else []


def _allocate(
    fos: list[FoView], confirmation: ShipmentConfirmation
) -> tuple[dict[str, dict[str, list[dict[str, Any]]]], str]:
    """location → fulfillment order id → [{id, quantity}], or a problem."""
    by_location: dict[str, dict[str, list[dict[str, Any]]]] = {}
    left = {(fo.id, line.id): line.remaining for fo in fos if fo.open for line in fo.lines}
    for confirmed in confirmation.lines:
        base, source = split_ref(confirmed.line_ref)
        where = source or confirmation.location_ref
        units = confirmed.quantity
        if units <= 0:
            return {}, f"line {confirmed.line_ref}: quantity must be positive"
        for fo in fos:
            if not fo.open or fo.location is None or (where is not None and fo.location != where):
                continue
            for line in fo.lines:
                taken = min(units, left.get((fo.id, line.id), 0)) if line.line_id == base else 0
                if taken:
                    left[(fo.id, line.id)] -= taken
                    units -= taken
                    items = by_location.setdefault(fo.location, {}).setdefault(fo.id, [])
                    items.append({"id": line.id, "quantity": taken})
        if units:
            place = f" at {where}" if where else ""
            return {}, f"line {confirmed.line_ref}: {units} of {confirmed.quantity} units are not unfulfilled{place}"
    return by_location, ""


async def confirm_shipment(client: ShopifyClient, confirmation: ShipmentConfirmation) -> ConfirmationResult:
    """See the module docstring; infrastructure errors raise (the caller repeats the same confirmation)."""
    fos, problem = await read_fulfillment_orders(client, confirmation.order_ref, _OP)
    if problem:
        return ConfirmationResult(False, message=problem)
    data = await client.graphql(_OP, fq.FULFILLMENTS_QUERY, {"id": confirmation.order_ref})
    order = data.get("order")
    fulfillments = [f for f in (order or {}).get("fulfillments") or () if isinstance(f, Mapping)]
    wanted = _wanted(confirmation)
    if confirmation.tracking_number:
        already = _covering(fulfillments, wanted, confirmation.tracking_number)
        if already:
            return ConfirmationResult(True, channel_ref=",".join(already), duplicate=True, message="already on Shopify")
    allocation, problem = _allocate(fos, confirmation)
    if problem:
        already = [] if confirmation.tracking_number else _covering(fulfillments, wanted, None)
        if already:
            return ConfirmationResult(True, channel_ref=",".join(already), duplicate=True, message="already on Shopify")
        return ConfirmationResult(False, message=problem)
    tracking = {
        key: value
        for key, value in (
            ("number", confirmation.tracking_number),
            ("company", shopify_carrier(confirmation.carrier)),
            ("url", confirmation.tracking_url),
        )
        if value
    }
    created: list[str] = []
    for location, pairs in allocation.items():
        fulfillment: dict[str, Any] = {
            "lineItemsByFulfillmentOrder": [
                {"fulfillmentOrderId": fo_id, "fulfillmentOrderLineItems": items} for fo_id, items in pairs.items()
            ],
            "notifyCustomer": client.settings.notify_customer,
        }
        if tracking:
            fulfillment["trackingInfo"] = tracking
        data = await client.graphql(_OP, fq.FULFILLMENT_CREATE_MUTATION, {"fulfillment": fulfillment})
        payload = data.get("fulfillmentCreate")
        problem = user_errors(payload)
        made = payload.get("fulfillment") if isinstance(payload, Mapping) else None
        if problem or not isinstance(made, Mapping):
            done = f" (already created: {', '.join(created)})" if created else ""
            return ConfirmationResult(
                False,
                channel_ref=",".join(created) or None,
                message=f"Shopify refused the fulfillment at {location}: {problem or 'no fulfillment returned'}{done}",
            )
        created.append(str(made.get("id")))
    return ConfirmationResult(True, channel_ref=",".join(created))
