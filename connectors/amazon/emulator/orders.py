"""Orders API v0 of the Amazon emulator: stored orders and the getOrders / getOrder / getOrderItems answers.

Orders are merchant-fulfilled (``FulfillmentChannel`` MFN). ``NextToken`` is opaque, stored server side and
bound to the snapshot of matching order ids taken by the first page (later pages ignore other filters, as
Amazon documents). Answers are wrapped as ``{"payload": ...}``. An order's ``ShippingAddress`` is whole only for a
request made with a Restricted Data Token (``full``, see :mod:`connectors.amazon.emulator.tokens`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from connectors.amazon.emulator.common import ApiError, format_time, invalid_input, parse_time, query_list
from connectors.amazon.emulator.tokens import shipping_address

__all__ = ["DEFAULT_SHIPPING_ADDRESS", "ORDER_STATUSES", "OrderBook", "StoredOrder"]

DEFAULT_SHIPPING_ADDRESS: Mapping[str, str] = {
    "Name": "Jordan Rivera",
    "AddressLine1": "1200 Pearl St",
    "City": "Boulder",
    "StateOrRegion": "CO",
    "PostalCode": "80302",
    "CountryCode": "US",
    "Phone": "+1 303-555-0100",
    "AddressType": "Residential",
}
"""The buyer's address of an order created without one (Orders v0 ``Address`` field names)."""

ORDER_STATUSES = (
    "PendingAvailability",
    "Pending",
    "Unshipped",
    "PartiallyShipped",
    "Shipped",
    "Canceled",
    "Unfulfillable",
    "InvoiceUnconfirmed",
)
_ORDER_PAGE_MAX = 100
_ITEMS_PAGE = 2  # small on purpose so clients exercise orderItems paging
_MIN_AGE = timedelta(minutes=2)


@dataclass
class StoredOrder:
    """One order: the v0 ``Order`` object, its ``OrderItem`` list and the packages confirmShipment created (by
    ``packageReferenceId``, see :mod:`connectors.amazon.emulator.shipments`)."""

    order: dict[str, Any]
    items: list[dict[str, Any]] = field(default_factory=list)
    shipping_address: dict[str, Any] | None = None
    packages: dict[str, dict[str, Any]] = field(default_factory=dict)
    pickup_status: str | None = None
    """The last ``updateShipmentStatus`` applied (in-store pickup orders only)."""

    def view(self, full: bool) -> dict[str, Any]:
        """The ``Order`` object as sent: the whole ShippingAddress only when ``full`` (an RDT)."""
        order = dict(self.order)
        address = shipping_address(self.shipping_address, full)
        if address is not None:
            order["ShippingAddress"] = address
        return order

    @property
    def order_id(self) -> str:
        return str(self.order["AmazonOrderId"])

    @property
    def status(self) -> str:
        return str(self.order["OrderStatus"])


@dataclass
class _Cursor:
    ids: list[str]
    offset: int
    marketplaces: frozenset[str]
    bound_name: str
    bound: str
    size: int


