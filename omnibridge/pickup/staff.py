"""Staff actions on pickups: one service the CLI (``omnibridge pickups ...``) and the daemon's HTTP API
(:mod:`omnibridge.daemon.pickup_api`) both use.

Each action is one unit of work: the transition (:mod:`omnibridge.pickup.lifecycle`), the ``pickup`` task for the
channel and the audit record naming who acted (``pickup.ready``, ``pickup.collected``, ``pickup.reject``).
Rejecting releases the hold, then asks the routing service's pickup fallback (another window or store) in the
same unit; without one, or when it declines, the order waits for an operator. A pickup is never turned into a
shipment here.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from omnibridge.access import audit
from omnibridge.access.actors import Actor
from omnibridge.models import Order
from omnibridge.pickup import records
from omnibridge.pickup.lifecycle import Change, PickupError, change
from omnibridge.pickup.settings import PickupSettings
from omnibridge.routing.model import RouteOutcome, RoutingDecision
from omnibridge.sdk.pickup import PickupState
from omnibridge.store import Store
from omnibridge.store import orders as orders_repo
from omnibridge.store.engine import read_session
from omnibridge.store.tables import PickupRow
from omnibridge.store.unit_of_work import UnitOfWork

__all__ = ["PickupFallback", "PickupService", "StaffResult", "pickup_json"]


class PickupFallback(Protocol):
    """What a refused pickup falls back to (:meth:`omnibridge.routing.service.RoutingService.pickup_fallback`)."""

    def pickup_fallback(
        self, uow: UnitOfWork, order: Order, rejected: Collection[str], trigger: str
    ) -> RoutingDecision | None: ...


@dataclass(frozen=True)
class StaffResult:
    """An action's outcome: the change, and for a rejection what the fallback did (one line)."""

    change: Change
    fallback: str | None = None

    def message(self, action: str) -> str:
        pickup = self.change.pickup
        if not self.change.changed:
            return f"pickup {pickup.id} is already {pickup.status}: nothing changed"
        text = f"pickup {pickup.id} at {pickup.location_id}: {self.change.before.value} -> {pickup.status}"
        if self.change.units:
            text += f" ({self.change.units} unit(s) {'collected' if action == 'collected' else 'released'})"
        return text + (f"; {self.fallback}" if self.fallback else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "pickup": pickup_json(self.change.pickup),
            "before": self.change.before.value,
            "changed": self.change.changed,
            "units": self.change.units,
            "fallback": self.fallback,
        }


def pickup_json(pickup: PickupRow) -> dict[str, Any]:
    """A pickup as JSON (what ``pickups list --format json`` and ``GET /api/pickups`` show)."""
    return {
        "id": pickup.id,
        "order_id": pickup.order_id,
        "channel": pickup.channel,
        "location_id": pickup.location_id,
        "status": pickup.status,
        "curbside": pickup.curbside,
        "window_start": pickup.window_start.isoformat(),
        "window_end": pickup.window_end.isoformat(),
        "expires_at": pickup.expires_at.isoformat(),
        "lines": [dict(line) for line in pickup.lines],
        "reason": pickup.reason,
        "version": pickup.version,
    }


class PickupService:
    """Staff actions over ``store`` (see the module docstring); ``fallback``: the routing service (None: a
    refused pickup waits for an operator)."""

    def __init__(self, store: Store, settings: PickupSettings, fallback: PickupFallback | None = None) -> None:
        self.store = store
        self.settings = settings
        self.fallback = fallback

    def list(self, *, at: str | None = None, status: str | None = None) -> list[PickupRow]:
        """Pickups at store ``at`` (None: every store) in ``status`` (None: any), by window."""
        if status is not None and status not in {state.value for state in PickupState}:
            known = ", ".join(state.value for state in PickupState)
            raise PickupError(f"unknown pickup status {status!r}: expected one of {known}")
        with read_session(self.store.engine) as session:
            return records.listed(session, location_id=at, statuses=None if status is None else [status])

    def ready(self, pickup_id: str, *, actor: Actor | str) -> StaffResult:
        """Staff prepared the pickup: it waits at the counter."""
        return self._act(pickup_id, PickupState.READY, "pickup.ready", actor)

    def collected(self, pickup_id: str, *, actor: Actor | str) -> StaffResult:
        """The customer took the units: they leave the store's stock, once."""
        return self._act(pickup_id, PickupState.COLLECTED, "pickup.collected", actor)

    def reject(self, pickup_id: str, reason: str, *, actor: Actor | str) -> StaffResult:
        """The store cannot fill the pickup: release the hold, then ask the pickup fallback."""
        reason = " ".join(reason.split())
        if not reason:
            raise PickupError("a reason is needed to reject a pickup: say why the store cannot fill it")
        return self._act(pickup_id, PickupState.REJECTED, "pickup.reject", actor, reason=reason)

    def _act(
        self, pickup_id: str, target: PickupState, action: str, actor: Actor | str, *, reason: str = ""
    ) -> StaffResult:
        with self.store.unit_of_work() as uow:
            done = change(uow, pickup_id, target, self.settings, reason=reason)
            fallback = self._fall_back(uow, done, reason) if target is PickupState.REJECTED and done.changed else None
            if done.changed:
                before = {"status": done.before.value}
                after = {"status": done.pickup.status, "units": done.units}
                if reason:
                    after["reason"] = reason
                if fallback:
                    after["fallback"] = fallback
                audit.record(uow, actor, action, done.pickup.id, before, after)
            return StaffResult(done, fallback)

    def _fall_back(self, uow: UnitOfWork, done: Change, reason: str) -> str:
        order = orders_repo.get_order(uow.session, done.pickup.order_id)
        waits = "the order waits for an operator (a pickup is never turned into a shipment)"
        if self.fallback is None or order is None:
            return f"no pickup fallback: {waits}"
        trigger = f"pickup {done.pickup.id} rejected at {done.pickup.location_id}: {reason}"
        decision = self.fallback.pickup_fallback(uow, order, {done.pickup.location_id}, trigger)
        if decision is None:
            return f"the pickup fallback found nothing: {waits}"
        latest = records.of_order(uow.session, order.id)[-1]
        if latest.id != done.pickup.id and latest.status == PickupState.RESERVED.value:
            window = f"{_utc(latest.window_start):%Y-%m-%d %H:%M}-{_utc(latest.window_end):%H:%M} UTC"
            return f"pickup fallback: booked {latest.id} at {latest.location_id}, {window}"
        if decision.outcome is RouteOutcome.UNROUTABLE:
            return f"pickup fallback: {decision.reason}; {waits}"
        where = ", ".join(decision.locations) or "nowhere"
        return f"pickup fallback: shipped instead from {where} (pickup.ship_if_unavailable)"


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
