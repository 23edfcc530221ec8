"""File-feed connector (ERP/WMS): metadata only. Importing this module stays cheap and side-effect free."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.files.settings import FilesSettings
from omnibridge.sdk import Capability, ConnectorKind, ConnectorSpec, EmulatorHook, EmulatorOptions, EmulatorServer

if TYPE_CHECKING:
    from connectors.files.client import FilesConnector

__all__ = ["FilesSettings", "connector", "create_client"]
__version__ = "0.1.0"


def create_client(settings: FilesSettings) -> FilesConnector:
    """Build a live :class:`~connectors.files.client.FilesConnector` from validated settings."""
    from connectors.files.client import FilesConnector

    return FilesConnector(settings)


def serve_emulator(options: EmulatorOptions) -> EmulatorServer:
    """The spec's emulator hook: ``omnibridge emulator files`` (imports the emulator only when called)."""
    from connectors.files.emulator import build

    return build(options)


connector = ConnectorSpec(
    id="files",
    label="ERP/WMS file feed",
    kind=ConnectorKind.ERP_WMS,
    settings_model=FilesSettings,
    capabilities=frozenset({Capability.INVENTORY_READ, Capability.FILES}),
    factory=create_client,
    version=__version__,
    description=(
        "Folder exchange with an ERP or WMS: stock-count files (CSV/JSON) dropped in an inbox become ledger counts "
        "(a stock source, never written to); orders and shipments are exported to an outbox folder. With "
        "purchase_orders set it is a dropship supplier: purchase orders out, acknowledgements and ship "
        "confirmations in."
    ),
    docs_url=None,
    emulator=EmulatorHook(
        build=serve_emulator,
        default_port=8806,
        description="an ERP dropping count files in the profile's inbox, or a dropship supplier answering POs",
        settings={
            "inbox": "count files are written here (default ${ERP_INBOX:-/srv/erp/inbox})",
            "outbox": "omnibridge exports here (default ${ERP_OUTBOX:-/srv/erp/outbox})",
            "po_folder": "as a dropship supplier, purchase orders are read here (default <outbox>/po)",
        },
    ),
)
