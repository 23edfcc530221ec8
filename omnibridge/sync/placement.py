"""The seam through which a new channel order is routed as it is recorded (:mod:`omnibridge.routing.service`).

The sync layer knows only this protocol, so it never imports the router: the event applier asks an
:class:`OrderPlacer` for a :class:`Placement` of a new order's lines before it commits them, commits each line where
the placement says, saves the order, then lets the placement record itself, all in one unit of work. It also
tells the placer when a channel cancels an order or reports units shipped, so the order's assignments follow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from omnibridge.models import FulfilmentMethod, Order
from omnibridge.sdk.channel import OrderEvent
from omnibridge.store.unit_of_work import UnitOfWork
from omnibridge.sync.lines import LineFact


class Placement(Protocol):
    """Where a new order's lines go, decided under the locks of every position it read."""

    def location_for(self, line_id: str) -> str | None:
        """Where line ``line_id`` ships from (None: where the channel named it)."""
        ...

    def record(self, uow: UnitOfWork) -> None:
        """Record the decision, its assignments and the tasks that carry it out (after the lines are saved)."""
        ...


class OrderPlacer(Protocol):
    def plan_placement(
        self,
        uow: UnitOfWork,
        channel: str,
        event: OrderEvent,
        facts: Sequence[LineFact],
        existing: Order | None,
        *,
        pickup: tuple[FulfilmentMethod, str | None] | None = None,
    ) -> Placement | None:
        """Decide a new order of a routed channel: lock every position the decision reads or the lines touch (one
        sorted lock), decide, and return the placement; None (nothing locked) when the order is not routed (its
        channel is not, or its lines are recorded already). ``pickup``: the order is collected (its method and
        the store it is collected at, from the channel's pickup details); None: as stored, else shipped."""
        ...

    def order_cancelled(self, uow: UnitOfWork, order_id: str) -> None:
        """The channel cancelled ``order_id``: its open assignments and pending tasks are cancelled."""
        ...

    def order_shipped(self, uow: UnitOfWork, order_id: str, location_id: str) -> None:
        """The channel reported units of ``order_id`` leaving ``location_id`` (already applied to its lines)."""
        ...
