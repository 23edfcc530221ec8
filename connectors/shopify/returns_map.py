"""Shopify ``Return`` nodes (the fields of :data:`~connectors.shopify.returns_queries.RETURN_QUERY`) →
:class:`~omnibridge.sdk.returns.ReturnEvent`. Pure functions, no I/O.

* ``ref`` is the return gid, ``order_ref`` its order's gid, ``occurred_at`` the order's ``updatedAt`` (older API
  versions have no ``Return.createdAt``; a return's changes touch its order).
* ``state``: REQUESTED, OPEN (RECEIVED once a unit has a disposition), CLOSED, DECLINED, CANCELED → cancelled.
* One :class:`~omnibridge.sdk.returns.ReturnLineEvent` per return line item with ``line_ref`` the order line
  (``fulfillmentLineItem.lineItem.id``); its units that have dispositions on the reverse fulfillment order come as
  their own lines, ``return_line_ref`` ``"<return line gid>#<n>"`` (the n-th disposition of that line: dispositions
  are final, so the ref is stable), the rest under the bare return line gid with no disposition yet.
* Dispositions: RESTOCKED → restock (at its location), NOT_RESTOCKED → damaged, PROCESSING_REQUIRED → inspect,
  MISSING → missing.
* The first reverse delivery's tracking number and carrier name are the return's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.shopify.mapper import parse_time
from omnibridge.sdk import MapMessage, MapResult, skip, warning
from omnibridge.sdk.returns import Disposition, ReturnEvent, ReturnLineEvent, ReturnState

__all__ = ["DISPOSITIONS", "map_return"]

DISPOSITIONS = {
    "RESTOCKED": Disposition.RESTOCK,
    "NOT_RESTOCKED": Disposition.DAMAGED,
    "PROCESSING_REQUIRED": Disposition.INSPECT,
    "MISSING": Disposition.MISSING,
}
"""Shopify's ``ReverseFulfillmentOrderDispositionType`` → :class:`Disposition`."""
_STATES = {
    "REQUESTED": ReturnState.REQUESTED,
    "OPEN": ReturnState.OPEN,
    "CLOSED": ReturnState.CLOSED,
    "DECLINED": ReturnState.DECLINED,
    "CANCELED": ReturnState.CANCELLED,
}


def _nodes(connection: object) -> list[Mapping[str, Any]]:
    nodes = connection.get("nodes") if isinstance(connection, Mapping) else None
    return [n for n in nodes if isinstance(n, Mapping)] if isinstance(nodes, list) else []


def _id(holder: object) -> str | None:
    value = holder.get("id") if isinstance(holder, Mapping) else None
    return value if isinstance(value, str) and value else None


def _dispositions(node: Mapping[str, Any]) -> dict[str, list[Mapping[str, Any]]]:
    """Fulfillment line item gid → its dispositions on the return's reverse fulfillment orders."""
    out: dict[str, list[Mapping[str, Any]]] = {}
    for reverse in _nodes(node.get("reverseFulfillmentOrders")):
        for line in _nodes(reverse.get("lineItems")):
            key = _id(line.get("fulfillmentLineItem"))
            found = line.get("dispositions")
            if key and isinstance(found, list):
                out.setdefault(key, []).extend(d for d in found if isinstance(d, Mapping))
    return out


def _tracking(node: Mapping[str, Any]) -> tuple[str | None, str | None]:
    for reverse in _nodes(node.get("reverseFulfillmentOrders")):
        for delivery in _nodes(reverse.get("reverseDeliveries")):
            deliverable = delivery.get("deliverable")
            tracking = deliverable.get("tracking") if isinstance(deliverable, Mapping) else None
            if isinstance(tracking, Mapping) and tracking.get("number"):
                carrier = tracking.get("carrierName")
                return str(tracking["number"]), str(carrier) if carrier else None
    return None, None


def map_return(node: Mapping[str, Any], fallback_time: datetime | None = None) -> MapResult[ReturnEvent]:
    """A ``Return`` node → :class:`ReturnEvent` (see the module docstring); skipped with the reason when it has no
    id, order or known status, or more lines than one page holds."""
    return_id = _id(node)
    if return_id is None:
        return skip("return has no id", field_path="id")
    order = node.get("order")
    order_id = _id(order)
    if order_id is None:
        return skip("return has no order", field_path="order", record_id=return_id)
    state = _STATES.get(str(node.get("status")))
    if state is None:
        return skip(f"return has an unknown status {node.get('status')!r}", field_path="status", record_id=return_id)
    lines_connection = node.get("returnLineItems")
    info = lines_connection.get("pageInfo") if isinstance(lines_connection, Mapping) else None
    if isinstance(info, Mapping) and info.get("hasNextPage") is True:
        return skip("return has more lines than one page holds", field_path="returnLineItems", record_id=return_id)
    occurred = parse_time(order.get("updatedAt") if isinstance(order, Mapping) else None) or fallback_time
    if occurred is None:
        return skip("return's order has no valid updatedAt", field_path="order.updatedAt", record_id=return_id)
    by_fulfillment_line = _dispositions(node)
    lines: list[ReturnLineEvent] = []
    messages: list[MapMessage] = []
    for index, item in enumerate(_nodes(lines_connection)):
        item_id, quantity = _id(item), item.get("quantity")
        fulfillment_line = item.get("fulfillmentLineItem")
        line_item = fulfillment_line.get("lineItem") if isinstance(fulfillment_line, Mapping) else None
        if item_id is None or not isinstance(quantity, int):
            messages.append(
                warning(
                    "return line without id or quantity", field_path=f"returnLineItems.{index}", record_id=return_id
                )
            )
            continue
        sku = line_item.get("sku") if isinstance(line_item, Mapping) else None
        common: dict[str, Any] = {
            "line_ref": _id(line_item),
            "sku": sku if isinstance(sku, str) and sku else None,
            "reason": str(item.get("returnReason") or ""),
        }
        left = quantity
        for number, found in enumerate(by_fulfillment_line.get(_id(fulfillment_line) or "", []), start=1):
            units = found.get("quantity")
            kind = DISPOSITIONS.get(str(found.get("type")))
            if not isinstance(units, int) or kind is None or units <= 0:
                continue
            units = min(units, left)
            left -= units
            location = _id(found.get("location"))
            lines.append(
                ReturnLineEvent(
                    f"{item_id}#{number}", quantity=units, disposition=kind, location_ref=location, **common
                )
            )
        if left > 0:
            lines.append(ReturnLineEvent(item_id, quantity=left, **common))
    if state is ReturnState.OPEN and any(line.disposition is not None for line in lines):
        state = ReturnState.RECEIVED
    tracking_number, carrier = _tracking(node)
    event = ReturnEvent(
        return_id,
        order_id,
        state,
        occurred,
        tuple(lines),
        tracking_number=tracking_number,
        carrier=carrier,
    )
    return MapResult(event, messages)
