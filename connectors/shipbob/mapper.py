"""Pure mapping between ShipBob 1.0 payloads and omnibridge's canonical models (no I/O, never imports httpx).

* :func:`order_body`: a :class:`FulfilmentRequest` → ``CreateOrder`` (``reference_id`` = the request's reference,
  ``location_id`` = the chosen fulfilment centre, products by ``reference_id`` = SKU, and one order tag per line
  carrying omnibridge's line ref, so shipments can name the lines they carry).
* :func:`levels_from_product`: a ``Product`` → fulfillable quantity per fulfilment centre.
* :func:`order_events`: an ``Order`` (with its shipments) → shipments as :class:`FulfilmentEvent` and
  cancelled shipments as :class:`FulfilmentStatusEvent` ``CANCELLED``.
* :func:`shipment_event`: a ``Shipment`` (the 1.0 webhook payload, or an element of ``Order.shipments``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from omnibridge.sdk import MapMessage, MapResult, ok, skip, warning
from omnibridge.sdk.channel import (
    ChannelLocation,
    FulfilmentEvent,
    FulfilmentLineEvent,
    FulfilmentStatus,
    FulfilmentStatusEvent,
    ShipTo,
    StockLevel,
)
from omnibridge.sdk.fulfilment import FulfilmentRequest

__all__ = [
    "LINE_TAG_PREFIX",
    "ORDER_TYPE",
    "RECIPIENT_ADDRESS_TYPE",
    "cancellation",
    "duplicate_reference",
    "error_text",
    "levels_from_product",
    "location_from_fc",
    "order_body",
    "order_events",
    "parse_time",
    "shipment_event",
]

ORDER_TYPE = "DTC"
LINE_TAG_PREFIX = "omnibridge_line:"
"""Order tag name prefix: ``omnibridge_line:<external_line_id>`` → omnibridge's line ref (tag names ≤ 50 chars)."""
RECIPIENT_ADDRESS_TYPE = "MarkFor"
"""The 1.0 document types the recipient address as ``RetailerProgramDataAddress`` whose ``type`` (MarkFor or
ShipFrom) is required; a recipient is the party the parcel is marked for."""
SHIPPED_STATUSES = frozenset({"Completed", "LabeledCreated"})
CANCELLED_STATUS = "Cancelled"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def parse_time(value: Any) -> datetime | None:
    """A ShipBob date-time (ISO 8601, ``Z`` or offset; a naive value is UTC) or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _address(ship_to: ShipTo) -> dict[str, Any]:
    address: dict[str, Any] = {"type": RECIPIENT_ADDRESS_TYPE, "country": ship_to.country}
    for key, value in (
        ("address1", ship_to.line1),
        ("address2", ship_to.line2),
        ("city", ship_to.city),
        ("state", ship_to.region),
        ("zip_code", ship_to.postal_code),
    ):
        if value:
            address[key] = value
    return address


def order_body(request: FulfilmentRequest, default_shipping_method: str) -> MapResult[dict[str, Any]]:
    """The ``POST /1.0/order`` body for ``request``; skipped (with the reason) when ShipBob could not take it."""
    ship_to = request.ship_to
    if ship_to is None:
        return skip("the order has no ship-to address; ShipBob needs recipient address1, city and country")
    missing = [name for name, value in (("line1", ship_to.line1), ("city", ship_to.city)) if not value]
    if missing:
        return skip(f"the ship-to address lacks {', '.join(missing)}; ShipBob needs address1, city and country")
    if not request.lines:
        return skip("the request has no lines")
    try:
        location_id = int(request.location_ref)
    except ValueError:
        return skip(f"location_ref {request.location_ref!r} is not a ShipBob fulfilment centre id (an integer)")
    recipient: dict[str, Any] = {"name": ship_to.name or request.order_name, "address": _address(ship_to)}
    if ship_to.phone:
        recipient["phone_number"] = ship_to.phone[:50]
    products = []
    tags = []
    for index, line in enumerate(request.lines, start=1):
        product: dict[str, Any] = {"reference_id": line.sku, "quantity": line.quantity, "external_line_id": index}
        product["name"] = line.name or line.sku
        products.append(product)
        tags.append({"name": f"{LINE_TAG_PREFIX}{index}", "value": line.line_ref[:500]})
    body: dict[str, Any] = {
        "reference_id": request.reference,
        "order_number": request.order_name or request.reference,
        "location_id": location_id,
        "type": ORDER_TYPE,
        "shipping_method": request.shipping_method or default_shipping_method,
        "purchase_date": request.placed_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "recipient": recipient,
        "products": products,
        "tags": tags,
    }
    return ok(body)


def location_from_fc(fc: Mapping[str, Any]) -> ChannelLocation | None:
    """A ``ReceivingFulfillmentCenter`` (``GET /1.0/fulfillmentCenter``) as a channel location."""
    fc_id = fc.get("id")
    if not isinstance(fc_id, int):
        return None
    return ChannelLocation(str(fc_id), str(fc.get("name") or f"ShipBob FC {fc_id}"))


def levels_from_product(product: Mapping[str, Any], observed_at: datetime) -> list[StockLevel]:
    """Fulfillable quantity per fulfilment centre of one ``Product`` (keyed by its ``reference_id``, the SKU).

    Fulfillable = on hand - committed to ShipBob orders: what ShipBob can still ship.
    """
    sku = product.get("reference_id") or product.get("sku")
    if not isinstance(sku, str) or not sku:
        return []
    levels = []
    for row in product.get("fulfillable_quantity_by_fulfillment_center") or []:
        fc_id = row.get("id") if isinstance(row, Mapping) else None
        quantity = row.get("fulfillable_quantity") if isinstance(row, Mapping) else None
        if isinstance(fc_id, int) and isinstance(quantity, int):
            levels.append(StockLevel(sku, str(fc_id), max(0, quantity), observed_at))
    return levels


def on_hand_from_product(product: Mapping[str, Any]) -> list[tuple[str, str, int]]:
    """``(sku, centre id, on hand)`` per fulfilment centre of one ``Product``: the absolute count the ledger takes
    in (on hand, not fulfillable: fulfillable already has omnibridge's own submitted orders taken out, which the
    ledger holds as commitments)."""
    sku = product.get("reference_id") or product.get("sku")
    if not isinstance(sku, str) or not sku:
        return []
    counts = []
    for row in product.get("fulfillable_quantity_by_fulfillment_center") or []:
        fc_id = row.get("id") if isinstance(row, Mapping) else None
        quantity = row.get("onhand_quantity") if isinstance(row, Mapping) else None
        if isinstance(fc_id, int) and isinstance(quantity, int):
            counts.append((sku, str(fc_id), max(0, quantity)))
    return counts


def _line_refs(order: Mapping[str, Any]) -> dict[str, list[tuple[str, int]]]:
    """SKU → [(omnibridge line ref, ordered quantity)] in line order, from the order's products and tags."""
    by_index: dict[int, str] = {}
    for tag in order.get("tags") or []:
        name = tag.get("name") if isinstance(tag, Mapping) else None
        if isinstance(name, str) and name.startswith(LINE_TAG_PREFIX):
            suffix = name[len(LINE_TAG_PREFIX) :]
            if suffix.isdigit():
                by_index[int(suffix)] = str(tag.get("value") or "")
    refs: dict[str, list[tuple[str, int]]] = {}
    for product in order.get("products") or []:
        if not isinstance(product, Mapping):
            continue
        sku = product.get("reference_id") or product.get("sku")
        index = product.get("external_line_id")
        line_ref = by_index.get(index) if isinstance(index, int) else None
        if isinstance(sku, str) and line_ref:
            refs.setdefault(sku, []).append((line_ref, int(product.get("quantity") or 0)))
    return refs


