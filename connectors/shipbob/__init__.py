"""ShipBob connector (3PL): metadata only. Importing this module stays cheap and side-effect free."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.shipbob.settings import ShipBobSettings
from omnibridge.sdk import Capability, ConnectorKind, ConnectorSpec, EmulatorHook, EmulatorOptions, EmulatorServer

if TYPE_CHECKING:
    from connectors.shipbob.client import ShipBobConnector

__all__ = ["ShipBobSettings", "connector", "create_client"]
__version__ = "0.1.0"


def create_client(settings: ShipBobSettings) -> ShipBobConnector:
    """Build a live :class:`~connectors.shipbob.client.ShipBobConnector` from validated settings."""
    from connectors.shipbob.client import ShipBobConnector

    return ShipBobConnector(settings)


def serve_emulator(options: EmulatorOptions) -> EmulatorServer:
    """The spec's emulator hook: ``omnibridge emulator shipbob`` (imports the emulator only when called)."""
    from connectors.shipbob.emulator.serve import build

    return build(options)


connector = ConnectorSpec(
    id="shipbob",
    label="ShipBob",
    kind=ConnectorKind.THIRD_PARTY_LOGISTICS,
    settings_model=ShipBobSettings,
    capabilities=frozenset({Capability.INVENTORY_READ, Capability.FULFILLMENT_WRITE, Capability.WEBHOOKS}),
    factory=create_client,
    version=__version__,
    description=(
        "ShipBob 1.0 (3PL): orders routed to a ShipBob fulfilment centre are created with reference_id as the "
        "idempotency key (a duplicate is read back); stock is polled per fulfilment centre (fulfillable); "
        "shipments with tracking come back by order_shipped webhooks (Standard Webhooks signature) or polling; "
        "return orders are polled with the action ShipBob took (restock, quarantine, dispose)."
    ),
    docs_url="https://developer.shipbob.com/",
    emulator=EmulatorHook(
        build=serve_emulator,
        default_port=8811,
        description="ShipBob 1.0: fulfilment centres, inventory, orders by reference_id, shipments, webhooks",
        settings={
            "requests_per_minute": "ShipBob's sliding-window limit (default 150)",
            "channel_id": "the ShipBob channel id the token writes as (default 1001)",
        },
    ),
)
