"""Pure mapping between Square Connect v2 payloads and the channel contract. No I/O here.

Square refers to stock and order lines by the ``catalog_object_id`` of a ``CatalogItemVariation``, never by
SKU; every function here takes the id → SKU table the client resolved beforehand (``sku_by_id``). Quantities
are decimal strings ("53", "2.00000"); omnibridge counts whole units, so a fractional quantity skips its record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.square import fulfillments, pickups
from omnibridge.sdk import MapResult, ok, skip, warning
from omnibridge.sdk.channel import (
    ChannelLocation,
    CustomerRef,
    OrderEvent,
    OrderEventKind,
    OrderLineEvent,
    StockChangeEvent,
    StockChangeKind,
    StockLevel,
    StockObservedEvent,
    StockTarget,
)

OWN_REFERENCE_PREFIX = "omnibridge:"
"""``reference_id`` prefix of every change omnibridge writes; changes carrying it are never reported back."""
MAX_REFERENCE_ID = 255
IN_STOCK = "IN_STOCK"
ORDER_STATES = ("OPEN", "COMPLETED", "CANCELED")
_ORDER_KINDS = {
    "OPEN": OrderEventKind.PLACED,
    "COMPLETED": OrderEventKind.COMPLETED,
    "CANCELED": OrderEventKind.CANCELLED,
    "DRAFT": OrderEventKind.UPDATED,
}
# Adjustments between IN_STOCK and these states are driven by orders (POS sale, online reservation, its
# completion or cancellation); the orders feed reports them, so reporting the adjustment too would count twice.
ORDER_DRIVEN_STATES = frozenset({"SOLD", "SOLD_ONLINE", "RESERVED_FOR_SALE"})
# Stock arriving from outside the shop: reported as RECEIPT rather than a positive ADJUSTMENT.
RECEIPT_FROM_STATES = frozenset({"NONE", "RECEIVED_FROM_VENDOR"})


def parse_quantity(raw: Any) -> int | None:
    """A Square decimal-string quantity as a whole number, or ``None`` if missing, malformed or fractional."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or value != value.to_integral_value():
        return None
    return int(value)


def parse_time(raw: Any) -> datetime | None:
    """An RFC 3339 timestamp as an aware datetime (``None`` if missing or malformed; naive taken as UTC)."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def format_time(value: datetime) -> str:
    """An aware datetime as the RFC 3339 UTC string Square accepts (millisecond precision, ``Z``)."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def own_reference(reference: str) -> str:
    """The ``reference_id`` attached to a write of ours (Square allows 255 characters)."""
    return (OWN_REFERENCE_PREFIX + reference)[:MAX_REFERENCE_ID]


# --- request bodies -------------------------------------------------------------------------------------------


def catalog_search_body(skus: Sequence[str], cursor: str | None = None) -> dict[str, Any]:
    """``POST /v2/catalog/search`` for the item variations with any of ``skus`` (≤250 per ``set_query``)."""
    body: dict[str, Any] = {
        "object_types": ["ITEM_VARIATION"],
        "query": {"set_query": {"attribute_name": "sku", "attribute_values": list(skus)}},
        "limit": 1000,
    }
    if cursor:
        body["cursor"] = cursor
    return body


def counts_body(
    variation_ids: Sequence[str], location_ids: Sequence[str] | None, cursor: str | None = None
) -> dict[str, Any]:
    """``POST /v2/inventory/counts/batch-retrieve`` for the IN_STOCK counts of ``variation_ids``."""
    body: dict[str, Any] = {"catalog_object_ids": list(variation_ids), "states": [IN_STOCK], "limit": 1000}
    if location_ids:
        body["location_ids"] = list(location_ids)
    if cursor:
        body["cursor"] = cursor
    return body


def physical_count_change(
    target: StockTarget, variation_id: str, *, occurred_at: datetime, reference_id: str
) -> dict[str, Any]:
    """One ``InventoryChange`` setting the absolute IN_STOCK count of ``target`` (Square's "set")."""
    return {
        "type": "PHYSICAL_COUNT",
        "physical_count": {
            "reference_id": reference_id,
            "catalog_object_id": variation_id,
            "state": IN_STOCK,
            "location_id": target.location_ref,
            "quantity": str(target.quantity),
            "occurred_at": format_time(occurred_at),
        },
    }


