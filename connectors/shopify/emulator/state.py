"""The emulated shop's data and the state changes Shopify makes on its own (orders, cancels, refunds, edits).

Pure in-memory model, no I/O: every action returns what changed so the emulator can fire the webhooks Shopify
would fire. Quantities follow Shopify's inventory model (api-contracts §1.2): ``on_hand`` is derived as
``available + committed + damaged + quality_control + reserved + safety_stock``; ``incoming`` is separate.
An order commits its units at its location (available -q, committed +q); a fulfillment ships committed units
(committed -q, so on_hand -q) and leaves ``available`` as it was.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from connectors.shopify.emulator.return_state import ReturnRecord

__all__ = [
    "ON_HAND_PARTS",
    "QUANTITY_NAMES",
    "AdjustmentGroup",
    "Change",
    "Fulfillment",
    "FulfillmentHold",
    "FulfillmentLine",
    "FulfillmentOrder",
    "FulfillmentOrderLine",
    "InventoryItem",
    "Level",
    "LineItem",
    "Location",
    "Order",
    "Refund",
    "RefundLine",
    "ShopError",
    "ShopState",
    "Variant",
]

ON_HAND_PARTS = ("available", "committed", "damaged", "quality_control", "reserved", "safety_stock")
QUANTITY_NAMES = (*ON_HAND_PARTS, "incoming", "on_hand")


class ShopError(ValueError):
    """A scripted action that Shopify would refuse (unknown SKU, not stocked, too much refunded...)."""


@dataclass
class Location:
    id: int
    name: str
    created_at: datetime
    updated_at: datetime
    active: bool = True


@dataclass
class Variant:
    id: int
    product_id: int
    sku: str
    title: str
    product_title: str
    price: str
    inventory_item_id: int
    created_at: datetime
    updated_at: datetime


@dataclass
class InventoryItem:
    id: int
    sku: str
    variant_id: int
    created_at: datetime
    updated_at: datetime
    tracked: bool = True


@dataclass
class Level:
    item_id: int
    location_id: int
    created_at: datetime
    updated_at: datetime
    stored: dict[str, int] = field(default_factory=dict)
    name_updated_at: dict[str, datetime] = field(default_factory=dict)

    def get(self, name: str) -> int:
        if name == "on_hand":
            return sum(self.stored.get(part, 0) for part in ON_HAND_PARTS)
        return self.stored.get(name, 0)

    def quantities(self) -> dict[str, int]:
        return {name: self.get(name) for name in QUANTITY_NAMES}


@dataclass
class LineItem:
    id: int
    variant_id: int
    inventory_item_id: int
    product_id: int
    sku: str
    title: str
    quantity: int
    price: str
    fulfillment_order_line_item_id: int
    open_quantity: int = 0  # committed, not yet fulfilled, refunded or cancelled
    fulfilled: int = 0
    refunded: int = 0


@dataclass
class RefundLine:
    id: int
    line_item_id: int
    quantity: int
    restock_type: str  # REST spelling: "no_restock" | "cancel" | "return" | "legacy_restock"
    location_id: int | None
    restocked: bool


@dataclass
class Refund:
    id: int
    order_id: int
    created_at: datetime
    note: str | None
    lines: list[RefundLine]
    return_id: int | None = None  # the return it refunds (returnRefund / returnProcess)


@dataclass
class FulfillmentLine:
    id: int
    line_item_id: int
    quantity: int


@dataclass
class Fulfillment:
    """A shipment of units of an order's lines from one location (always ``success`` in this emulator)."""

    id: int
    order_id: int
    number: int  # 1, 2 ... within the order: its name is "#1001.1"
    location_id: int
    created_at: datetime
    lines: list[FulfillmentLine]
    tracking_number: str | None = None
    tracking_company: str | None = None
    tracking_url: str | None = None
    status: str = "success"  # REST spelling; GraphQL SUCCESS
    fulfillment_order_ids: list[int] = field(default_factory=list)


