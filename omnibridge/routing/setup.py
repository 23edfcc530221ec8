"""The routing service for a merchant profile: its locations, its ``routing:`` rules, and which channel hands
orders to each supplier and 3PL location."""

from __future__ import annotations

from collections.abc import Mapping

from omnibridge.config import LoadedProfile
from omnibridge.routing.recording import PROVIDER_TYPES
from omnibridge.routing.service import RoutingService
from omnibridge.sdk.metadata import ConnectorKind
from omnibridge.store import Store

_PROVIDER_KINDS = (ConnectorKind.THIRD_PARTY_LOGISTICS, ConnectorKind.ERP_WMS)
"""Connector kinds that can take an order for a location they map: a 3PL first, then a supplier's file feed."""


def providers(loaded: LoadedProfile) -> dict[str, str]:
    """Supplier or 3PL location id -> the enabled channel that hands orders to it: one of kind ``3pl`` whose
    ``location_map`` names the location, else a file feed (kind ``erp/wms``) that names it."""
    kinds = {location.id: location.type for location in loaded.locations}
    found: dict[str, str] = {}
    for kind in _PROVIDER_KINDS:
        for channel in loaded.channels:
            if not channel.enabled or channel.spec.kind is not kind:
                continue
            for target in channel.mappings.location_map.values():
                if kinds.get(target) in PROVIDER_TYPES:
                    found.setdefault(target, channel.id)
    return found


def service_for_profile(
    store: Store, loaded: LoadedProfile, *, extra: Mapping[str, str] | None = None
) -> RoutingService:
    """The routing service of ``loaded`` over ``store`` (``extra``: more location -> provider channel pairs)."""
    from omnibridge.pickup.fallback import PickupFallbackPlanner
    from omnibridge.pickup.settings import PickupSettings

    service = RoutingService.from_rules(
        store, loaded.locations, loaded.routing, providers={**providers(loaded), **(extra or {})}
    )
    service.pickup_planner = PickupFallbackPlanner(PickupSettings.from_profile(loaded), loaded.routing)
    return service


def placer_for_profile(store: Store, loaded: LoadedProfile) -> RoutingService | None:
    """The service the sync engine routes new orders with, or None when the profile's routing is disabled."""
    return service_for_profile(store, loaded) if loaded.routing.enabled else None