def batch_change_body(changes: Sequence[Mapping[str, Any]], idempotency_key: str) -> dict[str, Any]:
    """``POST /v2/inventory/changes/batch-create`` (≤100 changes; the key is required and 1-128 chars).

    ``ignore_unchanged_counts`` is false: by default Square drops a count equal to the current count, but our
    counts are backdated to the level they were planned from, and a sale made since may have brought the current
    count to the very number written. Dropped, that count would leave the sale counted twice by the engine (it
    expects the sale to apply on top of the count) and once by Square: one unit too many on show.
    """
    return {
        "idempotency_key": idempotency_key,
        "ignore_unchanged_counts": False,
        "changes": [dict(change) for change in changes],
    }


def orders_search_body(location_ids: Sequence[str], start_at: datetime, cursor: str | None = None) -> dict[str, Any]:
    """``POST /v2/orders/search``: orders of ≤10 locations updated at or after ``start_at``, oldest first.

    Square requires the sort field to be the date filter's field, hence ``UPDATED_AT`` for both.
    """
    body: dict[str, Any] = {
        "location_ids": list(location_ids),
        "limit": 500,
        "return_entries": False,
        "query": {
            "filter": {
                "state_filter": {"states": list(ORDER_STATES)},
                "date_time_filter": {"updated_at": {"start_at": format_time(start_at)}},
            },
            "sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"},
        },
    }
    if cursor:
        body["cursor"] = cursor
    return body


def changes_body(
    updated_after: datetime, location_ids: Sequence[str] | None, cursor: str | None = None
) -> dict[str, Any]:
    """``POST /v2/inventory/changes/batch-retrieve``: physical counts and adjustments after ``updated_after``."""
    body: dict[str, Any] = {
        "types": ["PHYSICAL_COUNT", "ADJUSTMENT"],
        "updated_after": format_time(updated_after),
        "limit": 1000,
    }
    if location_ids:
        body["location_ids"] = list(location_ids)
    if cursor:
        body["cursor"] = cursor
    return body


# --- responses ------------------------------------------------------------------------------------------------


def map_location(raw: Any) -> MapResult[ChannelLocation]:
    """A ``Location`` to a :class:`ChannelLocation`; ``active`` is ``status == "ACTIVE"``."""
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
        return skip("location without an id")
    name = raw.get("name")
    return ok(ChannelLocation(raw["id"], name if isinstance(name, str) else raw["id"], raw.get("status") == "ACTIVE"))


def variation_skus(objects: Iterable[Any], *, include_deleted: bool = False) -> list[tuple[str, str]]:
    """``(variation id, sku)`` of every ``ITEM_VARIATION`` with a SKU among catalog ``objects``.

    Deleted variations are left out unless ``include_deleted`` (an old order or change still names them).
    """
    pairs: list[tuple[str, str]] = []
    for obj in objects:
        if not isinstance(obj, dict) or obj.get("type") != "ITEM_VARIATION":
            continue
        if obj.get("is_deleted") is True and not include_deleted:
            continue
        data = obj.get("item_variation_data")
        sku = data.get("sku") if isinstance(data, dict) else None
        if isinstance(obj.get("id"), str) and isinstance(sku, str) and sku:
            pairs.append((obj["id"], sku))
    return pairs


def map_count(raw: Any, sku_by_id: Mapping[str, str], observed_at: datetime) -> MapResult[StockLevel]:
    """An IN_STOCK ``InventoryCount`` to a :class:`StockLevel` (``observed_at``: when it was read)."""
    if not isinstance(raw, dict):
        return skip("count is not an object")
    variation_id = raw.get("catalog_object_id")
    location = raw.get("location_id")
    if not isinstance(variation_id, str) or not isinstance(location, str):
        return skip("count without catalog_object_id or location_id")
    sku = sku_by_id.get(variation_id)
    if sku is None:
        return skip(f"no SKU known for variation {variation_id}", field_path="catalog_object_id")
    if raw.get("state") != IN_STOCK:
        return skip(f"count in state {raw.get('state')!r}, not IN_STOCK", field_path="state", record_id=sku)
    quantity = parse_quantity(raw.get("quantity"))
    if quantity is None:
        return skip(
            f"quantity {raw.get('quantity')!r} at {location} is not a whole number",
            field_path="quantity",
            record_id=sku,
        )
    return ok(StockLevel(sku, location, quantity, observed_at))


