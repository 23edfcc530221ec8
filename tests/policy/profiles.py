"""A scratch merchant profile with sales channels, for the availability config and ``explain`` tests."""

from __future__ import annotations

from dataclasses import replace

from support import ACME, WriteFile, acme_registry

from omnibridge.sdk.metadata import ConnectorKind
from omnibridge.sdk.registry import ConnectorRegistry, RegisteredConnector

SHOP = replace(ACME, id="acme-shop", label="ACME shop", kind=ConnectorKind.STOREFRONT)


def sales_registry() -> ConnectorRegistry:
    """``acme-wms`` (a warehouse system, not a sales channel) and ``acme-shop`` (a storefront)."""
    registry = acme_registry()
    shop = RegisteredConnector(SHOP, "omnibridge_acme:shop", "omnibridge-acme-connector", "0.1.0")
    return replace(registry, connectors={**registry.connectors, "acme-shop": shop})


PROFILE = """\
version: 1
merchant:
  name: Trail & Co
  currency: USD
  timezone: America/Denver
store:
  url: sqlite:///ledger.db
locations:
  - {id: wh, name: Warehouse, type: warehouse}
  - {id: shop, name: Main Street shop, type: store}
  - {id: old, name: Old shop, type: store, active: false}
channels:
  - {id: web, connector: acme-shop, profile: shop.yaml, mappings: [web-map.yaml], priority: 10}
  - {id: pos, connector: acme-shop, profile: shop.yaml, priority: 20, drift: alert}
  - {id: wms, connector: acme-wms, profile: wms.yaml}
  - {id: spare, connector: acme-shop, profile: shop.yaml, enabled: false}
"""
"""Line 13 is the first channel; 'availability:' appended to it starts on line 17."""


def write_profile(write: WriteFile, availability: str = "") -> None:
    """Write the profile (with ``availability`` appended), its connector profiles and web's mapping file."""
    settings = "settings: {base_url: 'https://acme.example', api_key: k, warehouse_code: W}\n"
    write("shop.yaml", "connector: acme-shop\n" + settings)
    write("wms.yaml", "connector: acme-wms\n" + settings)
    write("web-map.yaml", "location_map:\n  DEN1: wh\n")
    write("omnibridge.yaml", PROFILE + availability)