def _open_units(
    refs: Mapping[str, list[tuple[str, int]]], order: Mapping[str, Any] | None, shipment_id: int
) -> dict[str, int]:
    """Units of each line not yet carried by the order's earlier shipped shipments (ShipBob shipment ids grow),
    so a line split over two parcels is counted once however the shipments arrive."""
    left = {line_ref: ordered for lines in refs.values() for line_ref, ordered in lines}
    earlier = [
        s
        for s in (order or {}).get("shipments") or []
        if isinstance(s, Mapping)
        and isinstance(s.get("id"), int)
        and s["id"] < shipment_id
        and s.get("status") in SHIPPED_STATUSES
    ]
    for before in sorted(earlier, key=lambda s: int(s["id"])):
        for sku, quantity in _shipped_quantities(before).items():
            for line_ref, _ in refs.get(sku, []):
                take = min(quantity, left[line_ref])
                left[line_ref] -= take
                quantity -= take
    return left


def _shipped_quantities(shipment: Mapping[str, Any]) -> dict[str, int]:
    shipped: dict[str, int] = {}
    for product in shipment.get("products") or []:
        if not isinstance(product, Mapping):
            continue
        sku = product.get("reference_id") or product.get("sku")
        quantity = sum(
            int(item.get("quantity") or 0) for item in product.get("inventory_items") or [] if isinstance(item, Mapping)
        )
        if isinstance(sku, str) and quantity > 0:
            shipped[sku] = shipped.get(sku, 0) + quantity
    return shipped


