"""What Shopify decides about returns, on the emulated shop's state (the GraphQL payloads are built elsewhere).

See :mod:`connectors.shopify.emulator.return_state` for the lifecycle. Quantities: a fulfillment line item may be
in active returns (REQUESTED, OPEN, CLOSED) for at most its fulfilled units; a return line is processed at most
for its quantity; a reverse fulfillment order line takes dispositions for at most its units. A RESTOCKED
disposition needs a location and puts the units back to ``available`` there (stocking the item if needed); the
others change no inventory. A refund of a return refunds its line items without restocking them (stock comes back
through dispositions only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from connectors.shopify.emulator.return_state import (
    ACTIVE_STATUSES,
    DISPOSITION_TYPES,
    Disposal,
    ReturnError,
    ReturnLine,
    ReturnRecord,
    ReverseDelivery,
    ReverseLine,
)
from connectors.shopify.emulator.state import FulfillmentLine, Level, Order, Refund, RefundLine, ShopState

__all__ = ["DisposeItem", "ReturnDesk", "ReturnItem"]


@dataclass(frozen=True)
class ReturnItem:
    """One requested return line: a fulfillment line item id, units, the ``ReturnReason`` and a note."""

    fulfillment_line_id: int | None
    quantity: int
    reason: str
    note: str = ""
    customer_note: str | None = None


@dataclass(frozen=True)
class DisposeItem:
    reverse_line_id: int | None
    quantity: int
    type: str
    location_id: int | None


class ReturnDesk:
    """Returns of the shop's orders; ``state`` is the shop."""

    def __init__(self, state: ShopState) -> None:
        self.state = state

    # --- lookups -----------------------------------------------------------------------------------------
    def find(self, return_id: int | None) -> tuple[Order, ReturnRecord]:
        for order in self.state.orders.values():
            for record in order.returns:
                if record.id == return_id:
                    return order, record
        raise ReturnError("Return does not exist.", "NOT_FOUND", ["id"])

    def find_reverse(self, reverse_fo_id: int | None) -> tuple[Order, ReturnRecord]:
        for order in self.state.orders.values():
            for record in order.returns:
                if record.reverse_fo_id is not None and record.reverse_fo_id == reverse_fo_id:
                    return order, record
        raise ReturnError("Reverse fulfillment order does not exist.", "NOT_FOUND", ["reverseFulfillmentOrderId"])

    @staticmethod
    def _fulfillment_line(order: Order, fulfillment_line_id: int | None) -> FulfillmentLine | None:
        return next(
            (line for f in order.fulfillments for line in f.lines if line.id == fulfillment_line_id),
            None,
        )

    @staticmethod
    def returnable(order: Order, line: FulfillmentLine) -> int:
        taken = sum(
            rl.quantity
            for record in order.returns
            if record.status in ACTIVE_STATUSES
            for rl in record.lines
            if rl.fulfillment_line_id == line.id
        )
        return line.quantity - taken

    # --- lifecycle -----------------------------------------------------------------------------------------
    def create(self, order: Order, items: Sequence[ReturnItem], status: str, field_root: str) -> ReturnRecord:
        """A new return (``REQUESTED`` or ``OPEN``) of ``items``; nothing is changed when one is refused."""
        if not items:
            raise ReturnError("Return line items can't be blank.", "BLANK", [field_root, "returnLineItems"])
        if order.cancelled_at is not None and not order.fulfillments:
            raise ReturnError("Order has nothing to return.", "INVALID", [field_root, "orderId"])
        wanted: dict[int, int] = {}
        for index, item in enumerate(items):
            path = [field_root, "returnLineItems", str(index)]
            line = self._fulfillment_line(order, item.fulfillment_line_id)
            if line is None:
                raise ReturnError(
                    "Fulfillment line item does not exist.", "NOT_FOUND", [*path, "fulfillmentLineItemId"]
                )
            wanted[line.id] = wanted.get(line.id, 0) + item.quantity
            if item.quantity <= 0:
                raise ReturnError("Quantity must be greater than 0.", "GREATER_THAN", [*path, "quantity"])
            if wanted[line.id] > self.returnable(order, line):
                raise ReturnError(
                    "Quantity is greater than the fulfilled quantity not yet in a return.",
                    "INVALID",
                    [*path, "quantity"],
                )
        now = self.state.clock()
        lines = []
        for item in items:
            line = self._fulfillment_line(order, item.fulfillment_line_id)
            assert line is not None
            lines.append(
                ReturnLine(
                    self.state.next_id("ReturnLineItem"),
                    line.id,
                    line.line_item_id,
                    item.quantity,
                    item.reason,
                    item.note,
                    item.customer_note,
                )
            )
        record = ReturnRecord(
            self.state.next_id("Return"), order.id, f"{order.name}-R{len(order.returns) + 1}", status, now, lines
        )
        if status == "OPEN":
            self._open(record)
        order.returns.append(record)
        order.updated_at = now
        return record

    def _open(self, record: ReturnRecord) -> None:
        record.status = "OPEN"
        record.approved_at = self.state.clock()
        record.reverse_fo_id = self.state.next_id("ReverseFulfillmentOrder")
        record.reverse_lines = [
            ReverseLine(
                self.state.next_id("ReverseFulfillmentOrderLineItem"), rl.id, rl.fulfillment_line_id, rl.quantity
            )
            for rl in record.lines
        ]

    def approve(self, record: ReturnRecord) -> None:
        if record.status != "REQUESTED":
            raise ReturnError(
                f"Return is {record.status.lower()}: only a requested return can be approved.", "INVALID_STATE", ["id"]
            )
        self._open(record)

    def decline(self, record: ReturnRecord, reason: str, note: str | None) -> None:
        if record.status != "REQUESTED":
            raise ReturnError(
                f"Return is {record.status.lower()}: only a requested return can be declined.", "INVALID_STATE", ["id"]
            )
        record.status, record.decline_reason, record.decline_note = "DECLINED", reason, note

    def cancel(self, record: ReturnRecord) -> None:
        if record.status not in ("REQUESTED", "OPEN") or record.touched:
            raise ReturnError("Return can't be canceled once work has been done on it.", "INVALID_STATE", ["id"])
        record.status = "CANCELED"

    def close(self, record: ReturnRecord) -> None:
        if record.status != "OPEN":
            raise ReturnError(
                f"Return is {record.status.lower()}: only an open return can be closed.", "INVALID_STATE", ["id"]
            )
        record.status, record.closed_at = "CLOSED", self.state.clock()

    # --- dispositions, processing, refunds -----------------------------------------------------------------
    def dispose(self, order: Order, record: ReturnRecord, items: Sequence[DisposeItem], path: str) -> list[Level]:
        """Record dispositions (all or none); returns the levels restocked."""
        if record.status != "OPEN":
            raise ReturnError(f"Return is {record.status.lower()}: nothing can be disposed.", "INVALID_STATE", [path])
        left: dict[int, int] = {}
        for index, item in enumerate(items):
            where = [path, str(index)]
            line = record.reverse_line(item.reverse_line_id)
            if line is None:
                raise ReturnError("Reverse fulfillment order line item does not exist.", "NOT_FOUND", where)
            left.setdefault(line.id, line.total - line.disposed)
            if item.type not in DISPOSITION_TYPES:
                raise ReturnError(f"Unknown disposition type {item.type}.", "INCLUSION", [*where, "dispositionType"])
            if item.quantity <= 0 or item.quantity > left[line.id]:
                raise ReturnError(
                    f"Quantity must be between 1 and {left[line.id]} (the units not yet disposed).",
                    "INVALID",
                    [*where, "quantity"],
                )
            left[line.id] -= item.quantity
            if item.type == "RESTOCKED" and item.location_id not in self.state.locations:
                raise ReturnError("A restocked disposition needs a location.", "INVALID", [*where, "locationId"])
        now = self.state.clock()
        changed: list[Level] = []
        items_by_line = {li.id: li for li in order.line_items}
        for item in items:
            line = record.reverse_line(item.reverse_line_id)
            assert line is not None
            location = item.location_id if item.location_id in self.state.locations else None
            line.dispositions.append(
                Disposal(
                    self.state.next_id("ReverseFulfillmentOrderDisposition"), item.type, item.quantity, location, now
                )
            )
            if item.type == "RESTOCKED" and location is not None:
                fulfillment_line = self._fulfillment_line(order, line.fulfillment_line_id)
                assert fulfillment_line is not None
                li = items_by_line[fulfillment_line.line_item_id]
                level = self.state.stock(li.inventory_item_id, location)
                self.state.change(level, "available", item.quantity)
                changed.append(level)
        order.updated_at = now
        return list({id(level): level for level in changed}.values())

    def mark_processed(self, record: ReturnRecord, processed: dict[int, int]) -> None:
        for index, (line_id, quantity) in enumerate(processed.items()):
            line = record.line(line_id)
            where = ["input", "returnLineItems", str(index)]
            if line is None:
                raise ReturnError("Return line item does not exist.", "NOT_FOUND", [*where, "id"])
            if quantity <= 0 or quantity > line.quantity - line.processed:
                raise ReturnError(
                    f"Quantity must be between 1 and {line.quantity - line.processed} (the units not yet processed).",
                    "INVALID",
                    [*where, "quantity"],
                )
        for line_id, quantity in processed.items():
            line = record.line(line_id)
            assert line is not None
            line.processed += quantity
        if all(line.processed >= line.quantity for line in record.lines):
            record.status, record.closed_at = "CLOSED", self.state.clock()

    def refund(self, order: Order, record: ReturnRecord, quantities: dict[int, int], note: str | None) -> Refund:
        """Refund return lines (line id → units) without restocking them."""
        if record.status not in ("OPEN", "CLOSED"):
            raise ReturnError(
                f"Return is {record.status.lower()}: it can't be refunded.", "INVALID_STATE", ["returnId"]
            )
        for line_id, quantity in quantities.items():
            line = record.line(line_id)
            if line is None:
                raise ReturnError("Return line item does not exist.", "NOT_FOUND", ["returnRefundLineItems"])
            if quantity <= 0 or quantity > line.quantity - line.refunded:
                raise ReturnError(
                    "Quantity is more than the refundable quantity.", "INVALID", ["returnRefundLineItems"]
                )
        now = self.state.clock()
        lines: list[RefundLine] = []
        by_id = {li.id: li for li in order.line_items}
        for line_id, quantity in quantities.items():
            line = record.line(line_id)
            assert line is not None
            line.refunded += quantity
            by_id[line.line_item_id].refunded += quantity
            reverse = next((r for r in record.reverse_lines if r.return_line_id == line.id), None)
            restocked_at = next(
                (d.location_id for d in (reverse.dispositions if reverse else ()) if d.type == "RESTOCKED"), None
            )
            # Shopify reports a return's refund lines as restockType RETURN; the stock came back by disposition.
            lines.append(
                RefundLine(
                    self.state.next_id("RefundLineItem"), line.line_item_id, quantity, "return", restocked_at, False
                )
            )
        refund = Refund(self.state.next_id("Refund"), order.id, now, note, lines, return_id=record.id)
        order.refunds.append(refund)
        record.refund_ids.append(refund.id)
        fully = all(li.refunded == li.quantity for li in order.line_items)
        order.financial_status = "refunded" if fully else "partially_refunded"
        order.updated_at = now
        return refund

    def deliver(
        self,
        record: ReturnRecord,
        lines: dict[int, int],
        tracking: tuple[str | None, str | None],
        label_url: str | None,
    ) -> ReverseDelivery:
        if record.status != "OPEN":
            raise ReturnError(f"Return is {record.status.lower()}: no delivery can be added.", "INVALID_STATE", None)
        for line_id, quantity in lines.items():
            line = record.reverse_line(line_id)
            if line is None or quantity <= 0 or quantity > line.total:
                raise ReturnError(
                    "Invalid reverse fulfillment order line item.", "INVALID", ["reverseDeliveryLineItems"]
                )
        delivery = ReverseDelivery(self.state.next_id("ReverseDelivery"), dict(lines), *tracking, label_url)
        record.deliveries.append(delivery)
        return delivery
