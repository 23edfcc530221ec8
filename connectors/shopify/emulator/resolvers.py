"""Query-side resolution: turns the shop state into the GraphQL objects of the Admin API.

Objects are plain dicts whose values are data or callables ``(info, **args)`` — graphql-core's default resolver
calls them lazily, so only what a document selects is computed. Abstract results carry ``__typename``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from connectors.shopify.emulator.fulfillment_orders import (
    FulfillmentOrderDesk,
    fulfillment_order_status,
    supported_actions,
)
from connectors.shopify.emulator.paging import connection, matches, parse_search
from connectors.shopify.emulator.rest_payloads import gid, graphql_time, level_gid
from connectors.shopify.emulator.return_resolvers import ReturnResolvers
from connectors.shopify.emulator.state import (
    QUANTITY_NAMES,
    AdjustmentGroup,
    Fulfillment,
    FulfillmentHold,
    FulfillmentLine,
    FulfillmentOrder,
    FulfillmentOrderLine,
    InventoryItem,
    Level,
    LineItem,
    Location,
    Order,
    Refund,
    RefundLine,
    ShopState,
    Variant,
)

__all__ = ["QueryResolvers", "parse_gid"]

Node = dict[str, Any]
_GID = re.compile(r"^gid://shopify/(?P<kind>\w+)/(?P<id>\d+)(?:\?inventory_item_id=(?P<item>\d+))?$")


def parse_gid(value: Any, kind: str | None = None) -> int | None:
    """The numeric id of a ``gid://shopify/<kind>/<n>`` (None when malformed or of another kind)."""
    match = _GID.match(str(value)) if value is not None else None
    if match is None or (kind is not None and match["kind"] != kind):
        return None
    return int(match["id"])


def _args(info: GraphQLResolveInfo[Any], **kwargs: Any) -> dict[str, Any]:
    del info
    return kwargs


