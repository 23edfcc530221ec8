"""EasyPost connector (carrier aggregator): metadata only. Importing this module stays cheap and side-effect free."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.easypost.settings import EasyPostSettings
from omnibridge.sdk import Capability, ConnectorKind, ConnectorSpec, EmulatorHook, EmulatorOptions, EmulatorServer

if TYPE_CHECKING:
    from connectors.easypost.client import EasyPostConnector

__all__ = ["EasyPostSettings", "connector", "create_client"]
__version__ = "0.1.0"


def create_client(settings: EasyPostSettings) -> EasyPostConnector:
    """Build a live :class:`~connectors.easypost.client.EasyPostConnector` from validated settings."""
    from connectors.easypost.client import EasyPostConnector

    return EasyPostConnector(settings)


def serve_emulator(options: EmulatorOptions) -> EmulatorServer:
    """The spec's emulator hook: ``omnibridge emulator easypost`` (imports the emulator only when called)."""
    from connectors.easypost.emulator.serve import build

    return build(options)


connector = ConnectorSpec(
    id="easypost",
    label="EasyPost",
    kind=ConnectorKind.CARRIER,
    settings_model=EasyPostSettings,
    capabilities=frozenset({Capability.RATES, Capability.LABELS, Capability.TRACKING, Capability.WEBHOOKS}),
    factory=create_client,
    version=__version__,
    description=(
        "EasyPost v2: rate a parcel across USPS/UPS/FedEx/DHL Express accounts, buy the label once (a lost "
        "response is resolved by re-reading the shipment, never by buying again), track parcels by polling "
        "trackers or by verified tracker.updated webhooks."
    ),
    docs_url="https://docs.easypost.com/docs",
    emulator=EmulatorHook(
        build=serve_emulator,
        default_port=8805,
        description="EasyPost v2: four carrier accounts, labels, trackers",
        settings={},
    ),
)
