"""The pickup rules of a merchant profile: the ``pickup:`` section with each store's own ``pickup:`` overrides
resolved, as :attr:`LoadedProfile.pickup <omnibridge.config.LoadedProfile.pickup>` carries them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the profile loader imports this module: no import of omnibridge.config at run time
    from omnibridge.config.pickup import LocationPickupSection, PickupSection

__all__ = ["PickupRules", "StorePickup", "pickup_rules"]


@dataclass(frozen=True, slots=True)
class StorePickup:
    """One store's windows: their length, how many pickups each takes and the minutes staff need first."""

    window_minutes: int = 60
    capacity_per_window: int = 10
    prep_minutes: int = 30


@dataclass(frozen=True, slots=True)
class PickupRules:
    """``radius_km``: how far a customer travels; ``horizon_days``: how many days after today windows are
    offered; ``ship_if_unavailable``: the policy's alternative when no store can take it (reported, never
    acted on by the decision); ``hold_hours``: how long units wait after the window. ``defaults`` apply to every
    store without its own ``pickup:`` keys (``stores``)."""

    radius_km: float = 50.0
    horizon_days: int = 3
    hold_hours: int = 24
    ship_if_unavailable: bool = False
    defaults: StorePickup = field(default_factory=StorePickup)
    stores: Mapping[str, StorePickup] = field(default_factory=lambda: MappingProxyType({}))

    def store(self, location_id: str) -> StorePickup:
        """The windows of ``location_id`` (the defaults when it has no ``pickup:`` of its own)."""
        return self.stores.get(location_id, self.defaults)


def pickup_rules(section: PickupSection, locations: Iterable[tuple[str, LocationPickupSection | None]]) -> PickupRules:
    """The rules of ``section`` with each ``(location id, its pickup: mapping)`` override applied."""
    defaults = StorePickup(section.window_minutes, section.capacity_per_window, section.prep_minutes)
    stores = {
        location_id: StorePickup(
            own.window_minutes if own.window_minutes is not None else defaults.window_minutes,
            own.capacity_per_window if own.capacity_per_window is not None else defaults.capacity_per_window,
            own.prep_minutes if own.prep_minutes is not None else defaults.prep_minutes,
        )
        for location_id, own in locations
        if own is not None
    }
    return PickupRules(
        radius_km=section.radius_km,
        horizon_days=section.horizon_days,
        hold_hours=section.hold_hours,
        ship_if_unavailable=section.ship_if_unavailable,
        defaults=defaults,
        stores=MappingProxyType(stores),
    )
