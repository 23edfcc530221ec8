"""Builders for router tests: locations, states, lines and requests in one line each."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

from omnibridge.models import Address, GeoPoint, Location, LocationCapability, LocationType
from omnibridge.routing import LocationState, RouteLine, RouteRequest, RoutingDecision, Verdict

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
DENVER = GeoPoint(lat=39.74, lon=-104.99)
NEW_YORK = GeoPoint(lat=40.71, lon=-74.01)
LOS_ANGELES = GeoPoint(lat=34.05, lon=-118.24)
CHICAGO = GeoPoint(lat=41.88, lon=-87.63)


def place(
    location_id: str,
    at: GeoPoint | None,
    *,
    type: LocationType = LocationType.WAREHOUSE,
    ships: bool = True,
    active: bool = True,
) -> Location:
    capabilities = {LocationCapability.SHIPS} if ships else {LocationCapability.PICKUP}
    return Location(
        id=location_id, name=location_id, type=type, coordinates=at, capabilities=capabilities, active=active
    )


def state(location: Location, assigned_today: int = 0, **available: int) -> LocationState:
    return LocationState(
        location=location,
        available={sku.replace("_", "-"): n for sku, n in available.items()},
        assigned_today=assigned_today,
    )


def line(
    line_id: str, sku: str, quantity: int = 1, value: str | None = None, product_type: str | None = None
) -> RouteLine:
    return RouteLine(line_id, sku, quantity, Decimal(value) if value is not None else None, product_type)


def order(
    *lines: RouteLine,
    to: GeoPoint | None = NEW_YORK,
    country: str = "US",
    region: str | None = "NY",
    postal_code: str | None = None,
    channel: str = "web",
    **extra: object,
) -> RouteRequest:
    destination = Address(country=country, region=region, postal_code=postal_code, coordinates=to)
    fields: Mapping[str, object] = {
        "order_id": "o-1",
        "channel": channel,
        "lines": lines,
        "destination": destination,
        "now": NOW,
    }
    return RouteRequest(**{**fields, **extra})  # type: ignore[arg-type]


def verdict(decision: RoutingDecision, location_id: str) -> Verdict:
    return next(v for v in decision.verdicts if v.location_id == location_id)
