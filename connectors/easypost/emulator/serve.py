"""``omnibridge emulator easypost``: the EasyPost emulator as ``config/connectors/easypost.yaml`` expects it (the
emulator's own default key and webhook secret)."""

from __future__ import annotations

from omnibridge.sdk.emulator import EmulatorOptions, EmulatorServer

DEFAULT_PORT = 8805


def build(options: EmulatorOptions) -> EmulatorServer:
    """USPS, UPS, FedEx and DHL Express accounts; labels bought once; trackers (no catalog to seed)."""
    from connectors.easypost.emulator import EasyPostEmulator, EasyPostEmulatorConfig

    emulator = EasyPostEmulator(EasyPostEmulatorConfig(webhook_url=options.webhook_url))
    config, base = emulator.config, options.base_url
    return EmulatorServer(
        app=emulator.app,
        emulator=emulator,
        summary=[
            f"EasyPost emulator on {base}",
            f"  connector settings: base_url: {base}/v2, api_key: {config.api_key}, webhook_secret: "
            f"{config.webhook_secret}",
            "  drive it: /_emulator/... (docs/emulators.md)",
        ],
    )
