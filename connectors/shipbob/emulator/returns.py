"""Return orders in the ShipBob emulator (``ReturnOrder`` of the 1.0 document).

A return names a fulfilment centre, the shipment it returns (``original_shipment_id``) and inventory items (by
inventory id: a product's id + 70000, as its ``fulfillable_inventory_items`` show) each with the action requested
(Default, Restock, Quarantine, Dispose). Lifecycle: AwaitingArrival → Arrived → Completed (processed: each item's
``action_taken``; Restock puts the units back on hand at the centre), or Cancelled before it is processed.
``GET /1.0/return`` filters by ``IDs``, ``ReferenceIds``, ``Status``, ``FulfillmentCenterIds``,
``OriginalShipmentIds``, ``StartDate``/``EndDate`` (insert date), pages with ``Page``/``Limit``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.shipbob.emulator.state import ApiError, ShipBobState, format_time
from connectors.shipbob.mapper import parse_time

__all__ = ["INVENTORY_OFFSET", "ReturnBook"]

INVENTORY_OFFSET = 70000
ACTIONS = ("Default", "Restock", "Quarantine", "Dispose")


class ReturnBook:
    """The account's return orders, by id."""

    def __init__(self, state: ShipBobState) -> None:
        self.state = state
        self.returns: dict[int, dict[str, Any]] = {}
        self._ids = 700000

    def shipment(self, shipment_id: int) -> dict[str, Any]:
        """``GET /1.0/shipment/{id}``: the shipment with that id (404 when none)."""
        for order in self.state.orders.values():
            for shipment in order["shipments"]:
                if shipment["id"] == shipment_id:
                    found: dict[str, Any] = shipment
                    return found
        raise ApiError(404, {"shipmentId": [f"Shipment {shipment_id} not found"]})

    def _product_of(self, inventory_id: int) -> str:
        for product in self.state.products.values():
            if product.id + INVENTORY_OFFSET == inventory_id:
                return product.reference_id
        raise ApiError(422, {"inventory": [f"Inventory {inventory_id} not found"]})

    def create(self, body: Mapping[str, Any], channel_id: int) -> dict[str, Any]:
        """``POST /1.0/return`` (the body already matches ``CreateReturn``)."""
        reference = body.get("reference_id")
        if any(r["reference_id"] == reference for r in self.returns.values()):
            raise ApiError(422, {"reference_id": [f"A return with reference_id {reference} already exists"]})
        centre_id = body["fulfillment_center"]["id"]
        if centre_id not in self.state.centres:
            raise ApiError(422, {"fulfillment_center.id": [f"Fulfillment center {centre_id} not found"]})
        shipment_id = body.get("original_shipment_id")
        order = None
        if isinstance(shipment_id, int):
            order = self.state.order(self.shipment(shipment_id)["order_id"])
        items = []
        for item in body["inventory"] or []:
            sku = self._product_of(item["id"])
            items.append((sku, int(item["quantity"]), str(item.get("requested_action") or "Default")))
        created = self._new(centre_id, items, reference, body.get("tracking_number"), shipment_id, order)
        created["channel"] = {"id": channel_id, "name": self.state.channel_name}
        return created

    def seed(
        self,
        order_ref: str | int,
        items: Sequence[tuple[str, int, str]] | None = None,
        *,
        centre_id: int | None = None,
        reference_id: str | None = None,
        tracking_number: str | None = None,
    ) -> dict[str, Any]:
        """A customer's return of a shipped order (by id or reference_id): ``items`` of ``(sku, quantity,
        requested action)`` (default: every shipped unit, Default), to ``centre_id`` (default: where it shipped)."""
        order = self.state.find(order_ref)
        shipped = [s for s in order["shipments"] if s["status"] == "Completed"]
        if not shipped:
            raise ValueError(f"order {order['id']} has not shipped: nothing to return")
        shipment = shipped[0]
        if items is None:
            items = [
                (p["reference_id"], sum(i["quantity"] for i in p["inventory_items"]), "Default")
                for p in shipment["products"]
            ]
        for _, quantity, action in items:
            if action not in ACTIONS or quantity < 1:
                raise ValueError(f"expected a quantity >= 1 and an action in {ACTIONS}, got {quantity}, {action!r}")
        centre = centre_id if centre_id is not None else shipment["location"]["id"]
        reference = reference_id or f"RMA-{order['reference_id']}-{len(self.returns) + 1}"
        created = self._new(centre, list(items), reference, tracking_number, shipment["id"], order)
        created["channel"] = {"id": order["channel"]["id"], "name": order["channel"]["name"]}
        return created

    def _new(
        self,
        centre_id: int,
        items: Sequence[tuple[str, int, str]],
        reference: Any,
        tracking: Any,
        shipment_id: Any,
        order: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        self._ids += 1
        centre = self.state.centres[centre_id]
        ret: dict[str, Any] = {
            "id": self._ids,
            "reference_id": reference,
            "status": "AwaitingArrival",
            "return_type": "Regular",
            "channel": None,
            "fulfillment_center": {"id": centre.id, "name": centre.name},
            "insert_date": format_time(self.state.clock()),
            "completed_date": None,
            "customer_name": (order or {}).get("recipient", {}).get("name"),
            "original_shipment_id": shipment_id,
            "store_order_id": (order or {}).get("order_number"),
            "tracking_number": tracking,
            "invoice_amount": 0.0,
            "transactions": [],
            "inventory": [
                {
                    "id": self.state.products[sku].id + INVENTORY_OFFSET,
                    "name": self.state.products[sku].name,
                    "quantity": quantity,
                    "action_requested": {"action": action, "action_type": "Override", "instructions": None},
                    "action_taken": [],
                }
                for sku, quantity, action in items
            ],
        }
        self.returns[ret["id"]] = ret
        return ret

    def get(self, return_id: int) -> dict[str, Any]:
        found = self.returns.get(return_id)
        if found is None:
            raise ApiError(404, {"id": [f"Return {return_id} not found"]})
        return found

    def arrive(self, return_id: int) -> dict[str, Any]:
        ret = self.get(return_id)
        if ret["status"] != "AwaitingArrival":
            raise ValueError(f"return {return_id} is {ret['status']}, not AwaitingArrival")
        ret["status"] = "Arrived"
        return ret

    def process(self, return_id: int, taken: Mapping[str, Sequence[tuple[str, int]]] | None = None) -> dict[str, Any]:
        """ShipBob processes the return: each item's ``taken`` ``[(action, quantity)]`` by SKU (default: the
        requested action, Default meaning Restock, for every unit); Restock puts units back on hand."""
        ret = self.get(return_id)
        if ret["status"] in ("Completed", "Cancelled"):
            raise ValueError(f"return {return_id} is already {ret['status']}")
        centre = ret["fulfillment_center"]["id"]
        for item in ret["inventory"]:
            sku = self._product_of(item["id"])
            requested = item["action_requested"]["action"]
            actions = (taken or {}).get(sku) or [(requested if requested != "Default" else "Restock", item["quantity"])]
            if sum(q for _, q in actions) > item["quantity"]:
                raise ValueError(f"more than the {item['quantity']} units of {sku} in return {return_id}")
            item["action_taken"] = []
            for action, quantity in actions:
                if action not in ACTIONS[1:] or quantity < 1:
                    raise ValueError(f"expected an action in {ACTIONS[1:]} and quantity >= 1, got {action!r}")
                item["action_taken"].append(
                    {"action": action, "action_reason": f"{action} by warehouse", "quantity_processed": quantity}
                )
                if action == "Restock":
                    stocked = self.state.products[sku].on_hand
                    stocked[centre] = stocked.get(centre, 0) + quantity
        ret.update(status="Completed", completed_date=format_time(self.state.clock()))
        return ret

    def cancel(self, return_id: int) -> dict[str, Any]:
        ret = self.get(return_id)
        if ret["status"] not in ("AwaitingArrival", "Arrived"):
            raise ApiError(422, {"id": [f"Return {return_id} is {ret['status']} and cannot be cancelled"]})
        ret["status"] = "Cancelled"
        return ret

    def listed(self, query: Mapping[str, str]) -> list[dict[str, Any]]:
        """Returns matching ``GET /1.0/return``'s filters (names compared case-insensitively)."""
        q = {k.lower(): v for k, v in query.items()}

        def wanted(name: str) -> set[str] | None:
            raw = q.get(name)
            return {part for part in raw.split(",") if part} if raw else None

        ids, refs, statuses = wanted("ids"), wanted("referenceids"), wanted("status")
        centres, shipments = wanted("fulfillmentcenterids"), wanted("originalshipmentids")
        start, end = q.get("startdate"), q.get("enddate")
        since, until = parse_time(start) if start else None, parse_time(end) if end else None
        found = []
        for ret in self.returns.values():
            inserted = parse_time(ret["insert_date"])
            if (
                (ids is None or str(ret["id"]) in ids)
                and (refs is None or str(ret["reference_id"]) in refs)
                and (statuses is None or ret["status"] in statuses)
                and (centres is None or str(ret["fulfillment_center"]["id"]) in centres)
                and (shipments is None or str(ret["original_shipment_id"]) in shipments)
                and (since is None or (inserted is not None and inserted >= since))
                and (until is None or (inserted is not None and inserted <= until))
            ):
                found.append(ret)
        found.sort(key=lambda r: r["id"], reverse=q.get("sortorder", "Newest") == "Newest")
        return found
