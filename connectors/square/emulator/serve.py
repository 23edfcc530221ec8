"""``omnibridge emulator square``: the Square emulator as ``config/connectors/square.yaml`` expects it."""

from __future__ import annotations

from omnibridge.sdk.emulator import EmulatorOptions, EmulatorServer

DEFAULT_PORT = 8802
ACCESS_TOKEN = "EAAAdemo-emulator"  # noqa: S105 - the shipped profile's default, a public emulator value
SIGNATURE_KEY = "demo-square-signature-key"
LOCATIONS = ("Boulder store", "Fort Collins store")
"""Seeded locations, by the names config/mappings/square.yaml maps."""


def build(options: EmulatorOptions) -> EmulatorServer:
    """Two stores with the catalog's items, counts at zero (none with ``--empty``)."""
    from connectors.square.emulator import SquareEmulator, SquareEmulatorConfig

    emulator = SquareEmulator(
        SquareEmulatorConfig(
            access_token=ACCESS_TOKEN, signature_key=SIGNATURE_KEY, notification_url=options.webhook_url
        )
    )
    if not options.empty:
        locations = [emulator.add_location(name) for name in LOCATIONS]
        for sku, title, price in options.items():
            emulator.add_variation(sku=sku, name=title, price_cents=int(price * 100))
            for location in locations:
                emulator.set_count(sku, location, 0)
    base = options.base_url
    return EmulatorServer(
        app=emulator.app,
        emulator=emulator,
        summary=[
            f"Square emulator on {base}",
            f"  connector settings: base_url: {base}, access_token: {ACCESS_TOKEN}, "
            f"webhook_signature_key: {SIGNATURE_KEY}",
            "  drive it: /_emulator/... (docs/emulators.md)",
        ],
    )