class OrderBook:
    """The seller's orders plus the paging cursors handed out."""

    def __init__(self, marketplace_id: str, currency: str, clock: Callable[[], datetime], rng: Any) -> None:
        self.marketplace_id, self.currency, self.clock, self.rng = marketplace_id, currency, clock, rng
        self.orders: dict[str, StoredOrder] = {}
        self._order_cursors: dict[str, _Cursor] = {}
        self._item_cursors: dict[str, tuple[str, int]] = {}

    # -- mutations (control) -----------------------------------------------------------------------------------

    def new_order_id(self) -> str:
        return f"{self.rng.randint(111, 999)}-{self.rng.randint(0, 9999999):07d}-{self.rng.randint(0, 9999999):07d}"

    def create(
        self,
        lines: Sequence[tuple[str, int, Decimal]],
        status: str,
        address: Mapping[str, Any] | None = DEFAULT_SHIPPING_ADDRESS,
        pickup_source: str | None = None,
    ) -> StoredOrder:
        """A new MFN order with ``lines`` of ``(sku, quantity, unit price)`` in ``status``, shipping to
        ``address`` (Orders v0 ``Address`` fields; None: no address), or collected in store at the supply source
        ``pickup_source`` (``IsISPU`` true, ``FulfillmentInstruction.FulfillmentSupplySourceId``)."""
        if status not in ORDER_STATUSES:
            raise ValueError(f"unknown order status {status!r}; expected one of {', '.join(ORDER_STATUSES)}")
        now = self.clock()
        order_id = self.new_order_id()
        while order_id in self.orders:
            order_id = self.new_order_id()
        items = []
        total = Decimal("0")
        for sku, quantity, price in lines:
            line_total = price * quantity
            total += line_total
            items.append(
                {
                    "ASIN": "B0" + "".join(self.rng.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(8)),
                    "SellerSKU": sku,
                    "OrderItemId": f"{self.rng.randint(10**13, 10**14 - 1)}",
                    "Title": sku,
                    "QuantityOrdered": quantity,
                    "QuantityShipped": 0,
                    "ItemPrice": {"CurrencyCode": self.currency, "Amount": f"{line_total:.2f}"},
                    "ItemTax": {"CurrencyCode": self.currency, "Amount": "0.00"},
                    "ShippingPrice": {"CurrencyCode": self.currency, "Amount": "0.00"},
                    "PromotionDiscount": {"CurrencyCode": self.currency, "Amount": "0.00"},
                    "IsGift": "false",
                    "ConditionId": "New",
                    "IsTransparency": False,
                }
            )
        quantity_total = sum(q for _, q, _ in lines)
        order: dict[str, Any] = {
            "AmazonOrderId": order_id,
            "PurchaseDate": format_time(now),
            "LastUpdateDate": format_time(now),
            "OrderStatus": status,
            "FulfillmentChannel": "MFN",
            "SalesChannel": "Amazon.com",
            "ShipServiceLevel": "Std US D2D Dom",
            "OrderTotal": {"CurrencyCode": self.currency, "Amount": f"{total:.2f}"},
            "NumberOfItemsShipped": 0,
            "NumberOfItemsUnshipped": quantity_total,
            "PaymentMethod": "Other",
            "PaymentMethodDetails": ["Standard"],
            "MarketplaceId": self.marketplace_id,
            "ShipmentServiceLevelCategory": "Standard",
            "OrderType": "StandardOrder",
            "EarliestShipDate": format_time(now + timedelta(days=1)),
            "LatestShipDate": format_time(now + timedelta(days=3)),
            "IsBusinessOrder": False,
            "IsPrime": False,
            "IsPremiumOrder": False,
            "IsGlobalExpressEnabled": False,
            "IsReplacementOrder": False,
            "IsSoldByAB": False,
            "IsISPU": False,
            "IsAccessPointOrder": False,
            "HasRegulatedItems": False,
        }
        if pickup_source is not None:
            order["IsISPU"] = True
            order["FulfillmentInstruction"] = {"FulfillmentSupplySourceId": pickup_source}
        stored = StoredOrder(order, items, None if address is None else dict(address))
        self._apply_status(stored, status)
        self.orders[order_id] = stored
        return stored

    def set_status(self, order_id: str, status: str) -> StoredOrder:
        """Move ``order_id`` to ``status`` and bump ``LastUpdateDate``."""
        if status not in ORDER_STATUSES:
            raise ValueError(f"unknown order status {status!r}; expected one of {', '.join(ORDER_STATUSES)}")
        stored = self.get(order_id)
        self._apply_status(stored, status)
        stored.order["LastUpdateDate"] = format_time(self.clock())
        return stored

    def get(self, order_id: str) -> StoredOrder:
        stored = self.orders.get(order_id)
        if stored is None:
            raise KeyError(f"unknown order {order_id!r}")
        return stored

    @staticmethod
    def _apply_status(stored: StoredOrder, status: str) -> None:
        stored.order["OrderStatus"] = status
        total = sum(int(i["QuantityOrdered"]) for i in stored.items)
        shipped = total if status == "Shipped" else 0
        for item in stored.items:
            item["QuantityShipped"] = item["QuantityOrdered"] if status == "Shipped" else 0
        stored.order["NumberOfItemsShipped"] = shipped
        stored.order["NumberOfItemsUnshipped"] = 0 if status in ("Shipped", "Canceled") else total - shipped

    # -- API ---------------------------------------------------------------------------------------------------

    def _marketplaces(self, params: Mapping[str, Sequence[str]]) -> frozenset[str]:
        ids = query_list(params, "MarketplaceIds")
        if not ids:
            raise invalid_input("Missing required parameter 'MarketplaceIds'.", "MarketplaceIds")
        if len(ids) > 50:
            raise invalid_input("'MarketplaceIds' accepts at most 50 values.", "MarketplaceIds")
        return frozenset(ids)

    def _time(self, params: Mapping[str, Sequence[str]], name: str) -> datetime | None:
        values = params.get(name)
        if not values:
            return None
        try:
            return parse_time(values[-1])
        except ValueError:
            raise invalid_input(f"Invalid ISO 8601 date for '{name}': {values[-1]!r}.", name) from None

    def get_orders(self, params: Mapping[str, Sequence[str]], lag_s: float, full: bool = False) -> dict[str, Any]:
        """getOrders: filters on the first page, ``NextToken`` (+ MarketplaceIds) on the following ones."""
        marketplaces = self._marketplaces(params)
        token = params.get("NextToken", [""])[-1]
        if token:
            return self._next_page(token, marketplaces, full)
        now = self.clock()
        created_after = self._time(params, "CreatedAfter")
        created_before = self._time(params, "CreatedBefore")
        updated_after = self._time(params, "LastUpdatedAfter")
        updated_before = self._time(params, "LastUpdatedBefore")
        if created_after is None and updated_after is None:
            raise invalid_input("Either 'CreatedAfter' or 'LastUpdatedAfter' must be specified.", "CreatedAfter")
        if created_after is not None and (updated_after is not None or updated_before is not None):
            raise invalid_input(
                "'LastUpdatedAfter' and 'LastUpdatedBefore' cannot be set when 'CreatedAfter' is set.", "CreatedAfter"
            )
        if updated_after is not None and created_before is not None:
            raise invalid_input("'CreatedBefore' cannot be set when 'LastUpdatedAfter' is set.", "CreatedBefore")
        for name, after, before in (
            ("CreatedBefore", created_after, created_before),
            ("LastUpdatedBefore", updated_after, updated_before),
        ):
            if before is None:
                continue
            if after is not None and before < after:
                raise invalid_input(f"'{name}' must be equal to or after the matching 'After' date.", name)
            if before > now - _MIN_AGE:
                raise invalid_input(f"'{name}' must be at least two minutes before the current time.", name)
        for name, after in (("CreatedAfter", created_after), ("LastUpdatedAfter", updated_after)):
            if after is not None and after > now:
                raise invalid_input(f"'{name}' must not be in the future.", name)
        size = self._page_size(params)
        statuses = set(query_list(params, "OrderStatuses"))
        bad = sorted(statuses - set(ORDER_STATUSES))
        if bad:
            raise invalid_input(f"Invalid 'OrderStatuses' value(s): {', '.join(bad)}.", "OrderStatuses")
        channels = set(query_list(params, "FulfillmentChannels"))
        wanted_ids = set(query_list(params, "AmazonOrderIds"))
        default_bound = now - timedelta(seconds=lag_s)
        by_update = created_after is None
        low = updated_after if by_update else created_after
        high = (updated_before if by_update else created_before) or default_bound
        field_name = "LastUpdateDate" if by_update else "PurchaseDate"
        matches = []
        for stored in self.orders.values():
            order = stored.order
            moment = parse_time(order[field_name])
            if low is not None and moment < low:
                continue
            if moment > high:
                continue
            if order["MarketplaceId"] not in marketplaces:
                continue
            if statuses and order["OrderStatus"] not in statuses:
                continue
            if channels and order["FulfillmentChannel"] not in channels:
                continue
            if wanted_ids and order["AmazonOrderId"] not in wanted_ids:
                continue
            matches.append((moment, stored.order_id))
        matches.sort()
        cursor = _Cursor(
            [order_id for _, order_id in matches],
            0,
            marketplaces,
            "LastUpdatedBefore" if by_update else "CreatedBefore",
            format_time(high),
            size,
        )
        return self._page(cursor, full)

    def _page_size(self, params: Mapping[str, Sequence[str]]) -> int:
        raw = params.get("MaxResultsPerPage", [""])[-1]
        if not raw:
            return _ORDER_PAGE_MAX
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= _ORDER_PAGE_MAX:
            raise invalid_input(f"'MaxResultsPerPage' must be between 1 and 100, got {raw!r}.", "MaxResultsPerPage")
        return size

    def _page(self, cursor: _Cursor, full: bool) -> dict[str, Any]:
        end = cursor.offset + cursor.size
        chunk = cursor.ids[cursor.offset : end]
        payload: dict[str, Any] = {"Orders": [self.orders[i].view(full) for i in chunk]}
        if end < len(cursor.ids):
            token = secrets.token_urlsafe(24)
            self._order_cursors[token] = replace(cursor, offset=end)
            payload["NextToken"] = token
        payload[cursor.bound_name] = cursor.bound
        return {"payload": payload}

    def _next_page(self, token: str, marketplaces: frozenset[str], full: bool) -> dict[str, Any]:
        cursor = self._order_cursors.get(token)
        if cursor is None or not marketplaces & cursor.marketplaces:
            raise invalid_input("Invalid NextToken.", "NextToken")
        return self._page(cursor, full)

    def get_order(self, order_id: str, full: bool = False) -> dict[str, Any]:
        stored = self._find(order_id)
        return {"payload": stored.view(full)}

    def get_order_address(self, order_id: str, full: bool = False) -> dict[str, Any]:
        """getOrderAddress: ``{"AmazonOrderId", "ShippingAddress"}`` (whole only with an RDT)."""
        stored = self._find(order_id)
        payload: dict[str, Any] = {"AmazonOrderId": order_id}
        address = shipping_address(stored.shipping_address, full)
        if address is not None:
            payload["ShippingAddress"] = address
        return {"payload": payload}

    def get_order_items(self, order_id: str, params: Mapping[str, Sequence[str]]) -> dict[str, Any]:
        """getOrderItems, ``_ITEMS_PAGE`` items a page with an opaque ``NextToken``."""
        token = params.get("NextToken", [""])[-1]
        offset = 0
        if token:
            found = self._item_cursors.get(token)
            if found is None or found[0] != order_id:
                raise invalid_input("Invalid NextToken.", "NextToken")
            offset = found[1]
        stored = self._find(order_id)
        chunk = stored.items[offset : offset + _ITEMS_PAGE]
        payload: dict[str, Any] = {"AmazonOrderId": order_id, "OrderItems": [dict(i) for i in chunk]}
        if offset + _ITEMS_PAGE < len(stored.items):
            next_token = secrets.token_urlsafe(24)
            self._item_cursors[next_token] = (order_id, offset + _ITEMS_PAGE)
            payload["NextToken"] = next_token
        return {"payload": payload}

    def _find(self, order_id: str) -> StoredOrder:
        stored = self.orders.get(order_id)
        if stored is None:
            raise ApiError(404, "NotFound", f"Order {order_id!r} was not found.")
        return stored
