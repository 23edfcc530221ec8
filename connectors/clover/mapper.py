"""Pure mapping between Clover REST v3 payloads and the channel contract. No I/O here.

Clover quirks this module absorbs:

* Clover has **one inventory per merchant**: every level, order line and refund is at the location whose
  ``external_id`` is the merchant id.
* An item's SKU is its ``sku`` field; merchants who never filled it often keep the SKU in ``code`` (the
  barcode/product code), which is used as a fallback.
* ``itemStock.quantity`` is a float (Clover allows fractions for weighed goods and negative stock). omnibridge
  counts whole sellable units, so a level is **rounded down** (``floor``): 4.7 kg of cheese is 4 sellable units,
  and -0.5 is -1. Rounding down never shows a buyer a unit that is not there.
* An order line item is one unit unless it is priced by unit, in which case ``unitQty`` holds thousandths
  (1000 = 1 unit); a line whose quantity is not a whole number of units is left out with a warning. Several
  units of one item are several line items; :func:`map_order` groups them into one line.
* Times are Unix milliseconds; prices are integers in the minor unit of the merchant's currency (cents).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from omnibridge.sdk import MapMessage, MapResult, ok, skip, warning
from omnibridge.sdk.channel import (
    ChannelLocation,
    OrderEvent,
    OrderEventKind,
    OrderLineEvent,
    RefundEvent,
    RefundLineEvent,
    RestockType,
    StockLevel,
    StockObservedEvent,
)

# Orders whose stock has left the shop: paid (in full or later refunded) or locked by a payment on a device.
COMPLETED_PAYMENT_STATES = frozenset({"PAID", "PARTIALLY_REFUNDED", "REFUNDED"})
LOCKED_STATE = "locked"
UNIT_QTY_SCALE = 1000


def ms_to_datetime(raw: Any) -> datetime | None:
    """A Clover Unix-milliseconds timestamp as an aware UTC datetime (``None`` if missing or not a number)."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    try:
        return datetime.fromtimestamp(raw / 1000.0, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def datetime_to_ms(value: datetime) -> int:
    """An aware datetime as Clover's Unix milliseconds."""
    return int(value.timestamp() * 1000)


def sellable_units(quantity: float) -> int:
    """Whole sellable units of a Clover stock quantity: rounded down (see module doc)."""
    return math.floor(quantity)


def item_sku(raw: Mapping[str, Any]) -> str | None:
    """The SKU of an item: ``sku``, else ``code`` (``None`` when neither is a non-blank string)."""
    for name in ("sku", "code"):
        value = raw.get(name)
        if isinstance(value, str) and value.strip():
            return value
    return None


def stock_quantity(raw: Mapping[str, Any]) -> float | None:
    """``itemStock.quantity`` of an item expanded with ``itemStock`` (or of an ``item_stocks`` body).

    Falls back to the deprecated ``stockCount``; ``None`` when the item has no stock record (Clover leaves
    ``itemStock`` out for items whose stock was never set)."""
    stock = raw.get("itemStock") if "itemStock" in raw else raw
    if not isinstance(stock, Mapping):
        return None
    for name in ("quantity", "stockCount"):
        value = stock.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    return None


def elements(raw: Any) -> list[Any]:
    """The list inside Clover's collection wrapper ``{"elements": [...]}`` (a bare list is accepted too)."""
    if isinstance(raw, Mapping):
        raw = raw.get("elements")
    return list(raw) if isinstance(raw, list) else []


def ref_id(raw: Any) -> str | None:
    """The ``id`` of a Clover reference object (``{"id": "..."}``)."""
    value = raw.get("id") if isinstance(raw, Mapping) else None
    return value if isinstance(value, str) and value else None


def clover_message(body: Any) -> str:
    """The error detail of a Clover error body (``{"message": ...}``), or ``""``."""
    if isinstance(body, Mapping):
        for name in ("message", "details", "error"):
            value = body.get(name)
            if isinstance(value, str) and value:
                return value
    return ""


# --- responses ------------------------------------------------------------------------------------------------


def map_merchant(raw: Any, merchant_id: str) -> ChannelLocation:
    """The merchant as the channel's single location (``external_id`` = merchant id)."""
    name = raw.get("name") if isinstance(raw, Mapping) else None
    return ChannelLocation(merchant_id, name if isinstance(name, str) and name else merchant_id, True)


def map_item_level(raw: Any, location: str, observed_at: datetime) -> MapResult[StockLevel]:
    """An item expanded with ``itemStock`` to a :class:`StockLevel` (units rounded down).

    An item without a stock record shows 0 (Clover sells it without tracking; omnibridge shows nothing)."""
    if not isinstance(raw, Mapping) or ref_id(raw) is None:
        return skip("item without an id")
    sku = item_sku(raw)
    if sku is None:
        return skip("item has neither sku nor code", field_path="sku", record_id=ref_id(raw))
    quantity = stock_quantity(raw)
    notes: list[MapMessage] = []
    if quantity is None:
        notes.append(warning("item has no itemStock; shown as 0", field_path="itemStock", record_id=sku))
        quantity = 0.0
    return ok(StockLevel(sku, location, sellable_units(quantity), observed_at), *notes)


def map_observed_item(raw: Any, location: str, observed_at: datetime) -> MapResult[StockObservedEvent]:
    """An item (fetched for an ``I:`` notification) to a :class:`StockObservedEvent`: a hint to re-read."""
    if not isinstance(raw, Mapping) or ref_id(raw) is None:
        return skip("item without an id")
    quantity = stock_quantity(raw)
    return ok(
        StockObservedEvent(
            item_sku(raw), location, None if quantity is None else sellable_units(quantity), observed_at, ref_id(raw)
        )
    )


def is_completed(raw: Any) -> bool:
    """True for an order whose stock has left the shop (paid, refunded after payment, or locked)."""
    if not isinstance(raw, Mapping):
        return False
    return raw.get("paymentState") in COMPLETED_PAYMENT_STATES or raw.get("state") == LOCKED_STATE


def order_item_ids(raw: Any) -> list[str]:
    """The ``item.id`` of every line of an order expanded with ``lineItems``."""
    if not isinstance(raw, Mapping):
        return []
    return [
        i
        for line in elements(raw.get("lineItems"))
        if (i := ref_id(line.get("item") if isinstance(line, Mapping) else None))
    ]


def _line_quantity(line: Mapping[str, Any]) -> int | None:
    unit_qty = line.get("unitQty")
    if unit_qty is None:
        return 1
    if isinstance(unit_qty, bool) or not isinstance(unit_qty, int) or unit_qty % UNIT_QTY_SCALE:
        return None
    return unit_qty // UNIT_QTY_SCALE


@dataclass(frozen=True, slots=True)
class _Unit:
    line_id: str
    group: tuple[str, ...]
    sku: str | None
    quantity: int
    unit_price: str | None
    refunded: bool


def map_order(
    raw: Any, location: str, sku_by_item: Mapping[str, str], *, restock_refunds: bool = False
) -> MapResult[tuple[OrderEvent, list[RefundEvent]]]:
    """A completed order (see :func:`is_completed`) to a COMPLETED :class:`OrderEvent` and its refunds.

    Clover has no line quantity: ringing up 3 of an item makes 3 line items. Line items of the same item are
    grouped into one :class:`OrderLineEvent` whose quantity is their count and whose ``line_ref`` (and
    ``unit_price``) is that of the smallest of their line item ids — stable however Clover orders the elements
    and whatever discounts change a unit's price later, so a group never splits into a second sale; custom
    lines and lines priced by unit stay on their own (``line_ref`` = line item id). SKUs come through
    ``sku_by_item`` (``None`` with a warning for custom lines and unknown items).

    A line item flagged ``refunded`` stays in the order (it was sold) and also becomes a :class:`RefundEvent` with
    ``ref`` ``<order id>:<line item id>`` against its group's ``line_ref`` — stable, so each refunded unit is
    applied once however often the order is fetched — restocked as ``return`` when ``restock_refunds`` (the
    merchant's refunds put items back), else ``no_restock``. A line removed from an order is simply absent:
    Clover refunds, not deletes, lines of paid orders. Money is in cents as Clover sends it (``total`` "1050" in
    "USD" is $10.50).
    """
    if not isinstance(raw, Mapping) or ref_id(raw) is None:
        return skip("order without an id")
    order_id = str(raw["id"])
    if not is_completed(raw):
        return skip(
            f"order is not paid (paymentState {raw.get('paymentState')!r}, state {raw.get('state')!r})",
            field_path="paymentState",
            record_id=order_id,
        )
    occurred_at = ms_to_datetime(raw.get("modifiedTime")) or ms_to_datetime(raw.get("createdTime"))
    if occurred_at is None:
        return skip("order without modifiedTime", field_path="modifiedTime", record_id=order_id)
    units: list[_Unit] = []
    notes: list[MapMessage] = []
    for index, line in enumerate(elements(raw.get("lineItems"))):
        path = f"lineItems.{index}"
        line_id = ref_id(line)
        if line_id is None:
            return skip("line item without an id", field_path=path, record_id=order_id)
        quantity = _line_quantity(line)
        if quantity is None:
            notes.append(
                warning(
                    f"line {line_id} unitQty {line.get('unitQty')!r} is not a whole number of units; left out",
                    field_path=f"{path}.unitQty",
                    record_id=order_id,
                )
            )
            continue
        item_id = ref_id(line.get("item"))
        sku = sku_by_item.get(item_id) if item_id else None
        if item_id is not None and sku is None:
            notes.append(warning(f"no SKU known for item {item_id}", field_path=f"{path}.item", record_id=order_id))
        price = line.get("price")
        unit_price = str(price) if isinstance(price, int) and not isinstance(price, bool) else None
        group = ("item", item_id) if item_id and line.get("unitQty") is None else ("line", line_id)
        units.append(_Unit(line_id, group, sku, quantity, unit_price, line.get("refunded") is True))
    groups: dict[tuple[str, ...], list[_Unit]] = {}
    for unit in units:
        groups.setdefault(unit.group, []).append(unit)
    first = {key: min(members, key=lambda u: u.line_id) for key, members in groups.items()}
    line_ref = {key: unit.line_id for key, unit in first.items()}
    lines = [
        OrderLineEvent(line_ref[key], first[key].sku, sum(u.quantity for u in members), location, first[key].unit_price)
        for key, members in groups.items()
    ]
    restock = RestockType.RETURN if restock_refunds else RestockType.NO_RESTOCK
    refunds = [
        RefundEvent(
            f"{order_id}:{u.line_id}",
            order_id,
            occurred_at,
            (RefundLineEvent(line_ref[u.group], u.sku, u.quantity, restock, location),),
        )
        for u in units
        if u.refunded
    ]
    total = raw.get("total")
    currency = raw.get("currency")
    title = raw.get("title")
    event = OrderEvent(
        ref=order_id,
        kind=OrderEventKind.COMPLETED,
        occurred_at=occurred_at,
        lines=tuple(lines),
        name=title if isinstance(title, str) else "",
        currency=currency if isinstance(currency, str) else None,
        total=str(total) if isinstance(total, int) and not isinstance(total, bool) else None,
        status=str(raw.get("paymentState") or raw.get("state") or ""),
    )
    return ok((event, refunds), *notes)


def skus_by_item(items: Iterable[Any]) -> dict[str, str]:
    """``{item id: sku}`` of the items that carry a SKU (or code)."""
    found: dict[str, str] = {}
    for raw in items:
        if isinstance(raw, Mapping) and (item_id := ref_id(raw)) and (sku := item_sku(raw)):
            found[item_id] = sku
    return found
