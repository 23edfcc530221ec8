"""``omnibridge emulator clover``: the Clover emulator as ``config/connectors/clover.yaml`` expects it (the
emulator's own default credentials and merchant id)."""

from __future__ import annotations

from omnibridge.sdk.emulator import EmulatorOptions, EmulatorServer

DEFAULT_PORT = 8804


def build(options: EmulatorOptions) -> EmulatorServer:
    """One merchant (Clover keeps one inventory per merchant) with the catalog's items at zero."""
    from connectors.clover.emulator import CloverEmulator, CloverEmulatorConfig

    emulator = CloverEmulator(CloverEmulatorConfig(merchant_name="Golden store", notification_url=options.webhook_url))
    for sku, title, price in options.items():
        emulator.add_item(sku, title, int(price * 100), 0)
    config, base = emulator.config, options.base_url
    return EmulatorServer(
        app=emulator.app,
        emulator=emulator,
        summary=[
            f"Clover emulator on {base}",
            f"  connector settings: base_url: {base}, merchant_id: {config.merchant_id}, access_token: "
            f"{config.access_token}, webhook_auth_code: {config.auth_code}",
            "  drive it: /_emulator/... (docs/emulators.md)",
        ],
    )
