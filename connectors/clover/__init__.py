"""Clover connector (POS): metadata only. Importing this module stays cheap and side-effect free."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.clover.settings import CloverSettings
from omnibridge.sdk import Capability, ConnectorKind, ConnectorSpec, EmulatorHook, EmulatorOptions, EmulatorServer

if TYPE_CHECKING:
    from connectors.clover.client import CloverConnector

__all__ = ["CloverSettings", "connector", "create_client"]
__version__ = "0.1.0"


def create_client(settings: CloverSettings) -> CloverConnector:
    """Build a live :class:`~connectors.clover.client.CloverConnector` from validated settings."""
    from connectors.clover.client import CloverConnector

    return CloverConnector(settings)


def serve_emulator(options: EmulatorOptions) -> EmulatorServer:
    """The spec's emulator hook: ``omnibridge emulator clover`` (imports the emulator only when called)."""
    from connectors.clover.emulator.serve import build

    return build(options)


connector = ConnectorSpec(
    id="clover",
    label="Clover",
    kind=ConnectorKind.POS,
    settings_model=CloverSettings,
    capabilities=frozenset(
        {
            Capability.INVENTORY_READ,
            Capability.INVENTORY_WRITE,
            Capability.ORDERS_READ,
            Capability.WEBHOOKS,
            Capability.LISTINGS_WRITE,
            Capability.PRICES_WRITE,
        }
    ),
    factory=create_client,
    version=__version__,
    description=(
        "Clover POS (REST v3): one inventory per merchant; read and set item stock (absolute item_stocks writes, "
        "no compare-and-set), poll paid orders by modifiedTime, verify X-Clover-Auth webhooks, set item names "
        "and prices. Respects Clover's 16 requests/s and 5 concurrent requests per token."
    ),
    docs_url="https://docs.clover.com/dev/reference/api-reference-overview",
    emulator=EmulatorHook(
        build=serve_emulator,
        default_port=8804,
        description="Clover REST v3: one merchant, the catalog at zero",
        settings={},
    ),
)
