"""Fixtures for profile loading tests: a scratch directory to write profiles in and a fake connector registry."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import WriteFile, acme_registry

from omnibridge.sdk.registry import ConnectorRegistry


@pytest.fixture
def registry() -> ConnectorRegistry:
    """A registry with only ``acme-wms`` installed and one broken plugin, ``brokenconn``."""
    return acme_registry()


BASE_PROFILE = """
version: 1
merchant:
  name: Trail & Co
  currency: USD
  timezone: America/Denver
locations:
  - id: wh
    name: Warehouse
    type: warehouse
    capabilities: [ships]
  - id: downtown
    name: Downtown store
    type: store
    capabilities: [pickup]
    pickup_hours: {mon: "09:00-18:00", sun: closed}
"""

CHANNEL_PROFILE = (
    BASE_PROFILE
    + """
channels:
  - id: acme
    connector: acme-wms
    profile: connectors/acme.yaml
    mappings: [mappings/acme.yaml]
    priority: 5
"""
)

ACME_CONNECTOR_PROFILE = """
connector: acme-wms
settings:
  base_url: https://wms.example.com/api
  api_key: ${ACME_API_KEY}
  warehouse_code: ${ACME_WAREHOUSE:-DEN1}
"""

ACME_MAPPING = """
sku_aliases:
  ACME-001: TENT-2P
location_map:
  DEN1: wh
status_map:
  SHIPPED: fulfilled
"""


@pytest.fixture
def base_profile() -> str:
    """A valid profile with two locations and no channels."""
    return BASE_PROFILE


@pytest.fixture
def channel_profile(write: WriteFile) -> Path:
    """A valid profile with one ``acme-wms`` channel, its connector profile and a mapping file, on disk."""
    write("connectors/acme.yaml", ACME_CONNECTOR_PROFILE)
    write("mappings/acme.yaml", ACME_MAPPING)
    return write("omnibridge.yaml", CHANNEL_PROFILE)
