"""USPS account (connector ``usps``): metadata only."""

from __future__ import annotations

from connectors.karrio.settings import UspsSettings
from connectors.karrio.spec import carrier_spec

__all__ = ["connector"]

connector = carrier_spec(
    "usps",
    "USPS",
    UspsSettings,
    "A USPS account (APIs v3) through karrio: domestic rates (shipping options), labels (Labels API with an EPS "
    "payment authorization, not idempotent) and tracking (USPS event codes), OAuth client credentials.",
    "https://developers.usps.com/apis",
)
