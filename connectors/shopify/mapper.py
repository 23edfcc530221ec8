"""Pure mapping between Shopify payloads (Admin GraphQL nodes, REST webhook bodies) and channel events.

Ids are Shopify global ids everywhere (``gid://shopify/Order/1``, ``gid://shopify/Location/2``), whether the
record came from a GraphQL poll or a REST webhook, so one business fact always gets one ``ref``. No I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from omnibridge.sdk import MapMessage, MapResult, ok, skip, warning
from omnibridge.sdk.channel import (
    ChannelEvent,
    ChannelLocation,
    FulfilmentEvent,
    FulfilmentLineEvent,
    OrderEvent,
    OrderEventKind,
    OrderLineEvent,
    RefundEvent,
    RefundLineEvent,
    RestockType,
    ShipTo,
    StockLevel,
)
from omnibridge.sdk.pickup import PickupDetails, PickupState

__all__ = [
    "FULFILLED",
    "InventoryItemLevels",
    "fulfilment_line_ref",
    "gid",
    "map_fulfillment",
    "map_inventory_item",
    "map_location",
    "map_order",
    "map_pickup",
    "map_refund",
    "map_shipping_address",
    "needs_full_order",
    "parse_time",
    "restock_type",
    "split_lines",
]


def gid(kind: str, value: object) -> str:
    """The global id of a REST numeric id (``gid("Location", 5)`` → ``gid://shopify/Location/5``); a value that
    already is a gid is returned unchanged."""
    text = str(value)
    return text if text.startswith("gid://") else f"gid://shopify/{kind}/{text}"


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 timestamp with offset (Shopify sends ``Z`` or ``-04:00``); ``None`` if absent or invalid."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _nodes(connection: object) -> list[Mapping[str, Any]]:
    if isinstance(connection, Mapping):
        nodes = connection.get("nodes")
        if isinstance(nodes, list):
            return [node for node in nodes if isinstance(node, Mapping)]
    return []


def _truncated(connection: object) -> bool:
    if isinstance(connection, Mapping):
        info = connection.get("pageInfo")
        return isinstance(info, Mapping) and info.get("hasNextPage") is True
    return False


def _location_id(holder: object) -> str | None:
    if isinstance(holder, Mapping):
        location = holder.get("location")
        if isinstance(location, Mapping) and isinstance(location.get("id"), str):
            return str(location["id"])
    return None


def map_location(node: Mapping[str, Any]) -> MapResult[ChannelLocation]:
    """A ``Location`` node → :class:`ChannelLocation` keyed by its gid."""
    location_id = node.get("id")
    if not isinstance(location_id, str) or not location_id:
        return skip("location has no id", field_path="id")
    return ok(ChannelLocation(location_id, str(node.get("name") or location_id), node.get("isActive") is not False))


class InventoryItemLevels:
    """One ``InventoryItem`` node: its gid, SKU, the ``available`` levels read and whether more levels exist."""

    __slots__ = ("item_id", "levels", "levels_cursor", "sku")

    def __init__(self, item_id: str, sku: str, levels: list[StockLevel], levels_cursor: str | None) -> None:
        self.item_id = item_id
        self.sku = sku
        self.levels = levels
        self.levels_cursor = levels_cursor


def map_inventory_item(node: Mapping[str, Any], observed_at: datetime) -> MapResult[InventoryItemLevels]:
    """An ``InventoryItem`` node with ``inventoryLevels{nodes{location{id} quantities{...}}}`` → its levels.

    ``observed_at`` is when the read was made. ``levels_cursor`` is set when the item has more levels to page.
    """
    item_id, sku = node.get("id"), node.get("sku")
    if not isinstance(item_id, str) or not item_id:
        return skip("inventory item has no id", field_path="id")
    if not isinstance(sku, str) or not sku:
        return skip("inventory item has no SKU", field_path="sku", record_id=item_id)
    levels: list[StockLevel] = []
    messages: list[MapMessage] = []
    connection = node.get("inventoryLevels")
    for index, level in enumerate(_nodes(connection)):
        location = _location_id(level)
        quantities = level.get("quantities")
        available = None
        if isinstance(quantities, list):
            for quantity in quantities:
                if isinstance(quantity, Mapping) and quantity.get("name") == "available":
                    available = quantity.get("quantity")
        if location is None or not isinstance(available, int):
            messages.append(
                warning(
                    "inventory level without location or available quantity",
                    field_path=f"inventoryLevels.nodes.{index}",
                    record_id=item_id,
                )
            )
            continue
        levels.append(StockLevel(sku, location, available, observed_at))
    cursor = None
    if _truncated(connection) and isinstance(connection, Mapping):
        end = connection["pageInfo"].get("endCursor")
        cursor = end if isinstance(end, str) else None
    return MapResult(InventoryItemLevels(item_id, sku, levels, cursor), messages)


def restock_type(value: object) -> RestockType | None:
    """Shopify's restock type (GraphQL ``RETURN`` or REST ``return``) → :class:`RestockType`.

    ``LEGACY_RESTOCK`` (refunds made before locations existed) put the units back, so it counts as a return.
    """
    if not isinstance(value, str):
        return None
    text = value.lower()
    if text == "legacy_restock":
        return RestockType.RETURN
    try:
        return RestockType(text)
    except ValueError:
        return None


def needs_full_order(node: Mapping[str, Any]) -> bool:
    """True when a lean poll node lacks data the mapping needs: refund lines, or lines (of the order, of a
    fulfillment order or of a fulfillment) past the lean page."""
    refunds = node.get("refunds")
    if isinstance(refunds, list) and any(
        isinstance(refund, Mapping) and "refundLineItems" not in refund for refund in refunds
    ):
        return True
    if _truncated(node.get("lineItems")) or _truncated(node.get("fulfillmentOrders")):
        return True
    if any(_truncated(fo.get("lineItems")) for fo in _nodes(node.get("fulfillmentOrders"))):
        return True
    return any(_truncated(f.get("fulfillmentLineItems")) for f in _fulfillments(node))


def _fulfillments(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    fulfillments = node.get("fulfillments")
    return [f for f in fulfillments if isinstance(f, Mapping)] if isinstance(fulfillments, list) else []


def _line_locations(node: Mapping[str, Any]) -> dict[str, list[tuple[str | None, int]]]:
    placed: dict[str, list[tuple[str | None, int]]] = {}
    for fulfillment_order in _nodes(node.get("fulfillmentOrders")):
        location = _location_id(fulfillment_order.get("assignedLocation"))
        for fo_line in _nodes(fulfillment_order.get("lineItems")):
            line = fo_line.get("lineItem")
            quantity = fo_line.get("totalQuantity")
            if isinstance(line, Mapping) and isinstance(line.get("id"), str) and isinstance(quantity, int):
                placed.setdefault(str(line["id"]), []).append((location, quantity))
    return placed


def _unit_price(money: object) -> str | None:
    """``originalUnitPriceSet.shopMoney.amount`` (the price before discounts, for routing's value rules)."""
    shop = money.get("shopMoney") if isinstance(money, Mapping) else None
    amount = shop.get("amount") if isinstance(shop, Mapping) else None
    return str(amount) if isinstance(amount, str | int | float) and not isinstance(amount, bool) else None


def split_lines(node: Mapping[str, Any]) -> frozenset[str]:
    """Gids of the order's line items that Shopify split across fulfillment orders at several locations: their
    :class:`OrderLineEvent` refs (and so the refs of their fulfilment lines) are ``"<line gid>@<location gid>"``."""
    return frozenset(
        line_id for line_id, placed in _line_locations(node).items() if len({loc for loc, _ in placed}) > 1
    )


def _order_lines(node: Mapping[str, Any], order_id: str) -> tuple[list[OrderLineEvent], list[MapMessage]]:
    placed = _line_locations(node)
    lines: list[OrderLineEvent] = []
    messages: list[MapMessage] = []
    for index, line in enumerate(_nodes(node.get("lineItems"))):
        line_id, quantity = line.get("id"), line.get("quantity")
        sku = line.get("sku") if isinstance(line.get("sku"), str) and line.get("sku") else None
        if not isinstance(line_id, str) or not isinstance(quantity, int):
            messages.append(
                warning("line item without id or quantity", field_path=f"lineItems.{index}", record_id=order_id)
            )
            continue
        by_location: dict[str | None, int] = {}
        for location, fo_quantity in placed.get(line_id, []):
            by_location[location] = by_location.get(location, 0) + fo_quantity
        price = _unit_price(line.get("originalUnitPriceSet"))
        if len(by_location) <= 1:
            location = next(iter(by_location), None)
            lines.append(OrderLineEvent(line_id, sku, quantity, location, price))
            continue
        # Shopify split this line across fulfillment orders at several locations: one line per location.
        for location, fo_quantity in by_location.items():
            lines.append(OrderLineEvent(f"{line_id}@{location}", sku, fo_quantity, location, price))
    return lines, messages


def map_refund(node: Mapping[str, Any], order_id: str) -> MapResult[RefundEvent]:
    """A GraphQL ``Refund`` node (``refundLineItems{nodes{lineItem{id sku} quantity restockType location{id}}}``)
    → :class:`RefundEvent`."""
    refund_id, created = node.get("id"), parse_time(node.get("createdAt"))
    if not isinstance(refund_id, str) or not refund_id:
        return skip("refund has no id", field_path="id", record_id=order_id)
    if created is None:
        return skip("refund has no valid createdAt", field_path="createdAt", record_id=refund_id)
    lines: list[RefundLineEvent] = []
    messages: list[MapMessage] = []
    # A refund of a return covers units of that return only: they come back through its dispositions (a
    # ReturnEvent), never through the refund, whatever restockType Shopify reports.
    of_return = isinstance(node.get("return"), Mapping)
    for index, item in enumerate(_nodes(node.get("refundLineItems"))):
        line = item.get("lineItem")
        kind = restock_type(item.get("restockType"))
        quantity = item.get("quantity")
        if (
            not isinstance(line, Mapping)
            or not isinstance(line.get("id"), str)
            or kind is None
            or not isinstance(quantity, int)
        ):
            messages.append(
                warning(
                    "refund line without line item, quantity or known restock type",
                    field_path=f"refundLineItems.{index}",
                    record_id=refund_id,
                )
            )
            continue
        sku = line.get("sku") if isinstance(line.get("sku"), str) and line.get("sku") else None
        kind = RestockType.NO_RESTOCK if of_return else kind
        lines.append(RefundLineEvent(str(line["id"]), sku, quantity, kind, _location_id(item)))
    if _truncated(node.get("refundLineItems")):
        return skip("refund has more lines than one page holds", field_path="refundLineItems", record_id=refund_id)
    return MapResult(RefundEvent(refund_id, order_id, created, tuple(lines)), messages)


FULFILLED = "SUCCESS"
"""The ``FulfillmentStatus`` of a fulfillment that shipped (REST ``"success"``); the others (``CANCELLED``,
``PENDING``, ``OPEN``, ``ERROR``, ``FAILURE``) moved nothing."""


def fulfilment_line_ref(line_id: str, location: str | None, split: frozenset[str]) -> str | None:
    """The ``line_ref`` of a fulfilled line: the line gid, or ``"<line gid>@<location gid>"`` for a line split over
    several locations (as its :class:`OrderLineEvent`); ``None`` for a split line shipped from an unknown place."""
    if line_id not in split:
        return line_id
    return f"{line_id}@{location}" if location is not None else None


def map_fulfillment(
    node: Mapping[str, Any], order_id: str, split: frozenset[str] = frozenset()
) -> MapResult[FulfilmentEvent]:
    """A GraphQL ``Fulfillment`` node (``id status createdAt location{id} trackingInfo{number company}
    fulfillmentLineItems{nodes{quantity lineItem{id sku}}}``) of order ``order_id`` → :class:`FulfilmentEvent`.

    Only a ``SUCCESS`` fulfillment shipped anything: any other status is skipped. ``split`` holds the line gids
    Shopify split across locations (:func:`split_lines`), whose refs carry the location. A fulfillment whose lines
    do not fit one page is skipped with the reason rather than reported short.
    """
    fulfillment_id = node.get("id")
    if not isinstance(fulfillment_id, str) or not fulfillment_id:
        return skip("fulfillment has no id", field_path="id", record_id=order_id)
    status = node.get("status")
    if status != FULFILLED:
        return skip(f"fulfillment status {status} is not a shipment", field_path="status", record_id=fulfillment_id)
    created = parse_time(node.get("createdAt"))
    if created is None:
        return skip("fulfillment has no valid createdAt", field_path="createdAt", record_id=fulfillment_id)
    if _truncated(node.get("fulfillmentLineItems")):
        return skip(
            "fulfillment has more lines than one page holds",
            field_path="fulfillmentLineItems",
            record_id=fulfillment_id,
        )
    location = _location_id(node)
    lines: list[FulfilmentLineEvent] = []
    messages: list[MapMessage] = []
    for index, item in enumerate(_nodes(node.get("fulfillmentLineItems"))):
        line = item.get("lineItem")
        if not isinstance(line, Mapping):
            line = {}
        line_id, quantity = line.get("id"), item.get("quantity")
        ref = fulfilment_line_ref(line_id, location, split) if isinstance(line_id, str) and line_id else None
        if ref is None or not isinstance(quantity, int):
            messages.append(
                warning(
                    "fulfillment line without line item, quantity or (for a split line) location",
                    field_path=f"fulfillmentLineItems.nodes.{index}",
                    record_id=fulfillment_id,
                )
            )
            continue
        sku = line.get("sku") if isinstance(line.get("sku"), str) and line.get("sku") else None
        lines.append(FulfilmentLineEvent(ref, sku, quantity))
    if not lines:
        reason = skip("fulfillment has no usable lines", field_path="fulfillmentLineItems", record_id=fulfillment_id)
        return MapResult(None, [*messages, *reason.messages])
    number, carrier = _tracking(node.get("trackingInfo"))
    event = FulfilmentEvent(fulfillment_id, order_id, created, tuple(lines), location, number, carrier)
    return MapResult(event, messages)


def _tracking(info: object) -> tuple[str | None, str | None]:
    """The first tracking number and company of ``trackingInfo`` (a list; Shopify allows several numbers)."""
    for entry in info if isinstance(info, list) else []:
        if isinstance(entry, Mapping):
            number, company = entry.get("number"), entry.get("company")
            return (
                number if isinstance(number, str) and number else None,
                company if isinstance(company, str) and company else None,
            )
    return None, None


def map_shipping_address(raw: object) -> ShipTo | None:
    """An order's ``shippingAddress`` (``MailingAddress``) → :class:`ShipTo`; None without one or its country."""
    if not isinstance(raw, Mapping):
        return None

    def text(key: str) -> str | None:
        value = raw.get(key)
        return value.strip() or None if isinstance(value, str) else None

    country = text("countryCodeV2")
    if country is None:
        return None
    return ShipTo(
        country=country,
        name=text("name"),
        line1=text("address1"),
        line2=text("address2"),
        city=text("city"),
        region=text("provinceCode"),
        postal_code=text("zip"),
        phone=text("phone"),
        **_coordinates(raw),
    )


def _coordinates(raw: Mapping[str, Any]) -> dict[str, float]:
    """Shopify's geocoded ``latitude``/``longitude`` of the address, both or neither."""
    lat, lon = raw.get("latitude"), raw.get("longitude")
    numbers = (int, float)
    if all(isinstance(v, numbers) and not isinstance(v, bool) for v in (lat, lon)):
        return {"latitude": float(lat), "longitude": float(lon)}  # type: ignore[arg-type]
    return {}


# FulfillmentOrderStatus of a PICK_UP fulfillment order -> where the pickup stands. Shopify has no "prepared"
# status: a prepared fulfillment order shows IN_PROGRESS (as one partly fulfilled would).
_PICKUP_STATES = {
    "IN_PROGRESS": PickupState.READY,
    "CLOSED": PickupState.COLLECTED,
    "CANCELLED": PickupState.CANCELLED,
    "INCOMPLETE": PickupState.CANCELLED,
}


def map_pickup(node: Mapping[str, Any]) -> PickupDetails | None:
    """The order's local pickup (its first fulfillment order with ``deliveryMethod.methodType`` ``PICK_UP``, at its
    assigned location), or None when it ships. Shopify has no pickup windows: ``pickup_at`` stays None."""
    for fulfillment_order in _nodes(node.get("fulfillmentOrders")):
        method = fulfillment_order.get("deliveryMethod")
        if isinstance(method, Mapping) and method.get("methodType") == "PICK_UP":
            state = _PICKUP_STATES.get(str(fulfillment_order.get("status")), PickupState.RESERVED)
            return PickupDetails(location_ref=_location_id(fulfillment_order.get("assignedLocation")), state=state)
    return None


def map_order(node: Mapping[str, Any]) -> MapResult[list[ChannelEvent]]:
    """An ``Order`` node (the fields of :data:`~connectors.shopify.queries.ORDER_QUERY`) → its events, in this order:

    a PLACED :class:`OrderEvent` at ``createdAt`` (each line's ``location_ref`` from the assigned location of
    its fulfillment order; a line split over several locations becomes one line per location with ``line_ref``
    ``"<line gid>@<location gid>"``); one :class:`FulfilmentEvent` per ``SUCCESS`` fulfillment, oldest first
    (see :func:`map_fulfillment`; cancelled, pending or failed ones are left out silently); a CANCELLED
    :class:`OrderEvent` at ``cancelledAt`` when cancelled (after the shipments, so it releases only what did not
    ship); one :class:`RefundEvent` per refund. An order without id or times is skipped with the reason.
    """
    order_id = node.get("id")
    if not isinstance(order_id, str) or not order_id:
        return skip("order has no id", field_path="id")
    created = parse_time(node.get("createdAt"))
    if created is None:
        return skip("order has no valid createdAt", field_path="createdAt", record_id=order_id)
    if _truncated(node.get("lineItems")):
        return skip("order has more line items than one page holds", field_path="lineItems", record_id=order_id)
    lines, messages = _order_lines(node, order_id)
    money = node.get("totalPriceSet")
    shop_money = money.get("shopMoney") if isinstance(money, Mapping) else None
    total = shop_money.get("amount") if isinstance(shop_money, Mapping) else None
    currency = node.get("currencyCode")
    common: dict[str, Any] = {
        "name": str(node.get("name") or ""),
        "currency": currency if isinstance(currency, str) else None,
        "total": str(total) if total is not None else None,
        "ship_to": map_shipping_address(node.get("shippingAddress")),
        "pickup": map_pickup(node),
    }
    events: list[ChannelEvent] = [
        OrderEvent(order_id, OrderEventKind.PLACED, created, tuple(lines), status="open", **common)
    ]
    cancelled = parse_time(node.get("cancelledAt"))
    if cancelled is None and node.get("cancelledAt") is not None:
        return skip("order has an invalid cancelledAt", field_path="cancelledAt", record_id=order_id)
    split = split_lines(node)
    shipped: list[FulfilmentEvent] = []
    for index, fulfillment in enumerate(_fulfillments(node)):
        if fulfillment.get("status") != FULFILLED:
            continue
        shipment = map_fulfillment(fulfillment, order_id, split)
        messages.extend(
            MapMessage(m.level, f"fulfillments.{index}.{m.field_path}".rstrip("."), m.message, m.record_id)
            for m in shipment.messages
        )
        if shipment.value is not None:
            shipped.append(shipment.value)
    shipped.sort(key=lambda shipment: shipment.occurred_at)
    events.extend(shipped)
    if cancelled is not None:
        events.append(
            OrderEvent(order_id, OrderEventKind.CANCELLED, cancelled, tuple(lines), status="cancelled", **common)
        )
    refunds = node.get("refunds")
    for index, refund in enumerate(refunds if isinstance(refunds, list) else []):
        if not isinstance(refund, Mapping):
            continue
        result = map_refund(refund, order_id)
        messages.extend(
            MapMessage(m.level, f"refunds.{index}.{m.field_path}".rstrip("."), m.message, m.record_id)
            for m in result.messages
        )
        if result.value is not None:
            events.append(result.value)
    return MapResult(events, messages)