class QueryResolvers:
    """Builds the ``QueryRoot`` value and the object dicts shared with mutation payloads."""

    def __init__(self, state: ShopState, currency: str, shop_name: str, domain: str) -> None:
        self.state = state
        self.currency = currency
        self.shop_name = shop_name
        self.domain = domain
        self.returns = ReturnResolvers(self)

    # --- root ----------------------------------------------------------------------------------------------
    def root(self) -> Node:
        return {
            "shop": {
                "id": "gid://shopify/Shop/1",
                "name": self.shop_name,
                "myshopifyDomain": self.domain,
                "currencyCode": self.currency,
                "ianaTimezone": "America/New_York",
            },
            "locations": self._locations,
            "location": lambda info, id=None: self._by_gid(id, "Location", self.state.locations, self.location),
            "inventoryItems": self._inventory_items,
            "inventoryItem": lambda info, id: self._by_gid(id, "InventoryItem", self.state.items, self.item),
            "inventoryLevel": lambda info, id: self._level_by_gid(id),
            "productVariants": self._variants,
            "productVariant": lambda info, id: self._by_gid(id, "ProductVariant", self.state.variants, self.variant),
            "orders": self._orders,
            "order": lambda info, id: self._by_gid(id, "Order", self.state.orders, self.order),
            "fulfillment": lambda info, id: self._fulfillment_by_gid(id),
            "fulfillmentOrder": lambda info, id: self._fulfillment_order_by_gid(id),
            "return": lambda info, id: self.returns.by_gid(id),
            "reverseFulfillmentOrder": lambda info, id: self.returns.reverse_by_gid(id),
            "node": lambda info, id: self._node(id),
            "nodes": lambda info, ids: [self._node(i) for i in ids],
        }

    def _by_gid(self, value: Any, kind: str, table: dict[int, Any], build: Callable[[Any], Node]) -> Node | None:
        numeric = parse_gid(value, kind)
        found = table.get(numeric) if numeric is not None else None
        return build(found) if found is not None else None

    def _level_by_gid(self, value: Any) -> Node | None:
        match = _GID.match(str(value))
        if match is None or match["kind"] != "InventoryLevel" or match["item"] is None:
            return None
        level = self.state.levels.get((int(match["item"]), int(match["id"])))
        return self.level(level) if level else None

    def _fulfillment_by_gid(self, value: Any) -> Node | None:
        numeric = parse_gid(value, "Fulfillment")
        found = self.state.fulfillment(numeric) if numeric is not None else None
        return self.fulfillment(*found) if found is not None else None

    def _fulfillment_order_by_gid(self, value: Any) -> Node | None:
        numeric = parse_gid(value, "FulfillmentOrder")
        found = self.state.fulfillment_order(numeric) if numeric is not None else None
        return self.fulfillment_order(*found) if found is not None else None

    def _node(self, value: Any) -> Node | None:
        match = _GID.match(str(value))
        if match is None:
            return None
        if match["kind"] == "Fulfillment":
            return self._fulfillment_by_gid(value)
        if match["kind"] == "FulfillmentOrder":
            return self._fulfillment_order_by_gid(value)
        builders: dict[str, tuple[dict[int, Any], Callable[[Any], Node]]] = {
            "Location": (self.state.locations, self.location),
            "InventoryItem": (self.state.items, self.item),
            "ProductVariant": (self.state.variants, self.variant),
            "Order": (self.state.orders, self.order),
        }
        if match["kind"] == "InventoryLevel":
            return self._level_by_gid(value)
        if match["kind"] not in builders:
            return None
        table, build = builders[match["kind"]]
        return self._by_gid(value, match["kind"], table, build)

    # --- connections ---------------------------------------------------------------------------------------
    def _locations(self, info: GraphQLResolveInfo[Any], **args: Any) -> Node:
        groups = parse_search(args.get("query"))
        include_inactive = bool(args.get("includeInactive"))
        found = [
            loc
            for loc in self.state.locations.values()
            if (loc.active or include_inactive)
            and matches(groups, {"id": loc.id, "name": loc.name, "created_at": loc.created_at})
        ]
        sort = args.get("sortKey") or "NAME"
        key: Callable[[Location], tuple[Any, ...]] = (
            (lambda loc: (loc.name, loc.id)) if sort == "NAME" else (lambda loc: (loc.id,))
        )
        return connection(found, self.location, key, args)

    def _inventory_items(self, info: GraphQLResolveInfo[Any], **args: Any) -> Node:
        groups = parse_search(args.get("query"))
        found = [
            item
            for item in self.state.items.values()
            if matches(
                groups,
                {"id": item.id, "sku": item.sku, "created_at": item.created_at, "updated_at": item.updated_at},
            )
        ]
        return connection(found, self.item, lambda item: (item.id,), args)

    def _variants(self, info: GraphQLResolveInfo[Any], **args: Any) -> Node:
        groups = parse_search(args.get("query"))
        found = [
            v
            for v in self.state.variants.values()
            if matches(
                groups,
                {
                    "id": v.id,
                    "sku": v.sku,
                    "product_id": v.product_id,
                    "title": v.title,
                    "updated_at": v.updated_at,
                    "inventory_item_id": v.inventory_item_id,
                },
            )
        ]
        return connection(found, self.variant, lambda v: (v.id,), args)

    def _orders(self, info: GraphQLResolveInfo[Any], **args: Any) -> Node:
        groups = parse_search(args.get("query"))
        found = [o for o in self.state.orders.values() if matches(groups, self._order_fields(o))]
        sort = args.get("sortKey") or "PROCESSED_AT"
        keys: dict[str, Callable[[Order], tuple[Any, ...]]] = {
            "UPDATED_AT": lambda o: (graphql_time(o.updated_at), o.id),
            "CREATED_AT": lambda o: (graphql_time(o.created_at), o.id),
            "PROCESSED_AT": lambda o: (graphql_time(o.created_at), o.id),
            "ORDER_NUMBER": lambda o: (o.number, o.id),
        }
        return connection(found, self.order, keys.get(sort, lambda o: (o.id,)), args)

    @staticmethod
    def _order_fields(order: Order) -> dict[str, Any]:
        status = "cancelled" if order.cancelled_at else ("closed" if order.closed_at else "open")
        return {
            "id": order.id,
            "name": order.name,
            "created_at": order.created_at,
            "updated_at": order.updated_at,
            "processed_at": order.created_at,
            "status": status,
            "financial_status": order.financial_status,
            "location_id": order.location_id,
        }

    # --- objects -------------------------------------------------------------------------------------------
    def money(self, amount: str | Decimal) -> Node:
        money = {"amount": f"{Decimal(amount):.2f}", "currencyCode": self.currency}
        return {"shopMoney": money, "presentmentMoney": dict(money)}

    def location(self, loc: Location) -> Node:
        return {
            "__typename": "Location",
            "id": gid("Location", loc.id),
            "legacyResourceId": str(loc.id),
            "name": loc.name,
            "isActive": loc.active,
            "fulfillsOnlineOrders": True,
            "shipsInventory": True,
            "hasActiveInventory": True,
            "isFulfillmentService": False,
            "createdAt": graphql_time(loc.created_at),
            "updatedAt": graphql_time(loc.updated_at),
            "address": {"address1": "1 Market St", "city": "San Francisco", "countryCode": "US", "zip": "94105"},
            "inventoryLevels": lambda info, **a: connection(
                [lv for (_, lid), lv in self.state.levels.items() if lid == loc.id],
                self.level,
                lambda lv: (lv.item_id,),
                a,
            ),
            "inventoryLevel": lambda info, inventoryItemId: self._level_at(
                parse_gid(inventoryItemId, "InventoryItem"), loc.id
            ),
        }

    def _level_at(self, item_id: int | None, location_id: int | None) -> Node | None:
        if item_id is None or location_id is None:
            return None
        level = self.state.levels.get((item_id, location_id))
        return self.level(level) if level else None

    def item(self, item: InventoryItem) -> Node:
        return {
            "__typename": "InventoryItem",
            "id": gid("InventoryItem", item.id),
            "legacyResourceId": str(item.id),
            "sku": item.sku,
            "tracked": item.tracked,
            "requiresShipping": True,
            "duplicateSkuCount": 0,
            "createdAt": graphql_time(item.created_at),
            "updatedAt": graphql_time(item.updated_at),
            "variant": lambda info: self.variant(self.state.variants[item.variant_id]),
            "inventoryLevel": lambda info, locationId: self._level_at(item.id, parse_gid(locationId, "Location")),
            "inventoryLevels": lambda info, **a: connection(
                [lv for (iid, _), lv in self.state.levels.items() if iid == item.id],
                self.level,
                lambda lv: (lv.location_id,),
                a,
            ),
        }

    def level(self, level: Level) -> Node:
        return {
            "__typename": "InventoryLevel",
            "id": level_gid(level),
            "createdAt": graphql_time(level.created_at),
            "updatedAt": graphql_time(level.updated_at),
            "canDeactivate": True,
            "item": lambda info: self.item(self.state.items[level.item_id]),
            "location": lambda info: self.location(self.state.locations[level.location_id]),
            "quantities": lambda info, names: [self._quantity(level, n) for n in names],
        }

    def _quantity(self, level: Level, name: str) -> Node:
        # Shopify answers unknown names with an error; known ones it has never stored read as 0.
        if name not in QUANTITY_NAMES:
            raise GraphQLError(f"Invalid quantity name: '{name}'", extensions={"code": "BAD_REQUEST"})
        stamp = level.name_updated_at.get(name) if name != "on_hand" else level.updated_at
        return {
            "id": f"gid://shopify/InventoryQuantity/{level.location_id}?inventory_item_id={level.item_id}&name={name}",
            "name": name,
            "quantity": level.get(name),
            "updatedAt": graphql_time(stamp),
        }

    def variant(self, v: Variant) -> Node:
        return {
            "__typename": "ProductVariant",
            "id": gid("ProductVariant", v.id),
            "legacyResourceId": str(v.id),
            "sku": v.sku,
            "title": v.title,
            "displayName": f"{v.product_title} - {v.title}",
            "price": v.price,
            "barcode": None,
            "inventoryPolicy": "DENY",
            "inventoryQuantity": sum(
                lv.get("available") for (iid, _), lv in self.state.levels.items() if iid == v.inventory_item_id
            ),
            "createdAt": graphql_time(v.created_at),
            "updatedAt": graphql_time(v.updated_at),
            "product": {"__typename": "Product", "id": gid("Product", v.product_id), "title": v.product_title},
            "inventoryItem": lambda info: self.item(self.state.items[v.inventory_item_id]),
        }

    def order(self, o: Order) -> Node:
        cancelled = o.cancelled_at is not None
        fulfilled = sum(li.fulfilled for li in o.line_items)
        total = sum(li.quantity for li in o.line_items)
        fulfillment_status = (
            "FULFILLED" if fulfilled == total else ("PARTIALLY_FULFILLED" if fulfilled else "UNFULFILLED")
        )
        refunded_total = sum(
            (Decimal(self._line(o, rl.line_item_id).price) * rl.quantity for r in o.refunds for rl in r.lines),
            Decimal("0"),
        )
        return {
            "__typename": "Order",
            "id": gid("Order", o.id),
            "legacyResourceId": str(o.id),
            "name": o.name,
            "email": o.email,
            "createdAt": graphql_time(o.created_at),
            "updatedAt": graphql_time(o.updated_at),
            "processedAt": graphql_time(o.created_at),
            "cancelledAt": graphql_time(o.cancelled_at),
            "cancelReason": o.cancel_reason.upper() if o.cancel_reason else None,
            "closed": o.closed_at is not None,
            "closedAt": graphql_time(o.closed_at),
            "confirmed": True,
            "test": False,
            "tags": [],
            "note": None,
            "sourceName": o.source_name,
            "currencyCode": self.currency,
            "displayFinancialStatus": o.financial_status.upper(),
            "displayFulfillmentStatus": fulfillment_status,
            "totalPriceSet": self.money(o.total_price),
            "currentTotalPriceSet": self.money(Decimal(o.total_price) - refunded_total),
            "subtotalPriceSet": self.money(o.total_price),
            "totalRefundedSet": self.money(refunded_total),
            "subtotalLineItemsQuantity": total,
            "currentSubtotalLineItemsQuantity": sum(li.quantity - li.refunded for li in o.line_items),
            "requiresShipping": True,
            "shippingAddress": self.mailing_address(o),
            "lineItems": lambda info, **a: connection(
                o.line_items, lambda li: self.line_item(li, cancelled), lambda li: (li.id,), a
            ),
            "fulfillmentOrders": lambda info, **a: connection(
                o.fulfillment_orders, lambda fo: self.fulfillment_order(o, fo), lambda fo: (fo.id,), a
            ),
            "refunds": lambda info, first=None: [self.refund(o, r) for r in o.refunds][
                : first if first is not None else None
            ],
            "fulfillments": lambda info, first=None, **a: [self.fulfillment(o, f) for f in o.fulfillments][
                : first if first is not None else None
            ],
            **self.returns.order_fields(o),
        }

    @staticmethod
    def mailing_address(o: Order) -> Node | None:
        """The order's ``shippingAddress`` (``MailingAddress``), None when it ships nowhere."""
        a = o.shipping_address
        if a is None:
            return None
        return {
            "__typename": "MailingAddress",
            "id": gid("MailingAddress", o.id),
            "name": a.name,
            "firstName": a.first_name,
            "lastName": a.last_name,
            "company": None,
            "address1": a.address1,
            "address2": a.address2,
            "city": a.city,
            "provinceCode": a.province_code,
            "zip": a.zip,
            "countryCodeV2": a.country_code,
            "phone": a.phone,
            "latitude": a.latitude,
            "longitude": a.longitude,
        }

    @staticmethod
    def _line(order: Order, line_item_id: int) -> LineItem:
        return next(li for li in order.line_items if li.id == line_item_id)

    def line_item(self, li: LineItem, cancelled: bool = False) -> Node:
        unfulfilled = 0 if cancelled else li.open_quantity
        return {
            "__typename": "LineItem",
            "id": gid("LineItem", li.id),
            "sku": li.sku,
            "name": li.title,
            "title": li.title,
            "quantity": li.quantity,
            "currentQuantity": li.quantity - li.refunded,
            "unfulfilledQuantity": unfulfilled,
            "refundableQuantity": li.quantity - li.refunded,
            "nonFulfillableQuantity": li.quantity - li.open_quantity - li.fulfilled,
            "requiresShipping": True,
            "restockable": True,
            "isGiftCard": False,
            "taxable": True,
            "variantTitle": None,
            "originalUnitPriceSet": self.money(li.price),
            "discountedUnitPriceSet": self.money(li.price),
            "originalTotalSet": self.money(Decimal(li.price) * li.quantity),
            "variant": lambda info: self.variant(self.state.variants[li.variant_id]),
            "product": {"__typename": "Product", "id": gid("Product", li.product_id), "title": li.title},
        }

    def fulfillment_order(self, o: Order, fo: FulfillmentOrder) -> Node:
        location = self.state.locations[fo.location_id]
        return {
            "__typename": "FulfillmentOrder",
            "id": gid("FulfillmentOrder", fo.id),
            "status": fulfillment_order_status(o, fo),
            "requestStatus": fo.request_status,
            "orderId": gid("Order", o.id),
            "orderName": o.name,
            "createdAt": graphql_time(fo.created_at),
            "updatedAt": graphql_time(fo.updated_at),
            "orderProcessedAt": graphql_time(o.created_at),
            "fulfillAt": graphql_time(fo.created_at),
            "fulfillBy": None,
            "supportedActions": [{"action": action, "externalUrl": None} for action in supported_actions(o, fo)],
            "fulfillmentHolds": [self.fulfillment_hold(hold) for hold in fo.holds],
            "deliveryMethod": {
                "__typename": "DeliveryMethod",
                "id": gid("DeliveryMethod", fo.id),
                "methodType": fo.delivery_method,
                "presentedName": "Pickup in store" if fo.delivery_method == "PICK_UP" else "Standard",
            },
            "assignedLocation": {
                "name": location.name,
                "countryCode": "US",
                "location": lambda info: self.location(location),
            },
            "order": lambda info: self.order(o),
            "lineItems": lambda info, **a: connection(
                [line for line in fo.lines if line.total > 0],
                lambda line: self.fo_line_item(o, line),
                lambda line: (line.id,),
                a,
            ),
            "locationsForMove": lambda info, **a: self._locations_for_move(o, fo, a),
            "fulfillments": lambda info, **a: connection(
                [f for f in o.fulfillments if fo.id in f.fulfillment_order_ids],
                lambda f: self.fulfillment(o, f),
                lambda f: (f.id,),
                a,
            ),
        }

    @staticmethod
    def fulfillment_hold(hold: FulfillmentHold) -> Node:
        return {
            "__typename": "FulfillmentHold",
            "id": gid("FulfillmentHold", hold.id),
            "handle": hold.handle,
            "reason": hold.reason,
            "reasonNotes": hold.reason_notes,
            "displayReason": hold.reason.replace("_", " ").capitalize(),
            "heldByRequestingApp": True,
            "heldByApp": None,
        }

    def _locations_for_move(self, o: Order, fo: FulfillmentOrder, args: dict[str, Any]) -> Node:
        """``FulfillmentOrder.locationsForMove``: every active location (the current one too, not movable), with
        whether the asked line items (``lineItemIds``: fulfillment order line ids; default all) can move there."""
        desk = FulfillmentOrderDesk(self.state)
        wanted = {parse_gid(x, "FulfillmentOrderLineItem") for x in args.get("lineItemIds") or ()}
        line_ids = [line.id for line in fo.lines if line.id in wanted]
        only = {parse_gid(x, "Location") for x in args.get("locationIds") or ()}
        candidates = [loc for loc in self.state.locations.values() if loc.active and (not only or loc.id in only)]
        visible = [line for line in fo.lines if line.remaining and (not wanted or line.id in wanted)]

        def node(loc: Location) -> Node:
            reason = desk.unmovable_reason(o, fo, loc.id, line_ids)
            items = {li.id: li for li in o.line_items}
            stocked = [
                line for line in visible if (items[line.line_item_id].inventory_item_id, loc.id) in self.state.levels
            ]
            unstocked = [line for line in visible if line not in stocked]
            return {
                "location": self.location(loc),
                "movable": not reason,
                "message": reason or None,
                "availableLineItemsCount": {"count": len(stocked), "precision": "EXACT"},
                "unavailableLineItemsCount": {"count": len(unstocked), "precision": "EXACT"},
                "availableLineItems": lambda info, **a: connection(
                    stocked, lambda line: self.fo_line_item(o, line), lambda line: (line.id,), a
                ),
                "unavailableLineItems": lambda info, **a: connection(
                    unstocked, lambda line: self.fo_line_item(o, line), lambda line: (line.id,), a
                ),
            }

        return connection(candidates, node, lambda loc: (loc.id,), args)

    def fulfillment(self, o: Order, f: Fulfillment) -> Node:
        location = self.state.locations[f.location_id]
        tracking = (
            [{"number": f.tracking_number, "company": f.tracking_company, "url": f.tracking_url}]
            if f.tracking_number or f.tracking_company or f.tracking_url
            else []
        )
        return {
            "__typename": "Fulfillment",
            "id": gid("Fulfillment", f.id),
            "legacyResourceId": str(f.id),
            "name": f"{o.name}.{f.number}",
            "status": f.status.upper(),
            "displayStatus": "FULFILLED",
            "createdAt": graphql_time(f.created_at),
            "updatedAt": graphql_time(f.created_at),
            "deliveredAt": None,
            "inTransitAt": None,
            "estimatedDeliveryAt": None,
            "requiresShipping": True,
            "totalQuantity": sum(line.quantity for line in f.lines),
            "service": None,
            "originAddress": None,
            "location": lambda info: self.location(location),
            "order": lambda info: self.order(o),
            "trackingInfo": lambda info, first=None: tracking[: first if first is not None else None],
            "fulfillmentLineItems": lambda info, **a: connection(
                f.lines, lambda line: self.fulfillment_line(o, line), lambda line: (line.id,), a
            ),
            "fulfillmentOrders": lambda info, **a: connection(
                [fo for fo in o.fulfillment_orders if fo.id in f.fulfillment_order_ids],
                lambda fo: self.fulfillment_order(o, fo),
                lambda fo: (fo.id,),
                a,
            ),
            "events": lambda info, **a: connection([], lambda x: x, lambda x: (0,), a),
        }

    def fulfillment_line(self, o: Order, line: FulfillmentLine) -> Node:
        li = self._line(o, line.line_item_id)
        total = self.money(Decimal(li.price) * line.quantity)
        return {
            "__typename": "FulfillmentLineItem",
            "id": gid("FulfillmentLineItem", line.id),
            "quantity": line.quantity,
            "originalTotalSet": total,
            "discountedTotalSet": total,
            "originalTotal": total["shopMoney"]["amount"],
            "discountedTotal": total["shopMoney"]["amount"],
            "lineItem": lambda info: self.line_item(li, o.cancelled_at is not None),
        }

    def fo_line_item(self, o: Order, line: FulfillmentOrderLine) -> Node:
        li = self._line(o, line.line_item_id)
        return {
            "__typename": "FulfillmentOrderLineItem",
            "id": gid("FulfillmentOrderLineItem", line.id),
            "sku": li.sku,
            "productTitle": li.title,
            "totalQuantity": line.total,
            "remainingQuantity": 0 if o.cancelled_at is not None else line.remaining,
            "requiresShipping": True,
            "inventoryItemId": gid("InventoryItem", li.inventory_item_id),
            "lineItem": lambda info: self.line_item(li),
            "variant": lambda info: self.variant(self.state.variants[li.variant_id]),
        }

    def refund(self, o: Order, r: Refund) -> Node:
        total = sum((Decimal(self._line(o, rl.line_item_id).price) * rl.quantity for rl in r.lines), Decimal("0"))
        return {
            "__typename": "Refund",
            "id": gid("Refund", r.id),
            "legacyResourceId": str(r.id),
            "note": r.note,
            "createdAt": graphql_time(r.created_at),
            "updatedAt": graphql_time(r.created_at),
            "totalRefundedSet": self.money(total),
            "order": lambda info: self.order(o),
            "return": (lambda info: self.returns.by_gid(gid("Return", r.return_id))) if r.return_id else None,
            "refundLineItems": lambda info, **a: connection(
                r.lines, lambda rl: self.refund_line(o, rl), lambda rl: (rl.id,), a
            ),
        }

    def refund_line(self, o: Order, rl: RefundLine) -> Node:
        li = self._line(o, rl.line_item_id)
        location = self.state.locations.get(rl.location_id) if rl.location_id else None
        return {
            "id": gid("RefundLineItem", rl.id),
            "quantity": rl.quantity,
            "restockType": rl.restock_type.upper(),
            "restocked": rl.restocked,
            "priceSet": self.money(li.price),
            "subtotalSet": self.money(Decimal(li.price) * rl.quantity),
            "totalTaxSet": self.money("0"),
            "lineItem": lambda info: self.line_item(li, o.cancelled_at is not None),
            "location": (lambda info: self.location(location)) if location else None,
        }

    def adjustment_group(self, group: AdjustmentGroup) -> Node:
        def changes(info: GraphQLResolveInfo[Any], **a: Any) -> list[Node]:
            names = a.get("quantityNames")
            items = {parse_gid(x, "InventoryItem") for x in a.get("inventoryItemIds") or ()}
            locations = {parse_gid(x, "Location") for x in a.get("locationIds") or ()}
            return [
                {
                    "name": c.name,
                    "delta": c.delta,
                    "quantityAfterChange": c.quantity_after,
                    "ledgerDocumentUri": c.ledger_document_uri,
                    "item": lambda info, c=c: self.item(self.state.items[c.item_id]),
                    "location": lambda info, c=c: self.location(self.state.locations[c.location_id]),
                }
                for c in group.changes
                if (not names or c.name in names)
                and (not items or c.item_id in items)
                and (not locations or c.location_id in locations)
            ]

        return {
            "id": gid("InventoryAdjustmentGroup", group.id),
            "createdAt": graphql_time(group.created_at),
            "reason": group.reason,
            "referenceDocumentUri": group.reference_document_uri,
            "app": None,
            "staffMember": None,
            "changes": changes,
        }
