"""UPS account (connector ``ups``): metadata only."""

from __future__ import annotations

from connectors.karrio.settings import UpsSettings
from connectors.karrio.spec import carrier_spec

__all__ = ["connector"]

connector = carrier_spec(
    "ups",
    "UPS",
    UpsSettings,
    "A UPS shipper account through karrio: rates (Shop), labels (Ship API, not idempotent) and tracking "
    "(Track API, UPS status types), OAuth client credentials.",
    "https://developer.ups.com/catalog",
)
