"""Distance sources: how far a location is from an order's destination.

A :class:`DistanceSource` answers kilometres, or the reason it cannot (``"no coordinates for ..."``); the router
never fails for a missing coordinate, it ranks that location after the ones it can measure and says why.
Built-ins:

* ``haversine``: great-circle distance over ``Location.coordinates`` and the destination's ``coordinates``
  (Shopify sends latitude and longitude on addresses).
* ``postal``: the same, but an address without coordinates is placed at its postal code's centroid, from the
  offline ``zipcodes`` package (United States ZIP codes; install ``omnibridge[postal]``).

Other sources are plugins in the ``omnibridge.distance_sources`` entry-point group: a name pointing at a
zero-argument callable that returns a :class:`DistanceSource`.
"""

from __future__ import annotations

import importlib.metadata
from functools import lru_cache
from math import asin, cos, radians, sin, sqrt
from typing import Protocol, runtime_checkable

from omnibridge.models import Address, GeoPoint, Location

ENTRY_POINT_GROUP = "omnibridge.distance_sources"
_EARTH_RADIUS_KM = 6371.0088


@runtime_checkable
class DistanceSource(Protocol):
    """Measures a location's distance to a destination."""

    name: str

    def measure(self, location: Location, destination: Address | None) -> float | str:
        """Kilometres from ``location`` to ``destination``, or one line saying why there is no figure."""
        ...


class Haversine:
    """Straight-line (great-circle) distance over stored coordinates."""

    name = "haversine"

    def point(self, address: Address) -> GeoPoint | None:
        """Where ``address`` is; this source knows only coordinates given with it."""
        return address.coordinates

    def measure(self, location: Location, destination: Address | None) -> float | str:
        if destination is None:
            return "no destination address"
        here = location.coordinates or (self.point(location.address) if location.address else None)
        if here is None:
            return f"no coordinates for location {location.id!r}"
        there = self.point(destination)
        if there is None:
            code = f" (postal code {destination.postal_code})" if destination.postal_code else ""
            return f"no coordinates for the destination{code}"
        return _haversine_km(here, there)


def _haversine_km(a: GeoPoint, b: GeoPoint) -> float:
    """``GeoPoint.distance_km`` with the trigonometry at module level (this runs once per location per order)."""
    lat1, lat2 = radians(a.lat), radians(b.lat)
    h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin(radians(b.lon - a.lon) / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * asin(sqrt(h))


class PostalCentroid(Haversine):
    """Haversine, placing an address without coordinates at its postal code's centroid (US ZIP codes, offline)."""

    name = "postal"

    def point(self, address: Address) -> GeoPoint | None:
        if address.coordinates is not None:
            return address.coordinates
        if address.country.upper() != "US" or not address.postal_code:
            return None
        return _zip_centroid(address.postal_code.strip()[:5])


@lru_cache(maxsize=65536)
def _zip_centroid(zip5: str) -> GeoPoint | None:
    try:
        import zipcodes
    except ImportError:
        return None
    try:
        found = zipcodes.matching(zip5)  # type: ignore[no-untyped-call]
    except (TypeError, ValueError):
        return None
    if not found:
        return None
    return GeoPoint(lat=float(found[0]["lat"]), lon=float(found[0]["long"]))


BUILT_IN: dict[str, type[Haversine]] = {"haversine": Haversine, "postal": PostalCentroid}


_loaded: dict[str, DistanceSource] = {}


class UnknownDistanceSource(LookupError):
    """No distance source has that name."""


def distance_source(name: str) -> DistanceSource:
    """The distance source called ``name``: a built-in or a plugin from the entry-point group."""
    if name in BUILT_IN:
        return BUILT_IN[name]()
    if name in _loaded:
        return _loaded[name]
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP, name=name):
        made = entry_point.load()()
        if isinstance(made, DistanceSource):
            _loaded[name] = made
            return made
        raise UnknownDistanceSource(f"distance source {name!r} ({entry_point.value}) is not a DistanceSource")
    raise UnknownDistanceSource(f"unknown distance source {name!r}: expected one of {', '.join(known_sources())}")


def known_sources() -> list[str]:
    """The names of every built-in and installed distance source."""
    plugins = {entry_point.name for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    return sorted(set(BUILT_IN) | plugins)
