"""FedEx account (connector ``fedex``): metadata only."""

from __future__ import annotations

from connectors.karrio.settings import FedexSettings
from connectors.karrio.spec import carrier_spec

__all__ = ["connector"]

connector = carrier_spec(
    "fedex",
    "FedEx",
    FedexSettings,
    "A FedEx account through karrio: rates (Rate Quotes), labels (Ship API, not idempotent) and tracking "
    "(Track API, FedEx event codes), OAuth client credentials.",
    "https://developer.fedex.com/api/en-us/catalog.html",
)
