"""Building blocks shared by the canonical models: base class, money, addresses, coordinates."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
"""The merchant's master SKU: the one key every channel's record is mapped onto."""

CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
"""ISO 4217 currency code, e.g. ``USD``."""

CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
"""ISO 3166-1 alpha-2 country code, e.g. ``US``."""


class CanonicalModel(BaseModel):
    """Base of every canonical model: unknown fields are rejected and values are validated on assignment."""

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, str_strip_whitespace=True, use_attribute_docstrings=True
    )


class Money(CanonicalModel):
    """An amount in one currency. Amounts are decimals, never floats."""

    amount: Decimal
    """Decimal amount, e.g. `19.99`."""
    currency: CurrencyCode
    """ISO 4217 code, e.g. `USD`."""


class GeoPoint(CanonicalModel):
    """WGS84 coordinates in decimal degrees."""

    lat: float = Field(ge=-90, le=90)
    """Latitude in degrees."""
    lon: float = Field(ge=-180, le=180)
    """Longitude in degrees."""

    def distance_km(self, other: GeoPoint) -> float:
        """Great-circle distance (haversine) to ``other`` in kilometres."""
        from math import asin, cos, radians, sin, sqrt

        dlat = radians(other.lat - self.lat)
        dlon = radians(other.lon - self.lon)
        a = sin(dlat / 2) ** 2 + cos(radians(self.lat)) * cos(radians(other.lat)) * sin(dlon / 2) ** 2
        return 2 * 6371.0088 * asin(sqrt(a))


class Address(CanonicalModel):
    """A postal address. Only ``country`` is required: channels often send partial addresses."""

    name: str | None = None
    """Recipient's full name."""
    company: str | None = None
    """Company name, if any."""
    line1: str | None = None
    """Street and number."""
    line2: str | None = None
    """Apartment, suite, floor."""
    city: str | None = None
    """City or town."""
    region: str | None = Field(default=None, description="State, province or county code")
    postal_code: str | None = None
    """ZIP or postal code."""
    country: CountryCode
    """ISO 3166-1 alpha-2 code, e.g. `US`."""
    phone: str | None = None
    """Phone number as given, for carriers."""
    coordinates: GeoPoint | None = None
    """Where the address is, when the channel geocoded it (for nearest-location routing)."""
