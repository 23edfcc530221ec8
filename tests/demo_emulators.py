"""Every emulator of the demo served on loopback ports from a background event loop, with the demo's full profile
(Shopify, Square, Amazon, Clover, an ERP folder, EasyPost) pointing at them: for tests that run the CLI, which
runs its own event loop. Kept outside tests/demo so that any test folder imports it as a top-level module."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from anyio.from_thread import start_blocking_portal

from connectors.shopify.emulator import ShopifyEmulator, ShopifyEmulatorConfig
from connectors.square.emulator import SquareEmulator, SquareEmulatorConfig
from omnibridge.demo import world
from omnibridge.demo.vendors import VendorEmulators, VendorUrls, build_emulators
from omnibridge.sdk.emulator import free_port, run_server


@dataclass
class DemoEmulators:
    """The served emulators, the profile that points at them, and each emulator's location ids by profile id."""

    profile: Path
    shopify: ShopifyEmulator
    square: SquareEmulator
    vendors: VendorEmulators
    web_locations: dict[str, str]
    pos_locations: dict[str, str]


@contextmanager
def served_demo_emulators(workdir: Path) -> Iterator[DemoEmulators]:
    """Seed and serve every demo emulator and write the demo's profile in ``workdir`` for the block."""
    shopify = ShopifyEmulator(ShopifyEmulatorConfig(access_token=world.SHOPIFY_TOKEN, api_secret=world.SHOPIFY_SECRET))
    square = SquareEmulator(
        SquareEmulatorConfig(access_token=world.SQUARE_TOKEN, signature_key=world.SQUARE_SIGNATURE_KEY)
    )
    web_locations = world.seed_shopify(shopify)
    pos_locations = world.seed_square(square, drifted_every=7)
    ports = [free_port() for _ in range(5)]
    amazon, clover, easypost = (f"http://127.0.0.1:{port}" for port in ports[2:])
    urls = VendorUrls(amazon=amazon, clover=clover, easypost=easypost, receiver="http://127.0.0.1:9")
    vendors = build_emulators(urls, latency_ms=(0, 0), feed_processing_s=0, clover_drifted_every=7)
    profile = world.write_profile(
        workdir,
        shopify_url=f"http://127.0.0.1:{ports[0]}",
        square_url=f"http://127.0.0.1:{ports[1]}",
        receiver_url="http://127.0.0.1:9",
        settings=world.DemoSettings(),
        vendors=urls,
    )
    apps = [shopify.app, square.app, vendors.amazon.app, vendors.clover.app, vendors.easypost.app]
    with start_blocking_portal() as portal, ExitStack() as servers:
        for app, port in zip(apps, ports, strict=True):
            servers.enter_context(portal.wrap_async_context_manager(run_server(app, port=port)))
        yield DemoEmulators(profile, shopify, square, vendors, web_locations, pos_locations)
