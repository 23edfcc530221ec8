"""The emulated shop's returns: records and the state machine Shopify enforces (fulfilment-contracts A3).

``Return.status``: REQUESTED (``returnRequest``) → OPEN (``returnApproveRequest``; ``returnCreate`` starts here)
→ CLOSED (``returnClose``, or ``returnProcess`` once every unit is processed); REQUESTED → DECLINED
(``returnDeclineRequest``); REQUESTED or OPEN → CANCELED (``returnCancel``, only before any disposition or refund).
An OPEN return has one reverse fulfillment order whose lines take dispositions (RESTOCKED at a location,
NOT_RESTOCKED, PROCESSING_REQUIRED, MISSING), each final once recorded. Every refusal is a :class:`ReturnError`
carrying the ``ReturnErrorCode`` Shopify answers with (the messages are the emulator's own wording).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "ACTIVE_STATUSES",
    "DISPOSITION_TYPES",
    "Disposal",
    "ReturnError",
    "ReturnLine",
    "ReturnRecord",
    "ReverseDelivery",
    "ReverseLine",
]

ACTIVE_STATUSES = frozenset({"REQUESTED", "OPEN", "CLOSED"})
"""Statuses whose lines count against what a fulfillment line item may still return."""
DISPOSITION_TYPES = frozenset({"RESTOCKED", "NOT_RESTOCKED", "PROCESSING_REQUIRED", "MISSING"})


class ReturnError(ValueError):
    """A refusal Shopify answers with a ``ReturnUserError`` (``code`` from ``ReturnErrorCode``)."""

    def __init__(self, message: str, code: str, field: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


@dataclass
class Disposal:
    id: int
    type: str
    quantity: int
    location_id: int | None
    created_at: datetime


@dataclass
class ReturnLine:
    id: int
    fulfillment_line_id: int
    line_item_id: int
    quantity: int
    reason: str
    reason_note: str = ""
    customer_note: str | None = None
    processed: int = 0
    refunded: int = 0


@dataclass
class ReverseLine:
    id: int
    return_line_id: int
    fulfillment_line_id: int
    total: int
    dispositions: list[Disposal] = field(default_factory=list)

    @property
    def disposed(self) -> int:
        return sum(d.quantity for d in self.dispositions)


@dataclass
class ReverseDelivery:
    id: int
    lines: dict[int, int]
    tracking_number: str | None
    tracking_url: str | None
    label_url: str | None


@dataclass
class ReturnRecord:
    """One return of an order; ``reverse_fo_id`` and ``reverse_lines`` exist from OPEN on."""

    id: int
    order_id: int
    name: str
    status: str
    created_at: datetime
    lines: list[ReturnLine]
    reverse_fo_id: int | None = None
    reverse_lines: list[ReverseLine] = field(default_factory=list)
    deliveries: list[ReverseDelivery] = field(default_factory=list)
    refund_ids: list[int] = field(default_factory=list)
    approved_at: datetime | None = None
    closed_at: datetime | None = None
    decline_reason: str | None = None
    decline_note: str | None = None

    @property
    def touched(self) -> bool:
        """Work was done on it (a disposition or a refund): it can no longer be cancelled."""
        return bool(self.refund_ids) or any(line.dispositions for line in self.reverse_lines)

    def reverse_line(self, reverse_line_id: int | None) -> ReverseLine | None:
        return next((line for line in self.reverse_lines if line.id == reverse_line_id), None)

    def line(self, return_line_id: int | None) -> ReturnLine | None:
        return next((line for line in self.lines if line.id == return_line_id), None)
