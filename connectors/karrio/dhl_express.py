"""DHL Express account on the MyDHL API (connector ``dhl_express``, karrio package ``karrio.mydhl``): metadata."""

from __future__ import annotations

from connectors.karrio.settings import DhlExpressSettings
from connectors.karrio.spec import carrier_spec

__all__ = ["connector"]

connector = carrier_spec(
    "dhl_express",
    "DHL Express",
    DhlExpressSettings,
    "A DHL Express account through karrio's MyDHL package: rates, labels (shipments, not idempotent) and "
    "tracking (DHL checkpoint codes), HTTP Basic credentials. karrio marks this package in development.",
    "https://developer.dhl.com/api-reference/dhl-express-mydhl-api",
    karrio_name="mydhl",
)
