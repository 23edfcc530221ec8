"""The pickup fallback: where a pickup goes when its store refuses it (:meth:`PickupService.reject
<omnibridge.pickup.staff.PickupService.reject>` releases the hold and puts the lines on hold first).

The refusing store is left out (a store that rejects usually cannot fill it at all), then, in one unit of work:

1. the next store by distance from the refusing one (the customer chose that area) that holds every SKU of the
   held lines after its safety stock and has a window with a free place (the pickup decision,
   :func:`omnibridge.pickup.options.decide`, per SKU, over positions locked first); its first free window is
   counted under the store's lock (:func:`omnibridge.pickup.slot.first_free_window`), the held units are
   committed there (strict: refused if the units are not there), the routing decision recorded (its ``assign``
   task moves the lines on a channel that can: Shopify), and a new pickup attempt (``<order>#<attempt>``) booked,
   which tells the channel (a ``pickup`` task, ``reserved``);
2. else, with ``pickup.ship_if_unavailable: true``, the order becomes a shipment routed by the normal rules;
3. else "not available for pickup": the order is parked (an ``unroutable`` decision) with an incident.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from omnibridge.errors import InsufficientStockError
from omnibridge.models import (
    FulfilmentMethod,
    GeoPoint,
    LineStatus,
    Location,
    LocationCapability,
    Order,
    OrderLineRecord,
    OrderStatus,
)
from omnibridge.pickup.book import book_pickup
from omnibridge.pickup.capacity import booked
from omnibridge.pickup.options import PickupRequest, StoreStock, decide
from omnibridge.pickup.settings import PickupSettings
from omnibridge.pickup.slot import first_free_window
from omnibridge.routing.model import RoutingDecision
from omnibridge.routing.rules import RoutingRules
from omnibridge.store import Incident
from omnibridge.store.unit_of_work import UnitOfWork
from omnibridge.sync.lines import LineBook
from omnibridge.sync.outcome import ApplyOutcome

if TYPE_CHECKING:
    from omnibridge.routing.service import RoutingService

__all__ = ["PickupFallbackPlanner"]


@dataclass(frozen=True)
class PickupFallbackPlanner:
    """The fallback for the profile's pickup ``settings``; ``routing`` gives each store's safety stock and zone."""

    settings: PickupSettings
    routing: RoutingRules

    def plan(
        self, uow: UnitOfWork, service: RoutingService, order: Order, rejected: Collection[str], trigger: str
    ) -> RoutingDecision | None:
        """Move the order's held lines to the next store with stock and a window, ship them (policy), or park
        them (see the module docstring). None: the order has no held line (nothing to do)."""
        held = [
            line
            for line in uow.lines_of_order(order.channel, order.external_id)
            if line.status is LineStatus.ON_HOLD and line.open_quantity > 0
        ]
        if not held:
            return None
        curbside = order.fulfilment_method is FulfilmentMethod.CURBSIDE
        for location in self._candidates(uow, service.locations, held, rejected, curbside):
            decision = self._move_to(uow, service, order, held, location, trigger, curbside)
            if decision is not None:
                return decision
        if self.settings.rules.ship_if_unavailable:
            return service.ship_held(uow, order, held, trigger)
        what = "curbside pickup" if curbside else "pickup"
        radius = self.settings.rules.radius_km
        reason = f"not available for {what}: no other store within {radius:g} km has the units and a free window"
        uow.add_incident(
            Incident(
                kind="pickup",
                decision="unavailable",
                summary=f"order {order.id}: {reason}; it waits for a person (pickup.ship_if_unavailable is off)",
                dedupe_key=f"pickup:{order.id}:unavailable:{len(rejected)}",
                channel=order.channel,
                order_id=order.id,
                data={"rejected": sorted(rejected)},
            )
        )
        return service.park_held(uow, order, held, trigger, reason)

    def _candidates(
        self,
        uow: UnitOfWork,
        locations: Sequence[Location],
        held: Sequence[OrderLineRecord],
        rejected: Collection[str],
        curbside: bool,
    ) -> list[Location]:
        """The stores that qualify for every SKU held, nearest to the refusing store first."""
        near = _near(locations, rejected)
        if near is None:
            return []
        need = LocationCapability.CURBSIDE if curbside else LocationCapability.PICKUP
        stores = [loc for loc in locations if loc.active and loc.id not in rejected and need in loc.capabilities]
        quantities: dict[str, int] = {}
        for line in held:
            quantities[line.sku] = quantities.get(line.sku, 0) + line.open_quantity
        positions = uow.lock_and_read({(sku, loc.id) for sku in quantities for loc in stores})
        now = uow.now()
        taken = booked(
            uow.session, [loc.id for loc in stores], now, now + timedelta(days=self.settings.rules.horizon_days + 2)
        )
        ranked: list[str] | None = None
        for sku, quantity in sorted(quantities.items()):
            stock = []
            for loc in stores:
                position = positions.get((sku, loc.id))
                safety = self.routing.safety_stock_at(loc.id)
                units = (position.available if position else 0) - safety
                stock.append(StoreStock(loc, max(0, units), safety, self.settings.zone(loc.id)))
            request = PickupRequest(sku, quantity, near, now, curbside, frozenset(rejected))
            offers = [offer.location_id for offer in decide(request, stock, self.settings.rules, taken).stores]
            ranked = offers if ranked is None else [loc for loc in ranked if loc in offers]
        by_id = {loc.id: loc for loc in stores}
        return [by_id[loc] for loc in ranked or []]

    def _move_to(
        self,
        uow: UnitOfWork,
        service: RoutingService,
        order: Order,
        held: Sequence[OrderLineRecord],
        location: Location,
        trigger: str,
        curbside: bool,
    ) -> RoutingDecision | None:
        book = LineBook(uow, ApplyOutcome())
        try:
            with uow.savepoint():
                window = first_free_window(uow, location, self.settings)
                if window is None:
                    return None
                for line in held:
                    book.recommit(line, location.id)
        except InsufficientStockError:
            return None
        moved = [line for line in (uow.line(line.id) for line in held) if line is not None]
        order = order.model_copy(update={"pickup_location_id": location.id, "status": OrderStatus.ACCEPTED})
        uow.save_order(order)
        decision = service.record_pickup_move(uow, order, moved, location.id, trigger)
        book_pickup(
            uow, order, location.id, window.start, window.end, curbside=curbside, lines=moved, settings=self.settings
        )
        return decision


def _near(locations: Sequence[Location], rejected: Collection[str]) -> GeoPoint | None:
    """Where the customer wanted to collect: the refusing store's coordinates."""
    for location in locations:
        if location.id in rejected and location.coordinates is not None:
            return location.coordinates
    return None