def map_observed_count(raw: Any, sku_by_id: Mapping[str, str], received_at: datetime) -> MapResult[StockObservedEvent]:
    """One count of an ``inventory.count.updated`` notification to a :class:`StockObservedEvent`.

    The event only asks the engine to re-read, so a variation with no known SKU or a fractional quantity still
    yields an event (``sku``/``available`` ``None``, with a warning); only a non-IN_STOCK count is skipped.
    """
    if not isinstance(raw, dict) or not isinstance(raw.get("location_id"), str):
        return skip("count without location_id")
    if raw.get("state") != IN_STOCK:
        return skip(f"count in state {raw.get('state')!r}, not IN_STOCK", field_path="state")
    variation_id = raw.get("catalog_object_id")
    item_ref = variation_id if isinstance(variation_id, str) else None
    sku = sku_by_id.get(item_ref) if item_ref else None
    notes = []
    if sku is None:
        notes.append(warning(f"no SKU known for variation {item_ref}", field_path="catalog_object_id"))
    available = parse_quantity(raw.get("quantity"))
    if available is None:
        notes.append(warning(f"quantity {raw.get('quantity')!r} is not a whole number", field_path="quantity"))
    observed_at = parse_time(raw.get("calculated_at")) or received_at
    return ok(StockObservedEvent(sku, raw["location_id"], available, observed_at, item_ref), *notes)


def _money(raw: Any) -> tuple[str | None, str | None]:
    if isinstance(raw, dict) and isinstance(raw.get("amount"), int):
        currency = raw.get("currency")
        return str(raw["amount"]), currency if isinstance(currency, str) else None
    return None, None


