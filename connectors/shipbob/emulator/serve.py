"""``omnibridge emulator shipbob``: the ShipBob emulator as ``config/connectors/shipbob.yaml`` expects it."""

from __future__ import annotations

from omnibridge.sdk.emulator import EmulatorOptions, EmulatorServer

DEFAULT_PORT = 8811
SEED_UNITS = 25


def build(options: EmulatorOptions) -> EmulatorServer:
    """Three fulfilment centres; each catalog SKU stocked at the first one (none with ``--empty``)."""
    from connectors.shipbob.emulator import ShipBobEmulator, ShipBobEmulatorConfig
    from connectors.shipbob.emulator.state import DEFAULT_CENTRES

    options.check_settings(
        {"requests_per_minute": "sliding-window limit", "channel_id": "the channel the token writes as"}
    )
    config = ShipBobEmulatorConfig(
        webhook_url=options.webhook_url,
        requests_per_minute=int(options.number("requests_per_minute", 150)),
        channel_id=int(options.number("channel_id", 1001)),
    )
    emulator = ShipBobEmulator(config)
    first = DEFAULT_CENTRES[0].id
    for sku, _title, _price in options.items():
        emulator.set_stock(sku, first, SEED_UNITS)
    base = options.base_url
    return EmulatorServer(
        app=emulator.app,
        emulator=emulator,
        summary=[
            f"ShipBob emulator on {base}  (API: {base}/1.0/...)",
            f"  connector settings: base_url: {base}, personal_access_token: {config.token}, "
            f"shipbob_channel_id: {config.channel_id}, webhook_secret: {config.webhook_secret}",
            "  fulfilment centres: " + ", ".join(f"{c.id} {c.name}" for c in DEFAULT_CENTRES),
            "  drive it: POST /_emulator/orders/REFERENCE/ship; /_emulator/... (docs/emulators.md)",
        ],
    )
