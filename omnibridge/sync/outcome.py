"""What applying channel events did: counts, touched positions, shortfalls and messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

Position = tuple[str, str]
"""(master SKU, location id)."""


@dataclass
class ApplyOutcome:
    """What applying a batch of events did."""

    applied: int = 0
    duplicates: int = 0
    orders: int = 0
    """Order records created or updated."""
    touched: set[Position] = field(default_factory=set)
    observed: list[tuple[Position, int | None, datetime]] = field(default_factory=list)
    shortfalls: list[tuple[Position, int]] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    """Lines skipped or refused, one sentence each (the engine logs and counts every one)."""
    rejected: list[str] = field(default_factory=list)
    """Batches the connector refused whole (a bad ERP/WMS file), one sentence each; also in ``messages``."""

    def merge(self, other: ApplyOutcome) -> None:
        self.applied += other.applied
        self.duplicates += other.duplicates
        self.orders += other.orders
        self.touched |= other.touched
        self.observed.extend(other.observed)
        self.shortfalls.extend(other.shortfalls)
        self.messages.extend(other.messages)
        self.rejected.extend(other.rejected)
