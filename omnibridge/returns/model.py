"""The canonical return (RMA): its lines, where it comes back, its label, its state and every unit's disposition.

A return line holds ``quantity`` units of one order line (its record, :class:`~omnibridge.models.OrderLineRecord`).
Received units get a disposition each: ``restocked`` at ``location_id`` (a RETURN movement, once), ``damaged``
(recorded, never restocked), ``inspect`` (held until decided: later restocked or damaged) or ``missing``; the
rest (:attr:`ReturnLine.pending`) have not arrived. States only move forward (:data:`RANK`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from omnibridge.errors import OmnibridgeError
from omnibridge.sdk.returns import Disposition, ReturnState

RANK: dict[ReturnState, int] = {
    ReturnState.REQUESTED: 0,
    ReturnState.OPEN: 1,
    ReturnState.RECEIVED: 2,
    ReturnState.CLOSED: 3,
    ReturnState.DECLINED: 3,
    ReturnState.CANCELLED: 3,
}
"""How far along a state is; a return never moves to a lower rank, and a final one (rank 3) never changes."""

ACTIVE = frozenset({ReturnState.REQUESTED, ReturnState.OPEN, ReturnState.RECEIVED, ReturnState.CLOSED})
"""States whose units count against what the order line can still take back."""


class ReturnError(OmnibridgeError):
    """A return action that cannot be done as asked; one line naming what is wrong and what was expected.
    ``status`` is the HTTP status the admin API answers with (400 bad request, 404 unknown, 409 refused)."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class ReturnLine:
    """One order line's units in a return and what became of them."""

    id: str
    position: int
    order_line_id: str
    sku: str
    quantity: int
    reason: str | None = None
    channel_line_ref: str | None = None
    restocked: int = 0
    damaged: int = 0
    inspect: int = 0
    missing: int = 0
    location_id: str | None = None
    decisions: int = 0

    @property
    def pending(self) -> int:
        """Units without a disposition yet (not received)."""
        return self.quantity - self.restocked - self.damaged - self.inspect - self.missing

    @property
    def settled(self) -> bool:
        """Every unit has a final disposition (nothing pending, nothing held for inspection)."""
        return self.pending == 0 and self.inspect == 0

    def count(self, disposition: Disposition) -> int:
        return {
            Disposition.RESTOCK: self.restocked,
            Disposition.DAMAGED: self.damaged,
            Disposition.INSPECT: self.inspect,
            Disposition.MISSING: self.missing,
        }[disposition]

    def with_counts(self, **changes: Any) -> ReturnLine:
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "order_line_id": self.order_line_id,
            "sku": self.sku,
            "quantity": self.quantity,
            "reason": self.reason,
            "channel_line_ref": self.channel_line_ref,
            "restocked": self.restocked,
            "damaged": self.damaged,
            "inspect": self.inspect,
            "missing": self.missing,
            "pending": self.pending,
            "location_id": self.location_id,
        }


@dataclass(frozen=True, slots=True)
class Rma:
    """A return: ``id`` is omnibridge's (``<order id>:r<n>`` for one omnibridge raised, ``<channel>:return:<ref>``
    for one a channel reported); ``external_id`` the channel's id of it; ``location_id`` where it comes back
    (the store counter when ``at_store``, else the warehouse it is posted to)."""

    id: str
    order_id: str
    channel: str
    state: ReturnState
    lines: tuple[ReturnLine, ...]
    created_at: datetime
    external_id: str | None = None
    location_id: str | None = None
    at_store: bool = False
    reason: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    label_url: str | None = None
    refund: dict[str, Any] | None = None
    event_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def settled(self) -> bool:
        return all(line.settled for line in self.lines)

    def line(self, line_id: str) -> ReturnLine | None:
        return next((line for line in self.lines if line.id == line_id), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "order_id": self.order_id,
            "channel": self.channel,
            "external_id": self.external_id,
            "status": self.state.value,
            "at_store": self.at_store,
            "location_id": self.location_id,
            "reason": self.reason,
            "label": None
            if self.tracking_number is None
            else {"carrier": self.carrier, "tracking_number": self.tracking_number, "label_url": self.label_url},
            "refund": self.refund,
            "created_at": self.created_at.isoformat(),
            "updated_at": None if self.updated_at is None else self.updated_at.isoformat(),
            "lines": [line.to_json() for line in self.lines],
        }
