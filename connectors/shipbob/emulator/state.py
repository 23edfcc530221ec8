"""The ShipBob emulator's account: fulfilment centres, products with stock per centre, orders and shipments.

Bodies are built in the shapes of the official 1.0 document (``Order``, ``Shipment``, ``Product``,
``ReceivingFulfillmentCenter``, ``CanceledOrder``); the app checks every answer against it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["DEFAULT_CENTRES", "ApiError", "Centre", "ShipBobState", "format_time"]

DUPLICATE_MESSAGE = "Duplicate reference ID: You have already created a product or order with the same reference_id"


def format_time(moment: datetime) -> str:
    """ShipBob's date-time form: ``2026-12-06T10:15:00+00:00`` (UTC)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class ApiError(Exception):
    """An error answer: ``status`` with ShipBob's ``{"field": ["message"]}`` body (``text`` for a plain one)."""

    def __init__(self, status: int, errors: Mapping[str, list[str]] | None = None, text: str = "") -> None:
        self.status = status
        self.errors = dict(errors or {})
        self.text = text
        super().__init__(text or f"{status} {self.errors}")


@dataclass(frozen=True)
class Centre:
    """A fulfilment centre (``ReceivingFulfillmentCenter``)."""

    id: int
    name: str
    city: str
    state: str
    zip_code: str
    address1: str
    timezone: str = "Central Standard Time"

    def body(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "address1": self.address1,
            "address2": None,
            "city": self.city,
            "state": self.state,
            "country": "USA",
            "zip_code": self.zip_code,
            "phone_number": "555-555-5555",
            "email": "fc@example.com",
            "timezone": self.timezone,
        }


DEFAULT_CENTRES = (
    Centre(6, "Cicero (IL)", "Cicero", "IL", "60804", "5900 W Ogden Ave"),
    Centre(10, "Moreno Valley (CA)", "Moreno Valley", "CA", "92551", "17300 Perris Blvd", "Pacific Standard Time"),
    Centre(28, "Bethlehem (PA)", "Bethlehem", "PA", "18017", "2600 Brodhead Rd", "Eastern Standard Time"),
)


@dataclass
class Product:
    id: int
    reference_id: str
    name: str
    on_hand: dict[int, int] = field(default_factory=dict)


