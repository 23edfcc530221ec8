"""``omnibridge emulator amazon``: the Amazon SP-API emulator as ``config/connectors/amazon.yaml`` expects it (the
emulator's own default LWA credentials, seller id and forwarder secret)."""

from __future__ import annotations

from omnibridge.sdk.emulator import EmulatorOptions, EmulatorServer

DEFAULT_PORT = 8803
DEFAULT_LISTING_DELAY_S = 120.0


def build(options: EmulatorOptions) -> EmulatorServer:
    """Every catalog SKU listed at quantity 0, Amazon's default rate limits."""
    from connectors.amazon.emulator import AmazonEmulator, AmazonEmulatorConfig

    emulator = AmazonEmulator(
        AmazonEmulatorConfig(
            notification_url=options.webhook_url,
            # pre-signed feed URLs from the address it serves on, not from the request's Host header (a client that
            # assumes https:// sends a Host one character short over http://)
            public_url=options.base_url,
            feed_processing_s=options.number("feed_processing_s", AmazonEmulatorConfig.feed_processing_s),
            report_processing_s=options.number("report_processing_s", AmazonEmulatorConfig.report_processing_s),
            # Amazon shows an accepted listings change minutes later: serve it that way unless told otherwise.
            listing_delay_s=options.number("listing_delay_s", DEFAULT_LISTING_DELAY_S),
        )
    )
    for sku, title, price in options.items():
        emulator.control.seed_listing(sku, title=title, price=str(price))
    config, base = emulator.config, options.base_url
    return EmulatorServer(
        app=emulator.app,
        emulator=emulator,
        summary=[
            f"Amazon SP-API emulator on {base}  (LWA: {base}/auth/o2/token)",
            f"  connector settings: endpoint: {base}, lwa_endpoint: {base}/auth/o2/token, client_id: "
            f"{config.client_id}, client_secret: {config.client_secret}, refresh_token: {config.refresh_token}, "
            f"seller_id: {config.seller_id}, forwarder_secret: {config.forwarder_secret}",
            f"  supply sources (shipFromSupplySourceId): {', '.join(config.supply_source_ids)}",
            "  drive it: /_emulator/... (docs/emulators.md)",
        ],
    )