def shipment_event(shipment: Mapping[str, Any], order: Mapping[str, Any] | None = None) -> MapResult[FulfilmentEvent]:
    """A shipped ``Shipment`` as a :class:`FulfilmentEvent` (``ref`` = the shipment id, ``order_ref`` = its
    order's ``reference_id``). Lines name omnibridge's line refs when ``order`` (with its tags) is given, else
    the SKU. A shipment not yet shipped (no tracking number, status not Completed) is skipped."""
    shipment_id = shipment.get("id")
    reference = shipment.get("reference_id") or (order or {}).get("reference_id")
    record = f"shipment {shipment_id}"
    if not isinstance(shipment_id, int) or not isinstance(reference, str) or not reference:
        return skip("a shipment without id or reference_id", record_id=record)
    tracking = _mapping(shipment.get("tracking"))
    number = tracking.get("tracking_number") or None
    if shipment.get("status") not in SHIPPED_STATUSES and not number:
        return skip(f"shipment {shipment_id} has not shipped (status {shipment.get('status')!r})", record_id=record)
    occurred = (
        parse_time(shipment.get("actual_fulfillment_date"))
        or parse_time(tracking.get("shipping_date"))
        or parse_time(shipment.get("last_update_at"))
        or parse_time(shipment.get("created_date"))
    )
    if occurred is None:
        return skip(f"shipment {shipment_id} carries no date", record_id=record)
    refs = _line_refs(order) if order is not None else {}
    open_units = _open_units(refs, order, shipment_id)
    messages: list[MapMessage] = []
    lines: list[FulfilmentLineEvent] = []
    for sku, quantity in _shipped_quantities(shipment).items():
        left = quantity
        for line_ref, _ in refs.get(sku, []):
            take = min(left, open_units.get(line_ref, 0))
            if take > 0:
                lines.append(FulfilmentLineEvent(line_ref, sku, take))
                left -= take
        if left > 0:
            if refs:
                messages.append(warning(f"{left} x {sku} shipped beyond the order's lines", record_id=record))
            lines.append(FulfilmentLineEvent(sku, sku, left))
    location = _mapping(shipment.get("location"))
    fc_id = location.get("id")
    event = FulfilmentEvent(
        ref=str(shipment_id),
        order_ref=reference,
        occurred_at=occurred,
        lines=tuple(lines),
        location_ref=str(fc_id) if isinstance(fc_id, int) else None,
        tracking_number=str(number) if number else None,
        carrier=str(tracking.get("carrier")) if tracking.get("carrier") else None,
    )
    return ok(event, *messages)


