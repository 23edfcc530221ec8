"""Serve the EasyPost emulator: ``python -m connectors.easypost.emulator --port 8805 [--webhook-url URL]``.

Point a profile at it with ``base_url: http://127.0.0.1:8805/v2`` and the printed key and webhook secret;
drive it through ``/_emulator/...`` (see :mod:`connectors.easypost.emulator`). Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from connectors.easypost.emulator.app import EasyPostEmulator
from connectors.easypost.emulator.config import EasyPostEmulatorConfig
from omnibridge.sdk.emulator import serve_forever


def main(argv: Sequence[str] | None = None) -> None:
    defaults = EasyPostEmulatorConfig()
    parser = argparse.ArgumentParser(prog="python -m connectors.easypost.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8805)
    parser.add_argument("--api-key", default=defaults.api_key)
    parser.add_argument("--webhook-secret", default=defaults.webhook_secret)
    parser.add_argument("--webhook-url", default=None, help="where tracker.* Events are POSTed (default: kept only)")
    args = parser.parse_args(argv)
    emulator = EasyPostEmulator(
        EasyPostEmulatorConfig(api_key=args.api_key, webhook_secret=args.webhook_secret, webhook_url=args.webhook_url)
    )
    print(f"EasyPost emulator on http://{args.host}:{args.port}  (API: /v2, HTTP Basic user {args.api_key!r})")
    print(f"  webhook secret {args.webhook_secret!r}; events to {args.webhook_url or '(nowhere: kept only)'}")
    print('  drive it: POST /_emulator/advance {"tracking_code": ...}; see connectors/easypost/emulator/__init__.py')
    serve_forever(emulator.app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
