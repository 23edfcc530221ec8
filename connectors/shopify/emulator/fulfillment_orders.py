"""What Shopify does to fulfillment orders: status, supported actions, holds, moves, reroutes (fulfilment-contracts A1).

Pure state changes on :class:`~connectors.shopify.emulator.state.ShopState`, no GraphQL: each refusal is a
:class:`FulfillmentOrderError` with a user-error ``code`` (None where the vendor's enum has none) and a message.
The messages are the emulator's wording (Shopify documents the cases, not the sentences); clients must not match
on them. Modelled:

* every order starts with one fulfillment order at its checkout location (Shopify's own routing);
* holds stack (handle unique per fulfillment order, at most 10 per app, one app here); a held fulfillment order is
  ``ON_HOLD`` and cannot be fulfilled; only whole-order holds (a hold on some line items is not modelled);
* a move of every remaining unit of a fulfillment order that shipped nothing relocates it (same id); a partial move
  creates a new fulfillment order at the destination; when the order already has an open fulfillment order there,
  that one is closed and its lines are recreated with the moved ones in a new fulfillment order (Shopify's
  documented merge). Committed units follow: committed and available move between the two levels;
* a move is refused for a closed or cancelled fulfillment order, a request status that gives it to a fulfillment
  service (SUBMITTED, ACCEPTED, CANCELLATION_REQUESTED, CANCELLATION_REJECTED), the same location, or a destination
  that never stocked an item (no inventory level there);
* a reroute (2025-10+) sends fulfillment orders of one order and one location to the first active location (lowest
  id: the emulator's "order routing settings") other than their own, not excluded (and included, when given), that
  stocks every item with enough available.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from connectors.shopify.emulator.state import (
    FulfillmentHold,
    FulfillmentOrder,
    FulfillmentOrderLine,
    Level,
    Order,
    ShopState,
)

__all__ = [
    "MAX_HOLDS",
    "FulfillmentOrderDesk",
    "FulfillmentOrderError",
    "MoveOutcome",
    "fulfillment_order_status",
    "supported_actions",
]

MAX_HOLDS = 10
"""Active holds one app may place on one fulfillment order."""
SERVICE_STATUSES = frozenset({"SUBMITTED", "ACCEPTED", "CANCELLATION_REQUESTED", "CANCELLATION_REJECTED"})
REQUEST_STATUSES = frozenset({"UNSUBMITTED", "REJECTED", "CLOSED", "CANCELLATION_ACCEPTED", *SERVICE_STATUSES})


class FulfillmentOrderError(ValueError):
    """A refusal Shopify answers with a user error."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def fulfillment_order_status(order: Order, fo: FulfillmentOrder) -> str:
    """``FulfillmentOrderStatus`` of ``fo``."""
    if fo.closed:
        return "CLOSED"
    if fo.remaining == 0:
        return "CLOSED" if fo.fulfilled else "CANCELLED"
    if order.cancelled_at is not None:
        return "CANCELLED"
    if fo.holds:
        return "ON_HOLD"
    return "IN_PROGRESS" if fo.fulfilled or fo.prepared else "OPEN"


def supported_actions(order: Order, fo: FulfillmentOrder) -> list[str]:
    """``FulfillmentOrderAction`` values Shopify offers on ``fo`` (for a merchant-managed location)."""
    status = fulfillment_order_status(order, fo)
    if status in ("CLOSED", "CANCELLED"):
        return []
    if fo.request_status in SERVICE_STATUSES:
        return ["REQUEST_CANCELLATION"] if fo.request_status in ("SUBMITTED", "ACCEPTED") else []
    if status == "ON_HOLD":
        return ["RELEASE_HOLD", "HOLD", "MOVE"]
    return ["CREATE_FULFILLMENT", "HOLD", "MOVE"]


@dataclass(frozen=True)
class MoveOutcome:
    """What a move left: the fulfillment order holding the moved units, the original one, the levels changed and
    the location the units left."""

    moved: FulfillmentOrder
    original: FulfillmentOrder
    levels: list[Level]
    source: int