def order_events(order: Mapping[str, Any]) -> tuple[list[FulfilmentEvent | FulfilmentStatusEvent], list[MapMessage]]:
    """Every shipped shipment of ``order`` as a :class:`FulfilmentEvent` and every cancelled one as a
    :class:`FulfilmentStatusEvent` ``CANCELLED`` (a cancelled order without shipments: ``ref``
    ``"order-<order id>:cancelled"``)."""
    events: list[FulfilmentEvent | FulfilmentStatusEvent] = []
    messages: list[MapMessage] = []
    reference = order.get("reference_id")
    if not isinstance(reference, str) or not reference:
        return events, skip("an order without reference_id", record_id=f"order {order.get('id')}").messages
    for shipment in order.get("shipments") or []:
        if not isinstance(shipment, Mapping) or shipment.get("status") == CANCELLED_STATUS:
            continue
        tracking = shipment.get("tracking")
        if shipment.get("status") not in SHIPPED_STATUSES and not (
            isinstance(tracking, Mapping) and tracking.get("tracking_number")
        ):
            continue  # not shipped yet: nothing to report, not an error
        result = shipment_event(shipment, order)
        messages.extend(result.messages)
        if result.value is not None:
            events.append(result.value)
    for shipment in order.get("shipments") or []:
        if isinstance(shipment, Mapping) and shipment.get("status") == CANCELLED_STATUS:
            events.append(cancellation(shipment, reference, order))
    if order.get("status") == CANCELLED_STATUS and not any(isinstance(e, FulfilmentStatusEvent) for e in events):
        when = parse_time(order.get("created_date")) or datetime.now(UTC)
        events.append(
            FulfilmentStatusEvent(f"order-{order.get('id')}:cancelled", reference, FulfilmentStatus.CANCELLED, when)
        )
    return events, messages


def cancellation(
    shipment: Mapping[str, Any], reference: str, order: Mapping[str, Any] | None = None
) -> FulfilmentStatusEvent:
    """A cancelled shipment as :class:`FulfilmentStatusEvent` ``CANCELLED`` (``ref`` ``"<shipment id>:cancelled"``,
    the same whether polled or delivered by the ``shipment_cancelled`` webhook)."""
    when = (
        parse_time(shipment.get("last_update_at"))
        or parse_time(shipment.get("created_date"))
        or parse_time((order or {}).get("created_date"))
        or datetime.now(UTC)
    )
    return FulfilmentStatusEvent(
        f"{shipment.get('id')}:cancelled", reference, FulfilmentStatus.CANCELLED, when, "cancelled at ShipBob"
    )


def duplicate_reference(body: Any) -> bool:
    """True when a 422 body is ShipBob's "Duplicate reference ID" refusal."""
    return "duplicate reference" in error_text(body).lower()


def error_text(body: Any) -> str:
    """ShipBob's error body (``{"field": ["message"]}``, a ProblemDetails, or a string) as one line."""
    if isinstance(body, str):
        return body.strip()
    if isinstance(body, Mapping):
        if isinstance(body.get("title"), str) or isinstance(body.get("detail"), str):
            parts = [str(body.get(key)) for key in ("title", "detail") if body.get(key)]
            return ": ".join(parts)
        pieces: list[str] = []
        for key, value in body.items():
            texts = value if isinstance(value, Sequence) and not isinstance(value, str) else [value]
            joined = "; ".join(str(text) for text in texts)
            pieces.append(f"{key}: {joined}" if key else joined)
        return "; ".join(pieces)
    if isinstance(body, Sequence):
        return "; ".join(str(part) for part in body)
    return ""
