"""Where the customer is: ``lat,lon`` or a postal code (a United States ZIP code placed at its centroid by the
routing's ``postal`` distance source, :mod:`omnibridge.routing.distance`)."""

from __future__ import annotations

import re

from omnibridge.models import Address, GeoPoint
from omnibridge.routing.distance import PostalCentroid

__all__ = ["NEAR_HELP", "NearError", "parse_near"]

NEAR_HELP = "'lat,lon' in decimal degrees (40.71,-74.01) or a US ZIP code (10001)"
_COORDINATES = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")
_ZIP = re.compile(r"^\s*(\d{5})(?:-\d{4})?\s*$")


class NearError(ValueError):
    """``near`` is neither coordinates nor a postal code omnibridge can place (the message says what to give)."""


def parse_near(text: str) -> GeoPoint:
    """The point ``text`` names: ``lat,lon`` or a US ZIP code. Raises :class:`NearError`."""
    match = _COORDINATES.match(text)
    if match is not None:
        lat, lon = float(match[1]), float(match[2])
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise NearError(f"{text!r} is outside the globe: expected latitude -90..90, longitude -180..180")
        return GeoPoint(lat=lat, lon=lon)
    zip_match = _ZIP.match(text)
    if zip_match is None:
        raise NearError(f"{text!r} is not a place: expected {NEAR_HELP}")
    point = PostalCentroid().point(Address(country="US", postal_code=zip_match[1]))
    if point is None:
        raise NearError(
            f"ZIP code {zip_match[1]} is unknown (or omnibridge[postal] is not installed): expected a US ZIP code, "
            "or 'lat,lon'"
        )
    return point