class ShipBobState:
    """One ShipBob user: its channel, centres, products, orders and shipments. ``clock`` gives aware UTC times."""

    def __init__(
        self, centres: tuple[Centre, ...], channel_id: int, channel_name: str, clock: Callable[[], datetime]
    ) -> None:
        self.centres = {centre.id: centre for centre in centres}
        self.channel_id = channel_id
        self.channel_name = channel_name
        self.clock = clock
        self.products: dict[str, Product] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.by_reference: dict[str, int] = {}
        self.updated: dict[int, datetime] = {}
        self.webhooks: dict[int, dict[str, Any]] = {}
        self._ids = {"product": 3000, "order": 100000, "shipment": 500000, "webhook": 12000, "tracking": 0}

    def new_id(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    # -- stock ---------------------------------------------------------------------------------------------

    def product(self, reference_id: str, name: str | None = None) -> Product:
        """The product with ``reference_id``, created (named ``name`` or the reference) when new."""
        found = self.products.get(reference_id)
        if found is None:
            found = Product(self.new_id("product"), reference_id, name or reference_id)
            self.products[reference_id] = found
        return found

    def set_stock(self, reference_id: str, centre_id: int, on_hand: int) -> None:
        """Set the on-hand quantity of a product at a centre (what the warehouse counted)."""
        if centre_id not in self.centres:
            raise KeyError(f"no fulfilment centre {centre_id}; expected one of {sorted(self.centres)}")
        if on_hand < 0:
            raise ValueError(f"on_hand must be >= 0, got {on_hand}")
        self.product(reference_id).on_hand[centre_id] = on_hand

    def committed(self, reference_id: str, centre_id: int) -> int:
        """Units of open (unshipped, uncancelled) shipments at ``centre_id``."""
        total = 0
        for order in self.orders.values():
            for shipment in order["shipments"]:
                if shipment["status"] != "Processing" or shipment["location"]["id"] != centre_id:
                    continue
                for product in shipment["products"]:
                    if product["reference_id"] == reference_id:
                        total += sum(item["quantity"] for item in product["inventory_items"])
        return total

    def fulfillable(self, reference_id: str, centre_id: int) -> int:
        product = self.products.get(reference_id)
        on_hand = product.on_hand.get(centre_id, 0) if product else 0
        return max(0, on_hand - self.committed(reference_id, centre_id))

    def product_body(self, product: Product) -> dict[str, Any]:
        rows = []
        for centre_id in sorted(product.on_hand):
            committed = self.committed(product.reference_id, centre_id)
            on_hand = product.on_hand[centre_id]
            rows.append(
                {
                    "id": centre_id,
                    "name": self.centres[centre_id].name,
                    "onhand_quantity": on_hand,
                    "committed_quantity": committed,
                    "fulfillable_quantity": max(0, on_hand - committed),
                }
            )
        return {
            "id": product.id,
            "reference_id": product.reference_id,
            "sku": product.reference_id,
            "name": product.name,
            "barcode": None,
            "gtin": None,
            "upc": None,
            "unit_price": None,
            "created_date": None,
            "channel": {"id": self.channel_id, "name": self.channel_name},
            "fulfillable_inventory_items": [{"id": product.id + 70000, "name": product.name, "quantity": 1}],
            "fulfillable_quantity_by_fulfillment_center": rows,
            "total_onhand_quantity": sum(r["onhand_quantity"] for r in rows),
            "total_committed_quantity": sum(r["committed_quantity"] for r in rows),
            "total_fulfillable_quantity": sum(r["fulfillable_quantity"] for r in rows),
        }

    # -- orders --------------------------------------------------------------------------------------------

    def create_order(self, body: Mapping[str, Any], channel_id: int) -> dict[str, Any]:
        """``POST /1.0/order`` (the body already matches ``CreateOrder``)."""
        reference = str(body["reference_id"])
        if reference in self.by_reference:
            raise ApiError(422, {"reference_id": [DUPLICATE_MESSAGE]})
        order_type = body.get("type") or "DTC"
        if order_type != "DTC" and not body.get("retailer_program_data"):
            raise ApiError(422, {"retailer_program_data": [f"retailer_program_data is required for {order_type}"]})
        centre_id = body.get("location_id")
        if centre_id is not None and centre_id not in self.centres:
            raise ApiError(422, {"location_id": [f"Location {centre_id} is not a fulfillment center of this user"]})
        if centre_id is None:
            centre_id = min(self.centres)  # ShipBob determines the location
        products = []
        for index, line in enumerate(body["products"]):
            if "reference_id" not in line:
                raise ApiError(422, {f"products[{index}].id": ["Products by ShipBob id are not emulated"]})
            known = line["reference_id"] in self.products
            if not known and not line.get("name"):
                raise ApiError(
                    422, {f"products[{index}].name": ["Name is required when no product has this reference_id"]}
                )
            product = self.product(line["reference_id"], line.get("name"))
            products.append(
                {
                    "id": product.id,
                    "reference_id": product.reference_id,
                    "sku": product.reference_id,
                    "quantity": line["quantity"],
                    "external_line_id": line.get("external_line_id"),
                    "unit_price": line.get("unit_price"),
                }
            )
        now = self.clock()
        order_id = self.new_id("order")
        centre = self.centres[centre_id]
        shipment = {
            "id": self.new_id("shipment"),
            "order_id": order_id,
            "reference_id": reference,
            "created_date": format_time(now),
            "last_update_at": format_time(now),
            "status": "Processing",
            "location": {"id": centre.id, "name": centre.name},
            "recipient": copy.deepcopy(body["recipient"]),
            "ship_option": body["shipping_method"],
            "products": [
                {
                    "id": p["id"],
                    "reference_id": p["reference_id"],
                    "sku": p["sku"],
                    "name": self.products[p["reference_id"]].name,
                    "inventory_items": [
                        {
                            "id": p["id"] + 70000,
                            "name": self.products[p["reference_id"]].name,
                            "quantity": p["quantity"],
                            "quantity_committed": p["quantity"],
                        }
                    ],
                }
                for p in products
            ],
        }
        order = {
            "id": order_id,
            "reference_id": reference,
            "order_number": body.get("order_number") or reference,
            "created_date": format_time(now),
            "purchase_date": body.get("purchase_date"),
            "channel": {"id": channel_id, "name": self.channel_name},
            "recipient": copy.deepcopy(body["recipient"]),
            "products": products,
            "tags": copy.deepcopy(body.get("tags") or []),
            "shipping_method": body["shipping_method"],
            "type": order_type,
            "status": "Processing",
            "shipments": [shipment],
        }
        self.orders[order_id] = order
        self.by_reference[reference] = order_id
        self.updated[order_id] = now
        return order

    def order(self, order_id: int) -> dict[str, Any]:
        found = self.orders.get(order_id)
        if found is None:
            raise ApiError(404, {"orderId": [f"Order {order_id} not found"]})
        return found

    def find(self, ref: str | int) -> dict[str, Any]:
        """An order by id or reference_id (control routes accept either)."""
        if isinstance(ref, int) or (str(ref).isdigit() and int(ref) in self.orders):
            return self.order(int(ref))
        order_id = self.by_reference.get(str(ref))
        if order_id is None:
            raise KeyError(f"no order with id or reference_id {ref!r}")
        return self.orders[order_id]

    def ship(self, ref: str | int, carrier: str = "USPS") -> dict[str, Any]:
        """The warehouse ships the order's open shipment: tracking, on-hand decremented. Returns the shipment."""
        order = self.find(ref)
        open_ones = [s for s in order["shipments"] if s["status"] == "Processing"]
        if not open_ones:
            raise ValueError(f"order {order['id']} has no shipment to ship (status {order['status']})")
        shipment = open_ones[0]
        now = self.clock()
        number = f"9400{self.new_id('tracking'):018d}"
        for product in shipment["products"]:
            stocked = self.products[product["reference_id"]].on_hand
            centre = shipment["location"]["id"]
            quantity = sum(item["quantity"] for item in product["inventory_items"])
            stocked[centre] = max(0, stocked.get(centre, 0) - quantity)
        shipment.update(
            status="Completed",
            actual_fulfillment_date=format_time(now),
            last_update_at=format_time(now),
            last_tracking_update_at=format_time(now),
            tracking={
                "carrier": carrier,
                "carrier_service": "Ground Advantage",
                "tracking_number": number,
                "tracking_url": f"https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
                "shipping_date": format_time(now),
            },
        )
        order["status"] = "Fulfilled"
        self.updated[order["id"]] = now
        shipped: dict[str, Any] = shipment
        return shipped

    def cancel(self, ref: str | int) -> dict[str, Any]:
        """Cancel the order and its unshipped shipments; returns the ``CanceledOrder`` answer."""
        order = self.find(ref)
        if order["status"] in ("Fulfilled", "PartiallyFulfilled"):
            raise ApiError(422, {"orderId": [f"Order {order['id']} has shipped and cannot be cancelled"]})
        now = self.clock()
        results = []
        for shipment in order["shipments"]:
            if shipment["status"] == "Processing":
                shipment.update(status="Cancelled", last_update_at=format_time(now))
            results.append(
                {"shipment_id": shipment["id"], "action": "Cancel", "is_success": True, "reason": "Cancelled"}
            )
        order["status"] = "Cancelled"
        self.updated[order["id"]] = now
        return {"order_id": order["id"], "order": order, "status": "Success", "canceled_shipment_results": results}
