"""Serve the Clover emulator: ``python -m connectors.clover.emulator [--port 8804] [--notification-url URL]``.

Prints the connector settings that point at it. ``--seed`` adds three demo items with stock.
"""

from __future__ import annotations

import argparse

from connectors.clover.emulator.app import CloverEmulator
from connectors.clover.emulator.config import CloverEmulatorConfig
from omnibridge.sdk.emulator import serve_forever

DEMO_ITEMS = (
    ("TENT-2P-GRN", "Trail tent", 19900, 12),
    ("MUG-ENAMEL", "Enamel mug", 1450, 40),
    ("SOCK-WOOL-M", "Wool socks", 1800, 25),
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m connectors.clover.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8804)
    parser.add_argument("--notification-url", default=None, help="where notifications are POSTed (X-Clover-Auth)")
    parser.add_argument("--seed", action="store_true", help="add demo items with stock")
    args = parser.parse_args(argv)
    emulator = CloverEmulator(CloverEmulatorConfig(notification_url=args.notification_url))
    if args.seed:
        for sku, name, cents, quantity in DEMO_ITEMS:
            emulator.add_item(sku, name, cents, quantity)
    cfg = emulator.config
    print(f"Clover emulator on http://{args.host}:{args.port}")
    print(
        f"  connector settings: base_url: http://{args.host}:{args.port}, merchant_id: {cfg.merchant_id}, "
        f"access_token: {cfg.access_token}, webhook_auth_code: {cfg.auth_code}"
    )
    print("  drive it: /_emulator/... (see connectors/clover/emulator/__init__.py); Ctrl-C stops it")
    serve_forever(emulator.app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
