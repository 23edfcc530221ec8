"""A small pickup world for the tests: a customer in lower Manhattan, stores around New York, one far away."""

from __future__ import annotations

from datetime import UTC, datetime

from omnibridge.models import GeoPoint, Location, LocationCapability, LocationType

NY = "America/New_York"
CUSTOMER = GeoPoint(lat=40.7128, lon=-74.0060)
MONDAY_0900 = datetime(2026, 12, 7, 14, tzinfo=UTC)
"""Monday 2026-12-07 09:00 in New York."""
HOURS = {day: "10:00-12:00" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
PICKUP = {LocationCapability.PICKUP}


def store(
    location_id: str,
    lat: float | None,
    lon: float | None,
    capabilities: set[LocationCapability] | None = None,
    *,
    hours: dict[str, str] | None = None,
    kind: LocationType = LocationType.STORE,
    active: bool = True,
) -> Location:
    return Location(
        id=location_id,
        name=location_id.upper(),
        type=kind,
        coordinates=GeoPoint(lat=lat, lon=lon) if lat is not None and lon is not None else None,
        capabilities=PICKUP if capabilities is None else capabilities,
        pickup_hours=HOURS if hours is None else hours,
        active=active,
    )


SOHO = store("soho", 40.7233, -73.9985, {LocationCapability.PICKUP, LocationCapability.CURBSIDE})
BROOKLYN = store("bk", 40.6782, -73.9442)
NEWARK = store("nwk", 40.7357, -74.1724)
PHILADELPHIA = store("phl", 39.9526, -75.1652)
WAREHOUSE = store("wh", 40.7400, -74.0300, {LocationCapability.SHIPS}, hours={}, kind=LocationType.WAREHOUSE)
NOWHERE = store("nowhere", None, None)
LOCATIONS = (SOHO, BROOKLYN, NEWARK, PHILADELPHIA, WAREHOUSE, NOWHERE)
