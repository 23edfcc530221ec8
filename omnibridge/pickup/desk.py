"""The pickup decision over the store: :class:`PickupDesk` reads stock and booked pickups in one read transaction
(two statements however many stores) and runs :func:`omnibridge.pickup.options.decide`."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from omnibridge.config import LoadedProfile
from omnibridge.models import GeoPoint, Location
from omnibridge.pickup.capacity import booked
from omnibridge.pickup.options import PickupOptions, PickupRequest, StoreStock, decide
from omnibridge.pickup.rules import PickupRules
from omnibridge.routing.rules import RoutingRules
from omnibridge.store import Store
from omnibridge.store.engine import read_session
from omnibridge.store.tables import POSITIONS, VARIANTS

__all__ = ["PickupDesk", "UnknownSkuError"]

_P = POSITIONS.c
_STOCK = (
    sa.select(
        VARIANTS.c.sku, _P.location_id, (_P.on_hand - _P.committed - _P.reserved - _P.safety_stock).label("units")
    )
    .select_from(VARIANTS.outerjoin(POSITIONS, _P.sku == VARIANTS.c.sku))
    .where(VARIANTS.c.sku == sa.bindparam("p_sku"))
)
"""The SKU (no row: not in the catalog) with its available units (``InventoryPosition.available``) wherever it has
a position: one statement, on the positions' primary key."""


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
        # every window offered starts after now, and before the end of the horizon's last local day
        since, until = request.now, request.now + timedelta(days=self.rules.horizon_days + 2)
        with read_session(self.store.engine) as session:
            rows = session.connection().execute(_STOCK, {"p_sku": sku}).all()
            if not rows:
                raise UnknownSkuError(f"unknown SKU {sku!r}: it is not in the catalog")
            available = {row.location_id: row.units for row in rows if row.location_id is not None}
            stores = [self._stock(location, available.get(location.id, 0)) for location in self.locations]
            # only stores that hold the quantity need their windows
            wanted = [s.location.id for s in stores if s.available >= quantity and s.location.pickup_hours]
            taken = booked(session, wanted, since, until)
        return decide(request, stores, self.rules, taken)

    def _stock(self, location: Location, available: int) -> StoreStock:
        safety = self.routing.safety_stock_at(location.id)
        zone = self.routing.location(location.id).timezone or self.routing.timezone
        return StoreStock(location, max(0, available - safety), safety, zone)
