"""Square connector (POS): metadata only. Importing this module stays cheap and side-effect free."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.square.settings import SquareSettings
from omnibridge.sdk import Capability, ConnectorKind, ConnectorSpec, EmulatorHook, EmulatorOptions, EmulatorServer

if TYPE_CHECKING:
    from connectors.square.client import SquareConnector

__all__ = ["SquareSettings", "connector", "create_client"]
__version__ = "0.1.0"


def create_client(settings: SquareSettings) -> SquareConnector:
    """Build a live :class:`~connectors.square.client.SquareConnector` from validated settings."""
    from connectors.square.client import SquareConnector

    return SquareConnector(settings)


def serve_emulator(options: EmulatorOptions) -> EmulatorServer:
    """The spec's emulator hook: ``omnibridge emulator square`` (imports the emulator only when called)."""
    from connectors.square.emulator.serve import build

    return build(options)


connector = ConnectorSpec(
    id="square",
    label="Square",
    kind=ConnectorKind.POS,
    settings_model=SquareSettings,
    capabilities=frozenset(
        {
            Capability.INVENTORY_READ,
            Capability.INVENTORY_WRITE,
            Capability.ORDERS_READ,
            Capability.FULFILLMENT_WRITE,
            Capability.LISTINGS_WRITE,
            Capability.PRICES_WRITE,
            Capability.WEBHOOKS,
        }
    ),
    factory=create_client,
    version=__version__,
    description=(
        "Square POS: read and set IN_STOCK counts per location (absolute PHYSICAL_COUNT writes, no "
        "compare-and-set), poll orders and inventory changes, complete web orders' shipment fulfillments with "
        "tracking, move pickup fulfillments (curbside too), report returns at the till and refunds, set item "
        "names and variation prices, verify Square webhooks."
    ),
    docs_url="https://developer.squareup.com/reference/square",
    emulator=EmulatorHook(
        build=serve_emulator,
        default_port=8802,
        description="Square: two stores, the catalog at zero",
        settings={},
    ),
)