class FulfillmentOrderDesk:
    """Holds, moves and reroutes on the fulfillment orders of one shop."""

    def __init__(self, state: ShopState) -> None:
        self.state = state

    def find(self, fulfillment_order_id: int | None) -> tuple[Order, FulfillmentOrder]:
        found = self.state.fulfillment_order(fulfillment_order_id) if fulfillment_order_id is not None else None
        if found is None:
            raise FulfillmentOrderError("Fulfillment order does not exist.", "FULFILLMENT_ORDER_NOT_FOUND")
        return found

    # --- holds -----------------------------------------------------------------------------------------------
    def hold(self, order: Order, fo: FulfillmentOrder, reason: str, handle: str, notes: str | None) -> FulfillmentHold:
        if fulfillment_order_status(order, fo) in ("CLOSED", "CANCELLED"):
            raise FulfillmentOrderError("The fulfillment order cannot be put on hold: it is closed.")
        if any(h.handle == handle for h in fo.holds):
            raise FulfillmentOrderError(
                f"A fulfillment hold with the handle '{handle}' already exists.", "DUPLICATE_FULFILLMENT_HOLD_HANDLE"
            )
        if len(fo.holds) >= MAX_HOLDS:
            raise FulfillmentOrderError(
                f"The maximum number of fulfillment holds ({MAX_HOLDS}) has been reached.",
                "FULFILLMENT_ORDER_HOLD_LIMIT_REACHED",
            )
        hold = FulfillmentHold(self.state.next_id("FulfillmentHold"), handle, reason, notes)
        fo.holds.append(hold)
        fo.updated_at = self.state.clock()
        return hold

    def release(self, fo: FulfillmentOrder, hold_ids: Sequence[int] | None) -> None:
        """Release the given holds of this app (all of them when ``hold_ids`` is None); unknown ids are ignored."""
        wanted = None if hold_ids is None else set(hold_ids)
        fo.holds = [h for h in fo.holds if wanted is not None and h.id not in wanted]
        fo.updated_at = self.state.clock()

    # --- moves -----------------------------------------------------------------------------------------------
    def unmovable_reason(self, order: Order, fo: FulfillmentOrder, location_id: int, line_ids: Sequence[int]) -> str:
        """Why ``fo``'s lines ``line_ids`` (fulfillment order line ids; empty: all) cannot go to the location, or ''."""
        location = self.state.locations.get(location_id)
        if location is None or not location.active:
            return "The location is not active."
        if location_id == fo.location_id:
            return "Current location."
        if fulfillment_order_status(order, fo) in ("CLOSED", "CANCELLED"):
            return "The fulfillment order is closed."
        if fo.request_status in SERVICE_STATUSES:
            return (
                f"The fulfillment order's request status is {fo.request_status}: a fulfillment service must accept "
                "a cancellation request before it can move."
            )
        items = {li.id: li for li in order.line_items}
        for line in fo.lines:
            if line_ids and line.id not in line_ids:
                continue
            li = items[line.line_item_id]
            if (li.inventory_item_id, location_id) not in self.state.levels:
                return f"{location.name} has never stocked {li.sku}."
        return ""

    def move(self, order: Order, fo: FulfillmentOrder, location_id: int, items: dict[int, int] | None) -> MoveOutcome:
        """Move ``items`` (fulfillment order line id → units; None: every remaining unit) to ``location_id``."""
        reason = self.unmovable_reason(order, fo, location_id, list(items or ()))
        if reason:
            raise FulfillmentOrderError(reason)
        lines = {line.id: line for line in fo.lines}
        wanted = items if items is not None else {line.id: line.remaining for line in fo.lines if line.remaining}
        for line_id, quantity in wanted.items():
            line = lines.get(line_id)
            if line is None:
                raise FulfillmentOrderError("Invalid fulfillment order line item id.")
            if quantity <= 0 or quantity > line.remaining:
                raise FulfillmentOrderError("Invalid fulfillment order line item quantity requested.")
        if not wanted:
            raise FulfillmentOrderError("The fulfillment order has nothing left to move.")
        now = self.state.clock()
        source = fo.location_id
        units = {lines[k].line_item_id: v for k, v in wanted.items()}
        levels = self._move_committed(order, fo.location_id, location_id, units)
        whole = fo.fulfilled == 0 and all(wanted.get(line.id, 0) == line.remaining for line in fo.lines)
        existing = next(
            (
                other
                for other in order.fulfillment_orders
                if other is not fo and other.location_id == location_id and not other.closed and other.remaining
            ),
            None,
        )
        fo.updated_at = now
        order.updated_at = now
        if whole and existing is None:  # the same fulfillment order, relocated
            fo.location_id = location_id
            return MoveOutcome(fo, fo, levels, source)
        for line_id, quantity in wanted.items():
            lines[line_id].total -= quantity
            lines[line_id].remaining -= quantity
        moved_lines = list(units.items())
        if existing is not None:
            # Shopify: the fulfillment order already there is closed and its lines are recreated, with the moved
            # ones, in a new fulfillment order.
            kept = [(line.line_item_id, line.remaining) for line in existing.lines if line.remaining]
            for line in existing.lines:
                line.total -= line.remaining
                line.remaining = 0
            existing.closed = True
            existing.holds = []
            existing.updated_at = now
            moved_lines = [*kept, *moved_lines]
        moved = self._new_fo(order, location_id, moved_lines)
        moved.delivery_method = fo.delivery_method  # a pickup moved to another store is still a pickup
        if fo.remaining == 0 and fo.fulfilled == 0:
            fo.closed = True
            fo.holds = []
        return MoveOutcome(moved, fo, levels, source)

    def _new_fo(self, order: Order, location_id: int, lines: list[tuple[int, int]]) -> FulfillmentOrder:
        now = self.state.clock()
        merged: dict[int, int] = {}
        for line_item_id, quantity in lines:
            merged[line_item_id] = merged.get(line_item_id, 0) + quantity
        fo_lines = [
            FulfillmentOrderLine(self.state.next_id("FulfillmentOrderLineItem"), line_item_id, quantity, quantity)
            for line_item_id, quantity in merged.items()
        ]
        fo = FulfillmentOrder(self.state.next_id("FulfillmentOrder"), order.id, location_id, now, now, fo_lines)
        order.fulfillment_orders.append(fo)
        order.updated_at = now
        return fo

    def _move_committed(self, order: Order, source: int, target: int, units: dict[int, int]) -> list[Level]:
        items = {li.id: li for li in order.line_items}
        changed: list[Level] = []
        for line_item_id, quantity in units.items():
            item_id = items[line_item_id].inventory_item_id
            old, new = self.state.levels[(item_id, source)], self.state.levels[(item_id, target)]
            self.state.change(old, "committed", -quantity)
            self.state.change(old, "available", quantity)
            self.state.change(new, "available", -quantity)
            self.state.change(new, "committed", quantity)
            changed.extend((old, new))
        return changed

    # --- reroute ---------------------------------------------------------------------------------------------
    def reroute(
        self, ids: Sequence[int | None], included: Sequence[int] | None, excluded: Sequence[int] | None
    ) -> list[MoveOutcome]:
        """``fulfillmentOrdersReroute``: every fulfillment order to the best other location (see the module doc)."""
        if not ids:
            raise FulfillmentOrderError("No fulfillment order ids were given.", "NO_FULFILLMENT_ORDER_IDS")
        found = [self.find(numeric) for numeric in ids]
        if len({order.id for order, _ in found}) > 1:
            raise FulfillmentOrderError(
                "The fulfillment orders must belong to the same order.", "FULFILLMENT_ORDERS_NOT_FROM_THE_SAME_ORDER"
            )
        if len({fo.location_id for _, fo in found}) > 1:
            raise FulfillmentOrderError(
                "The fulfillment orders must be assigned to the same location.",
                "FULFILLMENT_ORDERS_MUST_BELONG_TO_SAME_LOCATION",
            )
        if sum(1 for loc in self.state.locations.values() if loc.active) < 2:
            raise FulfillmentOrderError("The shop has a single location.", "SINGLE_LOCATION_SHOP_NOT_SUPPORTED")
        order = found[0][0]
        for _, fo in found:
            if "MOVE" not in supported_actions(order, fo):
                raise FulfillmentOrderError(
                    f"Fulfillment order {fo.id} cannot be rerouted in its state.",
                    "FULFILLMENT_ORDERS_STATE_NOT_SUPPORTED",
                )
            if fo.fulfilled:
                raise FulfillmentOrderError(
                    "A fulfillment order with reported progress cannot be rerouted.",
                    "CANNOT_MOVE_FULFILLMENT_ORDER_WITH_REPORTED_PROGRESS",
                )
        target = self._best_location(order, [fo for _, fo in found], included, set(excluded or ()))
        if target is None:
            raise FulfillmentOrderError(
                "No other location can fulfill the fulfillment orders.",
                "CANNOT_REASSIGN_LOCATION_FOR_FULFILLMENT_ORDERS",
            )
        return [self.move(order, fo, target, None) for _, fo in found]

    def _best_location(
        self, order: Order, fos: list[FulfillmentOrder], included: Sequence[int] | None, excluded: set[int]
    ) -> int | None:
        items = {li.id: li.inventory_item_id for li in order.line_items}
        need: dict[int, int] = {}
        for fo in fos:
            for line in fo.lines:
                need[items[line.line_item_id]] = need.get(items[line.line_item_id], 0) + line.remaining
        for location in sorted(self.state.locations.values(), key=lambda loc: loc.id):
            if not location.active or location.id == fos[0].location_id or location.id in excluded:
                continue
            if included and location.id not in included:
                continue
            levels = [self.state.levels.get((item_id, location.id)) for item_id in need]
            if all(lv is not None and lv.get("available") >= need[lv.item_id] for lv in levels):
                return location.id
        return None
