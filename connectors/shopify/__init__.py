"""Shopify connector (Admin GraphQL API): metadata only. Importing this module stays cheap and side-effect free."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.shopify.settings import ShopifySettings
from omnibridge.sdk import Capability, ConnectorKind, ConnectorSpec, EmulatorHook, EmulatorOptions, EmulatorServer

if TYPE_CHECKING:
    from connectors.shopify.client import ShopifyClient

__all__ = ["ShopifySettings", "connector", "create_client"]
__version__ = "0.1.0"


def create_client(settings: ShopifySettings) -> ShopifyClient:
    """Build a live :class:`~connectors.shopify.client.ShopifyClient` from validated settings (the spec's factory)."""
    from connectors.shopify.client import ShopifyClient

    return ShopifyClient(settings)


def serve_emulator(options: EmulatorOptions) -> EmulatorServer:
    """The spec's emulator hook: ``omnibridge emulator shopify`` (imports the emulator only when called)."""
    from connectors.shopify.emulator.serve import build

    return build(options)


connector = ConnectorSpec(
    id="shopify",
    label="Shopify",
    kind=ConnectorKind.STOREFRONT,
    settings_model=ShopifySettings,
    capabilities=frozenset(
        {
            Capability.INVENTORY_READ,
            Capability.INVENTORY_WRITE,
            Capability.INVENTORY_COMPARE_AND_SET,
            Capability.ORDERS_READ,
            Capability.ORDERS_CANCEL,
            Capability.FULFILLMENT_WRITE,
            Capability.RETURNS_WRITE,
            Capability.LISTINGS_WRITE,
            Capability.PRICES_WRITE,
            Capability.WEBHOOKS,
        }
    ),
    factory=create_client,
    version=__version__,
    description="Shopify Admin GraphQL: available quantities per location (compare-and-set), orders, refunds, "
    "order cancellation (restocked, not refunded), product titles and variant prices, signed webhooks, "
    "fulfillment orders moved where omnibridge routes them, shipments confirmed with tracking, local pickups "
    "prepared and collected, returns requested, created, labelled and processed.",
    docs_url="https://shopify.dev/docs/api/admin-graphql",
    emulator=EmulatorHook(
        build=serve_emulator,
        default_port=8801,
        description="Shopify Admin GraphQL: three locations, the catalog at zero",
        settings={},
    ),
)
