"""Test helpers shared across folders: a stand-in for the third-party ``acme-wms`` connector (for tests that must
not depend on it being installed) and the type of the ``write`` fixture."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, HttpUrl, SecretStr

from omnibridge.sdk.metadata import Capability, ConnectorKind, ConnectorSpec
from omnibridge.sdk.registry import ConnectorRegistry, LoadFailure, RegisteredConnector

WriteFile = Callable[[str, str], Path]
"""``write(relative_path, text)`` from the ``write`` fixture in tests/conftest.py."""


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


def acme_registry(*, broken: str = "brokenconn") -> ConnectorRegistry:
    """A registry with only ``acme-wms`` installed and one plugin named ``broken`` that failed to load."""
    return ConnectorRegistry(
        connectors={
            "acme-wms": RegisteredConnector(ACME, "omnibridge_acme:connector", "omnibridge-acme-connector", "0.1.0")
        },
        failures=[
            LoadFailure(broken, f"{broken}_pkg:spec", "broken-dist", f"ImportError: No module named '{broken}_pkg'")
        ],
    )
