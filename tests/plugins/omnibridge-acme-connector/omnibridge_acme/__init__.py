"""ACME WMS connector: metadata only. Importing this module must stay cheap and side-effect free."""

from __future__ import annotations

from typing import TYPE_CHECKING

from omnibridge.sdk import Capability, ConnectorKind, ConnectorSpec
from omnibridge_acme.settings import AcmeSettings

if TYPE_CHECKING:
    from omnibridge_acme.client import AcmeClient

__all__ = ["AcmeSettings", "connector", "create_client"]
__version__ = "0.1.0"


def create_client(settings: AcmeSettings) -> AcmeClient:
    """Build a live client from validated settings (the spec's ``factory``)."""
    from omnibridge_acme.client import AcmeClient

    return AcmeClient(settings)


connector = ConnectorSpec(
    id="acme-wms",
    label="ACME WMS",
    kind=ConnectorKind.ERP_WMS,
    settings_model=AcmeSettings,
    capabilities=frozenset({Capability.INVENTORY_READ, Capability.INVENTORY_WRITE}),
    factory=create_client,
    version=__version__,
    description="Stock levels of one ACME warehouse: read on-hand counts, set or adjust them.",
)
