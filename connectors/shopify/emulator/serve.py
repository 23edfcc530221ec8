"""``omnibridge emulator shopify``: the Shopify emulator as ``config/connectors/shopify.yaml`` expects it."""

from __future__ import annotations

from omnibridge.sdk.emulator import EmulatorOptions, EmulatorServer

DEFAULT_PORT = 8801
ACCESS_TOKEN = "shpat_demo_emulator"  # noqa: S105 - the shipped profile's default, a public emulator value
API_SECRET = "demo-shopify-app-secret"  # noqa: S105 - idem
LOCATIONS = ("Denver warehouse", "Boulder store", "Fort Collins store")
"""Seeded locations, by the names config/mappings/shopify.yaml maps."""


def build(options: EmulatorOptions) -> EmulatorServer:
    """A shop with the catalog's products at every location, all at zero (none with ``--empty``)."""
    from connectors.shopify.emulator import ShopifyEmulator, ShopifyEmulatorConfig

    emulator = ShopifyEmulator(
        ShopifyEmulatorConfig(
            shop="alpine-outfitters-demo",
            access_token=ACCESS_TOKEN,
            api_secret=API_SECRET,
            webhook_url=options.webhook_url,
        )
    )
    if not options.empty:
        locations = [emulator.add_location(name) for name in LOCATIONS]
        for sku, title, price in options.items():
            emulator.add_product(sku=sku, title=title, price=f"{price:.2f}")
            for location in locations:
                emulator.set_available(sku, location, 0)
    base = options.base_url
    return EmulatorServer(
        app=emulator.app,
        emulator=emulator,
        summary=[
            f"Shopify emulator on {base}  (admin API: /admin/api/<version>/graphql.json)",
            f"  connector settings: shop_url: {base}, access_token: {ACCESS_TOKEN}, api_secret: {API_SECRET}",
            "  drive it: /_emulator/... (docs/emulators.md)",
        ],
    )