@dataclass
class FulfillmentOrderLine:
    """Units of one order line assigned to a fulfillment order: ``total`` (shipped included), ``remaining``."""

    id: int
    line_item_id: int
    total: int
    remaining: int
    fulfilled: int = 0


@dataclass
class FulfillmentHold:
    id: int
    handle: str
    reason: str
    reason_notes: str | None = None


@dataclass
class FulfillmentOrder:
    """The units of an order assigned to one location. ``closed`` by a move or merge: its lines live elsewhere."""

    id: int
    order_id: int
    location_id: int
    created_at: datetime
    updated_at: datetime
    lines: list[FulfillmentOrderLine]
    holds: list[FulfillmentHold] = field(default_factory=list)
    request_status: str = "UNSUBMITTED"
    closed: bool = False
    delivery_method: str = "SHIPPING"  # DeliveryMethodType: SHIPPING, PICK_UP...
    prepared: bool = False  # fulfillmentOrderLineItemsPreparedForPickup ran (PICK_UP only)

    @property
    def remaining(self) -> int:
        return sum(line.remaining for line in self.lines)

    @property
    def fulfilled(self) -> int:
        return sum(line.fulfilled for line in self.lines)


@dataclass(frozen=True)
class ShippingAddress:
    """An order's ``shippingAddress`` (REST ``shipping_address``), in Shopify's field names."""

    first_name: str | None = "Ada"
    last_name: str | None = "Lovelace"
    address1: str | None = "1 Market St"
    address2: str | None = None
    city: str | None = "San Francisco"
    province_code: str | None = "CA"
    zip: str | None = "94105"
    country_code: str = "US"
    phone: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    """Shopify geocodes shipping addresses; the sample buyer's has no coordinates."""

    @classmethod
    def from_rest(cls, data: Mapping[str, Any]) -> ShippingAddress:
        """From a REST-style ``shipping_address`` object; missing fields are empty, ``country_code`` is required."""
        names = ("first_name", "last_name", "address1", "address2", "city", "province_code", "zip", "phone")
        unknown = sorted(set(data) - {*names, "country_code", "latitude", "longitude"})
        if unknown:
            raise ShopError(f"unknown shipping_address field(s): {', '.join(unknown)}")
        country = data.get("country_code")
        if not isinstance(country, str) or len(country) != 2:
            raise ShopError("shipping_address.country_code must be a two-letter country code")
        values: dict[str, Any] = {name: (str(data[name]) if data.get(name) is not None else None) for name in names}
        lat, lon = data.get("latitude"), data.get("longitude")
        return dataclasses.replace(
            cls(country_code=country.upper(), **values),
            latitude=None if lat is None else float(lat),
            longitude=None if lon is None else float(lon),
        )

    @property
    def name(self) -> str | None:
        return " ".join(part for part in (self.first_name, self.last_name) if part) or None


@dataclass
class Order:
    id: int
    number: int
    location_id: int
    fulfillment_order_id: int
    created_at: datetime
    updated_at: datetime
    line_items: list[LineItem]
    email: str = "customer@example.com"
    source_name: str = "web"
    financial_status: str = "paid"
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    cancel_note: str | None = None  # orderCancel's staffNote (staff-facing, not in REST payloads)
    closed_at: datetime | None = None
    refunds: list[Refund] = field(default_factory=list)
    fulfillments: list[Fulfillment] = field(default_factory=list)
    shipping_address: ShippingAddress | None = field(default_factory=ShippingAddress)
    fulfillment_orders: list[FulfillmentOrder] = field(default_factory=list)
    returns: list[ReturnRecord] = field(default_factory=list)

    def open_fo_lines(self, line_item_id: int) -> list[tuple[FulfillmentOrder, FulfillmentOrderLine]]:
        """The fulfillment order lines of a line item that still have units to ship, oldest first."""
        return [
            (fo, line)
            for fo in self.fulfillment_orders
            for line in fo.lines
            if line.line_item_id == line_item_id and line.remaining > 0 and not fo.closed
        ]

    @property
    def name(self) -> str:
        return f"#{self.number}"

    @property
    def total_price(self) -> str:
        total = sum((Decimal(li.price) * li.quantity for li in self.line_items), Decimal("0"))
        return f"{total:.2f}"