def map_order(raw: Any, sku_by_id: Mapping[str, str]) -> MapResult[OrderEvent]:
    """An ``Order`` to an :class:`OrderEvent`: OPEN → PLACED (an online order with a SHIPMENT or DELIVERY
    fulfillment: committed at its location), but OPEN with every live fulfillment COMPLETED → COMPLETED;
    COMPLETED → COMPLETED, CANCELED → CANCELLED, DRAFT → UPDATED. ``ship_to`` is the fulfillment recipient
    (:func:`connectors.square.fulfillments.ship_to`); ``pickup`` the PICKUP fulfillment's window, store and state
    (:func:`connectors.square.pickups.pickup_details`). Each line: ``line_ref`` = line ``uid``, SKU from
    ``catalog_object_id`` (``None`` for custom amounts or unknown variations, with a warning), ``location_ref`` =
    the order's ``location_id``. ``customer`` is the order's ``customer_id`` (see :func:`_customer`). Money is in
    minor units as Square sends it (``total`` "1050" with currency "USD"
    is $10.50)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        return skip("order without an id")
    order_id: str = raw["id"]
    kind = _ORDER_KINDS.get(str(raw.get("state")))
    if kind is None:
        return skip(f"unknown order state {raw.get('state')!r}", field_path="state", record_id=order_id)
    if kind is OrderEventKind.PLACED and fulfillments.all_completed(raw):
        kind = OrderEventKind.COMPLETED
    occurred_at = parse_time(raw.get("updated_at")) or parse_time(raw.get("created_at"))
    if occurred_at is None:
        return skip("order without updated_at", field_path="updated_at", record_id=order_id)
    location = raw.get("location_id") if isinstance(raw.get("location_id"), str) else None
    lines: list[OrderLineEvent] = []
    ship_to, notes = fulfillments.ship_to(raw)
    for index, line in enumerate(raw.get("line_items") or []):
        path = f"line_items.{index}"
        if not isinstance(line, dict) or not isinstance(line.get("uid"), str):
            return skip("line item without uid", field_path=path, record_id=order_id)
        quantity = parse_quantity(line.get("quantity"))
        if quantity is None:
            return skip(
                f"line {line['uid']} quantity {line.get('quantity')!r} is not a whole number",
                field_path=f"{path}.quantity",
                record_id=order_id,
            )
        variation_id = line.get("catalog_object_id")
        sku = sku_by_id.get(variation_id) if isinstance(variation_id, str) else None
        if isinstance(variation_id, str) and sku is None:
            notes.append(
                warning(
                    f"no SKU known for variation {variation_id}",
                    field_path=f"{path}.catalog_object_id",
                    record_id=order_id,
                )
            )
        unit_price, _ = _money(line.get("base_price_money"))
        lines.append(OrderLineEvent(line["uid"], sku, quantity, location, unit_price))
    total, currency = _money(raw.get("total_money"))
    name = raw.get("ticket_name") or raw.get("reference_id") or ""
    return ok(
        OrderEvent(
            ref=order_id,
            kind=kind,
            occurred_at=occurred_at,
            lines=tuple(lines),
            name=name if isinstance(name, str) else "",
            currency=currency,
            total=total,
            status=str(raw.get("state")),
            ship_to=ship_to,
            customer=_customer(raw),
            pickup=pickups.pickup_details(raw),
        ),
        *notes,
    )


def _customer(raw: Mapping[str, Any]) -> CustomerRef | None:
    """The order's ``customer_id`` (None for a counter sale without a customer profile), with the email and phone
    of the fulfillment recipient when the recipient is that customer."""
    customer_id = raw.get("customer_id")
    if not isinstance(customer_id, str) or not customer_id:
        return None
    for fulfillment in raw.get("fulfillments") or []:
        details = (fulfillment or {}).get("shipment_details") or (fulfillment or {}).get("delivery_details") or {}
        recipient = details.get("recipient") if isinstance(details, Mapping) else None
        if isinstance(recipient, Mapping) and recipient.get("customer_id") == customer_id:
            email, phone = recipient.get("email_address"), recipient.get("phone_number")
            return CustomerRef(
                customer_id,
                email=email if isinstance(email, str) and email else None,
                phone=phone if isinstance(phone, str) and phone else None,
            )
    return CustomerRef(customer_id)


def change_detail(raw: Any) -> tuple[str, dict[str, Any]] | None:
    """``(type, physical_count or adjustment)`` of an ``InventoryChange``; ``None`` for other types."""
    if not isinstance(raw, dict):
        return None
    kind = raw.get("type")
    detail = raw.get("physical_count") if kind == "PHYSICAL_COUNT" else raw.get("adjustment")
    if kind in ("PHYSICAL_COUNT", "ADJUSTMENT") and isinstance(detail, dict):
        return str(kind), detail
    return None


def is_ignored_change(raw: Any) -> bool:
    """True for a change the channel must not report: not a count or adjustment, written by omnibridge (no
    echo), a count of a state other than IN_STOCK, or an adjustment that does not touch IN_STOCK or that an
    order drives (IN_STOCK ↔ SOLD, SOLD_ONLINE, RESERVED_FOR_SALE: the orders feed reports those)."""
    parsed = change_detail(raw)
    if parsed is None:
        return True
    kind, detail = parsed
    reference = detail.get("reference_id")
    if isinstance(reference, str) and reference.startswith(OWN_REFERENCE_PREFIX):
        return True
    if kind == "PHYSICAL_COUNT":
        return detail.get("state") != IN_STOCK
    from_state, to_state = detail.get("from_state"), detail.get("to_state")
    if (from_state == IN_STOCK) == (to_state == IN_STOCK):
        return True
    other = to_state if from_state == IN_STOCK else from_state
    return other in ORDER_DRIVEN_STATES


def map_inventory_change(raw: Any, sku_by_id: Mapping[str, str]) -> MapResult[StockChangeEvent] | None:
    """An ``InventoryChange`` to a :class:`StockChangeEvent`, or ``None`` when :func:`is_ignored_change`.

    PHYSICAL_COUNT (IN_STOCK) → COUNT with the absolute quantity. ADJUSTMENT NONE/RECEIVED_FROM_VENDOR →
    IN_STOCK → RECEIPT; IN_STOCK → anything else (WASTE, ...) → ADJUSTMENT with a negative quantity; anything
    else → IN_STOCK → ADJUSTMENT positive. ``ref`` is Square's change id; ``occurred_at`` its ``occurred_at``.
    """
    parsed = change_detail(raw)
    if parsed is None or is_ignored_change(raw):
        return None
    kind, detail = parsed
    change_id = detail.get("id")
    if not isinstance(change_id, str) or not change_id:
        return skip("inventory change without id")
    variation_id = detail.get("catalog_object_id")
    location = detail.get("location_id")
    if not isinstance(variation_id, str) or not isinstance(location, str):
        return skip("change without catalog_object_id or location_id", record_id=change_id)
    sku = sku_by_id.get(variation_id)
    if sku is None:
        return skip(f"no SKU known for variation {variation_id}", field_path="catalog_object_id", record_id=change_id)
    quantity = parse_quantity(detail.get("quantity"))
    if quantity is None:
        return skip(
            f"quantity {detail.get('quantity')!r} is not a whole number", field_path="quantity", record_id=change_id
        )
    occurred_at = parse_time(detail.get("occurred_at")) or parse_time(detail.get("created_at"))
    if occurred_at is None:
        return skip("change without occurred_at", field_path="occurred_at", record_id=change_id)
    if kind == "PHYSICAL_COUNT":
        event_kind = StockChangeKind.COUNT
    elif detail.get("from_state") == IN_STOCK:
        event_kind, quantity = StockChangeKind.ADJUSTMENT, -quantity
    elif detail.get("from_state") in RECEIPT_FROM_STATES:
        event_kind = StockChangeKind.RECEIPT
    else:
        event_kind = StockChangeKind.ADJUSTMENT
    return ok(StockChangeEvent(change_id, event_kind, sku, location, quantity, occurred_at))


def change_created_at(raw: Any) -> datetime | None:
    """When Square recorded a change (its ``created_at``, else ``occurred_at``): the poll high-water mark."""
    parsed = change_detail(raw)
    if parsed is None:
        return None
    return parse_time(parsed[1].get("created_at")) or parse_time(parsed[1].get("occurred_at"))


def change_variation_id(raw: Any) -> str | None:
    """The ``catalog_object_id`` a change is about, if any."""
    parsed = change_detail(raw)
    value = parsed[1].get("catalog_object_id") if parsed else None
    return value if isinstance(value, str) else None


def order_variation_ids(raw: Any) -> list[str]:
    """The ``catalog_object_id`` of every line of an order."""
    if not isinstance(raw, dict):
        return []
    return [
        line["catalog_object_id"]
        for line in raw.get("line_items") or []
        if isinstance(line, dict) and isinstance(line.get("catalog_object_id"), str)
    ]


# --- errors ---------------------------------------------------------------------------------------------------

_CHANGE_INDEX = re.compile(r"^changes\[(\d+)\]")


def square_errors(body: Any) -> list[dict[str, Any]]:
    """The ``errors`` array of a Square response body (``[]`` when there is none)."""
    errors = body.get("errors") if isinstance(body, dict) else None
    return [error for error in errors if isinstance(error, dict)] if isinstance(errors, list) else []


def describe_errors(errors: Sequence[Mapping[str, Any]]) -> str:
    """Square errors as one line: ``CODE (field): detail; ...``."""
    parts = []
    for error in errors:
        field = f" ({error['field']})" if error.get("field") else ""
        detail = f": {error['detail']}" if error.get("detail") else ""
        parts.append(f"{error.get('code', 'UNKNOWN')}{field}{detail}")
    return "; ".join(parts) or "no error detail"


def change_index(error: Mapping[str, Any]) -> int | None:
    """The index of the change a batch-create error names in its ``field`` (``changes[3].physical_count...``)."""
    field = error.get("field")
    match = _CHANGE_INDEX.match(field) if isinstance(field, str) else None
    return int(match.group(1)) if match else None
