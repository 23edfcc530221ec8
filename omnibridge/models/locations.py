"""Places that hold stock: warehouses, stores, dropship suppliers and 3PLs."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import Field, field_validator

from omnibridge.models.common import Address, CanonicalModel, GeoPoint

_HOURS = re.compile(r"^(closed|([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d)$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class LocationType(StrEnum):
    WAREHOUSE = "warehouse"
    """Stock held for shipping; not open to customers."""
    STORE = "store"
    """A shop customers walk into; may ship, offer pickup or curbside."""
    SUPPLIER = "supplier"
    """A dropship supplier: ships to customers from its own stock."""
    THIRD_PARTY_LOGISTICS = "3pl"
    """A third-party logistics provider holding the merchant's stock."""


class LocationCapability(StrEnum):
    SHIPS = "ships"
    """Ships orders to customers."""
    PICKUP = "pickup"
    """Customers collect in store."""
    CURBSIDE = "curbside"
    """Staff bring the order out to the customer's car."""


class Location(CanonicalModel):
    """A place that holds stock.

    ``pickup_hours`` maps a weekday (``mon`` .. ``sun``) to ``HH:MM-HH:MM`` or ``closed``; a missing day means
    no pickup that day.
    """

    id: str = Field(min_length=1, max_length=64)
    """Merchant-chosen id used in profiles and mappings, e.g. `wh-east`."""
    name: str
    """Display name."""
    type: LocationType
    """Warehouse, store, dropship supplier or 3PL."""
    address: Address | None = None
    """Postal address (used for routing and carrier labels)."""
    coordinates: GeoPoint | None = None
    """Where it is, for nearest-store routing."""
    capabilities: set[LocationCapability] = Field(default_factory=set)
    """What it can do: ship, pickup, curbside."""
    pickup_hours: dict[str, str] = Field(default_factory=dict)
    """Weekday (`mon`..`sun`) to `HH:MM-HH:MM` or `closed`."""
    active: bool = True
    """Inactive locations keep their history but take no new stock or orders."""

    @field_validator("pickup_hours")
    @classmethod
    def _check_hours(cls, value: dict[str, str]) -> dict[str, str]:
        for day, hours in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}: expected one of {', '.join(WEEKDAYS)}")
            if not _HOURS.match(hours):
                raise ValueError(f"{day}: {hours!r} is not 'HH:MM-HH:MM' or 'closed'")
        return value
