"""ACME WMS connector: metadata only. Importing this module must stay cheap and side-effect free."""

from __future__ import annotations

from typing import TYPE_CHECKING

from omnibridge.sdk import Capability, ConnectorKind, ConnectorSpec, EmulatorHook, EmulatorOptions, EmulatorServer
from omnibridge_acme.settings import AcmeSettings

if TYPE_CHECKING:
    from omnibridge_acme.client import AcmeClient

__all__ = ["AcmeSettings", "connector", "create_client"]
__version__ = "0.1.0"


def create_client(settings: AcmeSettings) -> AcmeClient:
    """Build a live client from validated settings (the spec's ``factory``)."""
    from omnibridge_acme.client import AcmeClient

    return AcmeClient(settings)


def serve_emulator(options: EmulatorOptions) -> EmulatorServer:
    """``omnibridge emulator acme-wms``: warehouse ``--set warehouse=CODE`` (default DEN1, as the shipped profile)."""
    from omnibridge_acme.emulator import AcmeEmulator, AcmeEmulatorConfig

    code = options.text("warehouse", "DEN1")
    emulator = AcmeEmulator(AcmeEmulatorConfig(warehouse_code=code))
    key = emulator.config.api_key
    return EmulatorServer(
        app=emulator.app,
        emulator=emulator,
        summary=[f"ACME WMS emulator on {options.base_url}/v1 (warehouse {code}, X-Api-Key {key})"],
    )


connector = ConnectorSpec(
    id="acme-wms",
    label="ACME WMS",
    kind=ConnectorKind.ERP_WMS,
    settings_model=AcmeSettings,
    capabilities=frozenset({Capability.INVENTORY_READ, Capability.INVENTORY_WRITE}),
    factory=create_client,
    version=__version__,
    description="Stock levels of one ACME warehouse: read on-hand counts, set or adjust them.",
    emulator=EmulatorHook(
        build=serve_emulator,
        default_port=8890,
        description="ACME WMS stock API, one warehouse",
        settings={"warehouse": "the warehouse code (default DEN1)"},
    ),
)