@dataclass
class Change:
    name: str
    delta: int
    quantity_after: int
    item_id: int
    location_id: int
    ledger_document_uri: str | None = None


@dataclass
class AdjustmentGroup:
    id: int
    created_at: datetime
    reason: str
    reference_document_uri: str | None
    changes: list[Change]


LevelKey = tuple[int, int]  # (inventory item id, location id)


class ShopState:
    """All objects of one shop, with Shopify-like numeric ids (distinct ranges per resource)."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self.locations: dict[int, Location] = {}
        self.variants: dict[int, Variant] = {}
        self.items: dict[int, InventoryItem] = {}
        self.levels: dict[LevelKey, Level] = {}
        self.orders: dict[int, Order] = {}
        self.groups: dict[int, AdjustmentGroup] = {}
        self._ids: dict[str, Iterator[int]] = {}
        self._order_numbers = itertools.count(1001)

    def next_id(self, kind: str) -> int:
        bases = {
            "Location": 76_000_000_001,
            "Product": 8_100_000_000_001,
            "ProductVariant": 44_000_000_000_001,
            "InventoryItem": 46_000_000_000_001,
            "Order": 5_600_000_000_001,
            "LineItem": 13_500_000_000_001,
            "FulfillmentOrder": 6_300_000_000_001,
            "FulfillmentOrderLineItem": 14_100_000_000_001,
            "Refund": 920_000_000_001,
            "RefundLineItem": 510_000_000_001,
            "Fulfillment": 5_900_000_000_001,
            "FulfillmentLineItem": 12_700_000_000_001,
            "InventoryAdjustmentGroup": 27_000_000_001,
        }
        counter = self._ids.setdefault(kind, itertools.count(bases.get(kind, 1)))
        return next(counter)

    # --- lookups -----------------------------------------------------------------------------------------
    def variant_by_sku(self, sku: str) -> Variant:
        for variant in self.variants.values():
            if variant.sku == sku:
                return variant
        raise ShopError(f"no product variant with SKU {sku!r}")

    def item_by_sku(self, sku: str) -> InventoryItem:
        return self.items[self.variant_by_sku(sku).inventory_item_id]

    def location(self, location_id: int) -> Location:
        try:
            return self.locations[location_id]
        except KeyError:
            raise ShopError(f"no location {location_id}") from None

    def level(self, item_id: int, location_id: int) -> Level:
        try:
            return self.levels[(item_id, location_id)]
        except KeyError:
            raise ShopError(f"inventory item {item_id} is not stocked at location {location_id}") from None

    def order(self, order_id: int) -> Order:
        try:
            return self.orders[order_id]
        except KeyError:
            raise ShopError(f"no order {order_id}") from None

    def order_of_fulfillment_order(self, fulfillment_order_id: int) -> Order | None:
        """The order one of whose fulfillment orders has this id."""
        found = self.fulfillment_order(fulfillment_order_id)
        return found[0] if found is not None else None

    def fulfillment_order(self, fulfillment_order_id: int) -> tuple[Order, FulfillmentOrder] | None:
        for order in self.orders.values():
            for fo in order.fulfillment_orders:
                if fo.id == fulfillment_order_id:
                    return order, fo
        return None

    def fulfillment(self, fulfillment_id: int) -> tuple[Order, Fulfillment] | None:
        for order in self.orders.values():
            for fulfillment in order.fulfillments:
                if fulfillment.id == fulfillment_id:
                    return order, fulfillment
        return None

    # --- seeding -------------------------------------------------------------------------------------------
    def add_location(self, name: str) -> Location:
        now = self.clock()
        location = Location(self.next_id("Location"), name, now, now)
        self.locations[location.id] = location
        return location

    def add_product(self, sku: str, title: str, price: str) -> Variant:
        if any(v.sku == sku for v in self.variants.values()):
            raise ShopError(f"SKU {sku!r} already exists")
        now = self.clock()
        product_id = self.next_id("Product")
        variant_id = self.next_id("ProductVariant")
        item = InventoryItem(self.next_id("InventoryItem"), sku, variant_id, now, now)
        variant = Variant(variant_id, product_id, sku, "Default Title", title, price, item.id, now, now)
        self.items[item.id] = item
        self.variants[variant.id] = variant
        return variant

    def stock(self, item_id: int, location_id: int) -> Level:
        """Activate an item at a location (idempotent)."""
        self.location(location_id)
        key = (item_id, location_id)
        if key not in self.levels:
            now = self.clock()
            self.levels[key] = Level(item_id, location_id, now, now)
        return self.levels[key]

    # --- quantity changes ----------------------------------------------------------------------------------
    def change(self, level: Level, name: str, delta: int) -> int:
        """Apply a delta to a stored quantity name (``on_hand`` changes ``available``); returns the new value."""
        stored = "available" if name == "on_hand" else name
        now = self.clock()
        level.stored[stored] = level.stored.get(stored, 0) + delta
        level.updated_at = now
        level.name_updated_at[stored] = now
        self.items[level.item_id].updated_at = now
        return level.get(name)

    # --- orders --------------------------------------------------------------------------------------------
    def place_order(
        self,
        lines: list[tuple[str, int]],
        location_id: int,
        shipping_address: ShippingAddress | None = ShippingAddress(),
        *,
        pickup: bool = False,
    ) -> Order:
        """A checkout: commits stock at the assigned fulfillment location (available -= q, committed += q).
        ``shipping_address`` None models an order that ships nowhere (a digital good, a pickup); ``pickup``: local
        pickup at that location (its fulfillment order's delivery method is ``PICK_UP``)."""
        self.location(location_id)
        if not lines:
            raise ShopError("an order needs at least one line")
        now = self.clock()
        line_items: list[LineItem] = []
        for sku, quantity in lines:
            if quantity <= 0:
                raise ShopError(f"quantity must be positive, got {quantity} for {sku!r}")
            variant = self.variant_by_sku(sku)
            self.level(variant.inventory_item_id, location_id)
            line_items.append(
                LineItem(
                    self.next_id("LineItem"),
                    variant.id,
                    variant.inventory_item_id,
                    variant.product_id,
                    sku,
                    variant.product_title,
                    quantity,
                    variant.price,
                    self.next_id("FulfillmentOrderLineItem"),
                    open_quantity=quantity,
                )
            )
        order = Order(
            self.next_id("Order"),
            next(self._order_numbers),
            location_id,
            self.next_id("FulfillmentOrder"),
            now,
            now,
            line_items,
            shipping_address=shipping_address,
        )
        for li in line_items:
            level = self.levels[(li.inventory_item_id, location_id)]
            self.change(level, "available", -li.quantity)
            self.change(level, "committed", li.quantity)
        fo_lines = [
            FulfillmentOrderLine(li.fulfillment_order_line_item_id, li.id, li.quantity, li.quantity)
            for li in line_items
        ]
        order.fulfillment_orders.append(
            FulfillmentOrder(
                order.fulfillment_order_id,
                order.id,
                location_id,
                now,
                now,
                fo_lines,
                delivery_method="PICK_UP" if pickup else "SHIPPING",
            )
        )
        self.orders[order.id] = order
        return order

    def _release_open(self, order: Order, li: LineItem, quantity: int, restock: bool) -> list[Level]:
        """Take ``quantity`` unshipped units of ``li`` off its fulfillment orders (oldest first): committed goes
        down where each was assigned, and back to available with ``restock``. Returns the levels restocked."""
        changed: list[Level] = []
        for fo, line in order.open_fo_lines(li.id):
            if quantity <= 0:
                break
            taken = min(quantity, line.remaining)
            line.remaining -= taken
            quantity -= taken
            level = self.levels[(li.inventory_item_id, fo.location_id)]
            self.change(level, "committed", -taken)
            if restock:
                self.change(level, "available", taken)
                changed.append(level)
        return changed

    def cancel_order(
        self,
        order_id: int,
        *,
        restock: bool,
        reason: str = "customer",
        refund: bool | None = None,
        note: str | None = None,
    ) -> list[Level]:
        """Cancel: releases committed stock; with ``restock`` it goes back to available. Returns levels whose
        ``available`` changed. ``refund`` (default: ``restock``, the control API's historic behaviour) marks the
        order refunded; without it the payment stays as it was."""
        order = self.order(order_id)
        if order.cancelled_at is not None:
            raise ShopError(f"order {order_id} is already cancelled")
        now = self.clock()
        changed: list[Level] = []
        for li in order.line_items:
            if li.open_quantity:
                changed.extend(self._release_open(order, li, li.open_quantity, restock))
                li.open_quantity = 0
        order.cancelled_at = now
        order.cancel_reason = reason
        order.cancel_note = note
        order.closed_at = now
        order.updated_at = now
        if restock if refund is None else refund:
            order.financial_status = "refunded"
        return changed

    def refund(
        self,
        order_id: int,
        lines: list[tuple[str, int]],
        *,
        restock_type: str,
        location_id: int | None,
        note: str | None,
    ) -> tuple[Refund, list[Level]]:
        """Refund line quantities. Restocking (``cancel``/``return``) releases unfulfilled committed stock first,
        then returns fulfilled units to ``available`` at ``location_id`` (default: the order's location)."""
        if restock_type not in ("no_restock", "cancel", "return", "legacy_restock"):
            raise ShopError(f"unknown restock_type {restock_type!r}")
        order = self.order(order_id)
        target = location_id if location_id is not None else order.location_id
        self.location(target)
        now = self.clock()
        refund_lines: list[RefundLine] = []
        changed: list[Level] = []
        for sku, quantity in lines:
            li = next((x for x in order.line_items if x.sku == sku), None)
            if li is None:
                raise ShopError(f"order {order_id} has no line with SKU {sku!r}")
            if quantity <= 0 or quantity > li.quantity - li.refunded:
                raise ShopError(f"cannot refund {quantity} of {sku!r}: {li.quantity - li.refunded} refundable")
            restock = restock_type != "no_restock"
            from_open = min(quantity, li.open_quantity)
            li.open_quantity -= from_open
            li.refunded += quantity
            if from_open:
                changed.extend(self._release_open(order, li, from_open, restock))
            returned = quantity - from_open
            if restock and returned:
                level = self.stock(li.inventory_item_id, target)
                self.change(level, "available", returned)
                changed.append(level)
            refund_lines.append(
                RefundLine(self.next_id("RefundLineItem"), li.id, quantity, restock_type, target, restock)
            )
        refund = Refund(self.next_id("Refund"), order.id, now, note, refund_lines)
        order.refunds.append(refund)
        order.updated_at = now
        fully = all(li.refunded == li.quantity for li in order.line_items)
        order.financial_status = "refunded" if fully else "partially_refunded"
        return refund, list({id(level): level for level in changed}.values())

    def fulfill(
        self,
        order_id: int,
        quantities: dict[int, int] | None = None,
        *,
        fo_lines: dict[int, int] | None = None,
        tracking_number: str | None = None,
        tracking_company: str | None = None,
        tracking_url: str | None = None,
    ) -> Fulfillment:
        """Ship units from one location: ``fo_lines`` maps fulfillment order line item ids to units, or
        ``quantities`` maps line item ids to units taken from their fulfillment orders oldest first (default: every
        open unit). Committed and on_hand go down where the units were assigned, available is unchanged. Returns
        the new (successful) fulfillment.

        Refused (:class:`ShopError`, nothing changed) for a cancelled order, an unknown line, a quantity that is
        not positive or above the open units, nothing left to ship, or units assigned to several locations.
        """
        order = self.order(order_id)
        if order.cancelled_at is not None:
            raise ShopError(f"order {order_id} is cancelled")
        picks = fo_lines if fo_lines is not None else self._picks(order, quantities)
        by_id = {line.id: (fo, line) for fo in order.fulfillment_orders for line in fo.lines}
        for fo_line_id, quantity in picks.items():
            if fo_line_id not in by_id or by_id[fo_line_id][0].closed:
                raise ShopError(f"order {order_id} has no open fulfillment order line item {fo_line_id}")
            if quantity <= 0 or quantity > by_id[fo_line_id][1].remaining:
                raise ShopError(f"cannot fulfil {quantity} of fulfillment order line item {fo_line_id}")
        if not picks:
            raise ShopError(f"order {order_id} has nothing left to fulfil")
        locations = {by_id[fo_line_id][0].location_id for fo_line_id in picks}
        if len(locations) > 1:
            raise ShopError("All fulfillment orders must be assigned to a single location.")
        now = self.clock()
        lines: list[FulfillmentLine] = []
        fo_ids: list[int] = []
        items = {li.id: li for li in order.line_items}
        for fo_line_id, quantity in picks.items():
            fo, line = by_id[fo_line_id]
            li = items[line.line_item_id]
            level = self.levels[(li.inventory_item_id, fo.location_id)]
            self.change(level, "committed", -quantity)
            line.remaining -= quantity
            line.fulfilled += quantity
            li.fulfilled += quantity
            li.open_quantity -= quantity
            fo.updated_at = now
            if fo.id not in fo_ids:
                fo_ids.append(fo.id)
            lines.append(FulfillmentLine(self.next_id("FulfillmentLineItem"), li.id, quantity))
        fulfillment = Fulfillment(
            self.next_id("Fulfillment"),
            order.id,
            len(order.fulfillments) + 1,
            locations.pop(),
            now,
            lines,
            tracking_number=tracking_number,
            tracking_company=tracking_company,
            tracking_url=tracking_url,
            fulfillment_order_ids=fo_ids,
        )
        order.fulfillments.append(fulfillment)
        order.updated_at = now
        return fulfillment

    @staticmethod
    def _picks(order: Order, quantities: dict[int, int] | None) -> dict[int, int]:
        """Line item units → fulfillment order line units, oldest fulfillment order first."""
        by_id = {li.id: li for li in order.line_items}
        wanted = quantities if quantities is not None else {li.id: li.open_quantity for li in order.line_items}
        picks: dict[int, int] = {}
        for line_id, quantity in wanted.items():
            li = by_id.get(line_id)
            if li is None:
                raise ShopError(f"order {order.id} has no line item {line_id}")
            if quantity < 0 or (quantities is not None and quantity == 0) or quantity > li.open_quantity:
                raise ShopError(f"cannot fulfil {quantity} of line item {line_id}: {li.open_quantity} open")
            for _, line in order.open_fo_lines(line_id):
                taken = min(quantity, line.remaining)
                if taken:
                    picks[line.id] = taken
                quantity -= taken
        return picks

    def record_group(self, reason: str, reference: str | None, changes: list[Change]) -> AdjustmentGroup:
        group = AdjustmentGroup(self.next_id("InventoryAdjustmentGroup"), self.clock(), reason, reference, changes)
        self.groups[group.id] = group
        return group
