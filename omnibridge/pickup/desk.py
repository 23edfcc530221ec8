"""The pickup decision over the store: :class:`PickupDesk` reads stock and booked pickups in one read transaction
(three statements however many stores) and runs :func:`omnibridge.pickup.options.decide`."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from omnibridge.config import LoadedProfile
from omnibridge.ledger.bulk import read_many
from omnibridge.models import GeoPoint, Location
from omnibridge.pickup.capacity import booked
from omnibridge.pickup.options import PickupOptions, PickupRequest, StoreStock, decide
from omnibridge.pickup.rules import PickupRules
from omnibridge.routing.rules import RoutingRules
from omnibridge.store import Store
from omnibridge.store.engine import read_session
from omnibridge.store.tables import VARIANTS

__all__ = ["PickupDesk", "UnknownSkuError"]

_KNOWN_SKU = sa.select(VARIANTS.c.sku).where(VARIANTS.c.sku == sa.bindparam("p_sku"))


class UnknownSkuError(LookupError):
    """The SKU is not in the catalog."""


@dataclass(frozen=True)
class PickupDesk:
    """Answers pickup questions for the profile's ``locations`` over ``store``: ``routing`` gives each store's
    brokering safety stock and time zone, ``rules`` the pickup windows, radius and horizon."""

    store: Store
    locations: Sequence[Location]
    routing: RoutingRules
    rules: PickupRules

    @classmethod
    def for_profile(cls, store: Store, loaded: LoadedProfile) -> PickupDesk:
        return cls(store, loaded.locations, loaded.routing, loaded.pickup)

    def options(
        self,
        sku: str,
        quantity: int,
        near: GeoPoint,
        *,
        curbside: bool = False,
        excluded: Collection[str] = (),
        now: datetime | None = None,
    ) -> PickupOptions:
        """The pickup options for ``quantity`` of ``sku`` near ``near`` (see :mod:`omnibridge.pickup.options`).
        Raises :class:`UnknownSkuError` for a SKU the catalog does not have."""
        request = PickupRequest(sku, quantity, near, now or self.store.now(), curbside, frozenset(excluded))
        wanted = [
            location.id
            for location in self.locations
            if location.active and location.id not in request.excluded and location.pickup_hours
        ]
        # windows start on the store's local today at the earliest, which begins at most 14 hours before UTC's
        since = request.now - timedelta(days=1)
        until = request.now + timedelta(days=self.rules.horizon_days + 2)
        with read_session(self.store.engine) as session:
            if session.connection().execute(_KNOWN_SKU, {"p_sku": sku}).first() is None:
                raise UnknownSkuError(f"unknown SKU {sku!r}: it is not in the catalog")
            positions = read_many(session, [(sku, location_id) for location_id in wanted])
            taken = booked(session, wanted, since, until)
        stores = []
        for location in self.locations:
            position = positions.get((sku, location.id))
            safety = self.routing.safety_stock_at(location.id)
            units = max(0, (position.available if position else 0) - safety)
            zone = self.routing.location(location.id).timezone or self.routing.timezone
            stores.append(StoreStock(location, units, safety, zone))
        return decide(request, stores, self.rules, taken)
