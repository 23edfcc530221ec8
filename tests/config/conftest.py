"""Fixtures for profile loading tests: a scratch directory to write profiles in and a fake connector registry."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, HttpUrl, SecretStr

from omnibridge.sdk.metadata import Capability, ConnectorKind, ConnectorSpec
from omnibridge.sdk.registry import ConnectorRegistry, LoadFailure, RegisteredConnector


class AcmeSettings(BaseModel):
    """The settings of the third-party ``acme-wms`` test connector, mirrored here to stay independent of it."""

    model_config = ConfigDict(extra="forbid")

    base_url: HttpUrl
    api_key: SecretStr
    warehouse_code: str


ACME = ConnectorSpec(
    id="acme-wms",
    label="ACME WMS",
    kind=ConnectorKind.ERP_WMS,
    settings_model=AcmeSettings,
    capabilities=frozenset({Capability.INVENTORY_READ, Capability.INVENTORY_WRITE}),
)


@pytest.fixture
def registry() -> ConnectorRegistry:
    """A registry with only ``acme-wms`` installed and one broken plugin, ``brokenconn``."""
    return ConnectorRegistry(
        connectors={"acme-wms": RegisteredConnector(ACME, "tests:ACME", "omnibridge-acme-connector", "0.1.0")},
        failures=[LoadFailure("brokenconn", "broken:spec", "broken-dist", "ImportError: no module named 'nope'")],
    )


WriteFile = Callable[[str, str], Path]


@pytest.fixture
def write(tmp_path: Path) -> WriteFile:
    """``write(relative_path, text)``: write dedented ``text`` under ``tmp_path`` and return the path."""

    def _write(relative: str, text: str) -> Path:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


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
