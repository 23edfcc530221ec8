"""The demo's other built-in connectors: Amazon (marketplace), Clover (a second POS), an ERP file feed and EasyPost.

Each vendor gets its emulator (built here, served by :mod:`omnibridge.demo.world`), the connector profile and mapping
file a merchant would write, and its seed data. Credentials are the emulators' public demo values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.amazon.emulator import AmazonEmulator, AmazonEmulatorConfig
from connectors.clover.emulator import CloverEmulator, CloverEmulatorConfig
from connectors.easypost.emulator import EasyPostEmulator, EasyPostEmulatorConfig
from omnibridge.demo.catalog import (
    AMAZON_LOCATIONS,
    CLOVER_LOCATIONS,
    ERP_LOCATION_CODES,
    demo_products,
    golden_opening_stock,
)
from omnibridge.models import Product

AMAZON, CLOVER, ERP, PARCELS = "amazon", "clover", "erp", "parcels"
AMAZON_FORWARDER_SECRET = "demo-amazon-forwarder-secret"  # noqa: S105 - the demo's public value
CLOVER_TOKEN, CLOVER_AUTH_CODE = "clover-demo-token", "demo-clover-auth-code"
CLOVER_MERCHANT_ID = "ALPINEGOLDEN1"
"""Clover's 13-character merchant id: Clover keeps one inventory per merchant, so it is the connector's location."""
EASYPOST_KEY, EASYPOST_WEBHOOK_SECRET = "EZTKdemoemulator", "demo-easypost-webhook-secret"
AMAZON_DEFAULTS = AmazonEmulatorConfig()
"""The LWA credentials and seller id the Amazon emulator accepts (its defaults)."""


@dataclass(frozen=True)
class VendorUrls:
    """Where each vendor emulator listens, and the receiver that gets their notifications."""

    amazon: str
    clover: str
    easypost: str
    receiver: str


@dataclass(frozen=True)
class VendorEmulators:
    amazon: AmazonEmulator
    clover: CloverEmulator
    easypost: EasyPostEmulator


def build_emulators(
    urls: VendorUrls, *, latency_ms: tuple[float, float], feed_processing_s: float, clover_drifted_every: int
) -> VendorEmulators:
    """The three emulators, seeded: Amazon lists every SKU at 0, Clover holds Golden's stock (every n-th SKU one
    unit off, so the first sync has something to correct), EasyPost has its default carrier accounts."""
    amazon = AmazonEmulator(
        AmazonEmulatorConfig(
            notification_url=f"{urls.receiver}/webhooks/{AMAZON}",
            forwarder_secret=AMAZON_FORWARDER_SECRET,
            feed_processing_s=feed_processing_s,
            latency_ms=latency_ms,
        )
    )
    clover = CloverEmulator(
        CloverEmulatorConfig(
            access_token=CLOVER_TOKEN,
            merchant_id=CLOVER_MERCHANT_ID,
            merchant_name="Golden store",
            auth_code=CLOVER_AUTH_CODE,
            notification_url=f"{urls.receiver}/webhooks/{CLOVER}",
            latency_ms=latency_ms,
        )
    )
    easypost = EasyPostEmulator(
        EasyPostEmulatorConfig(
            api_key=EASYPOST_KEY,
            webhook_secret=EASYPOST_WEBHOOK_SECRET,
            webhook_url=f"{urls.receiver}/webhooks/{PARCELS}",
            latency_ms=latency_ms,
        )
    )
    seed_amazon(amazon)
    seed_clover(clover, drifted_every=clover_drifted_every)
    return VendorEmulators(amazon, clover, easypost)


def seed_amazon(emulator: AmazonEmulator, products: Sequence[Product] | None = None) -> None:
    """A listing for every SKU with its title and price and a merchant-fulfilled quantity of 0."""
    for product in demo_products() if products is None else products:
        for variant in product.variants:
            price = str(variant.price.amount) if variant.price else None
            emulator.control.seed_listing(variant.sku, title=f"{product.title} - {variant.title}", price=price)


def seed_clover(emulator: CloverEmulator, *, drifted_every: int, products: Sequence[Product] | None = None) -> None:
    """An item per SKU; with the demo catalog, Golden's opening stock (every ``drifted_every``-th SKU one unit
    short), otherwise no stock."""
    stock = golden_opening_stock() if products is None else {}
    (location_id,) = CLOVER_LOCATIONS
    index = 0
    for product in demo_products() if products is None else products:
        for variant in product.variants:
            cents = int(variant.price.amount * 100) if variant.price else 0
            quantity = stock.get((variant.sku, location_id), 0)
            if stock and drifted_every and index % drifted_every == 0 and quantity > 0:
                quantity -= 1
            emulator.add_item(variant.sku, f"{product.title} - {variant.title}", cents, quantity)
            index += 1


def erp_inbox(workdir: Path) -> Path:
    """The folder the ERP drops its stock counts into (processed/ and failed/ are made inside it)."""
    return workdir / "erp" / "inbox"


def _mapping(table: dict[str, str]) -> dict[str, Any]:
    return {"location_map": table}


def connector_files(
    workdir: Path, urls: VendorUrls, *, feed_threshold: int, feed_poll_seconds: float
) -> dict[str, tuple[dict[str, Any], dict[str, Any] | None]]:
    """Each new channel's connector profile and mapping file contents, by channel id."""
    erp_inbox(workdir).mkdir(parents=True, exist_ok=True)
    (amazon_location,) = AMAZON_LOCATIONS
    (clover_location,) = CLOVER_LOCATIONS
    return {
        AMAZON: (
            {
                "connector": "amazon",
                "settings": {
                    "endpoint": urls.amazon,
                    "lwa_endpoint": f"{urls.amazon}/auth/o2/token",
                    "client_id": AMAZON_DEFAULTS.client_id,
                    "client_secret": AMAZON_DEFAULTS.client_secret,
                    "refresh_token": AMAZON_DEFAULTS.refresh_token,
                    "seller_id": AMAZON_DEFAULTS.seller_id,
                    "marketplace_id": AMAZON_DEFAULTS.marketplace_id,
                    "forwarder_secret": AMAZON_FORWARDER_SECRET,
                    "feed_threshold": feed_threshold,
                    "feed_poll_seconds": feed_poll_seconds,
                },
            },
            _mapping({"DEFAULT": amazon_location}),
        ),
        CLOVER: (
            {
                "connector": "clover",
                "settings": {
                    "base_url": urls.clover,
                    "merchant_id": CLOVER_MERCHANT_ID,
                    "access_token": CLOVER_TOKEN,
                    "webhook_auth_code": CLOVER_AUTH_CODE,
                },
            },
            _mapping({CLOVER_MERCHANT_ID: clover_location}),
        ),
        ERP: (
            {
                "connector": "files",
                "settings": {
                    "inbox": str(erp_inbox(workdir)),
                    # The demo drops files by rename (as an ERP must), so they are complete at once.
                    "stable_seconds": 0,
                    "locations": sorted(ERP_LOCATION_CODES),
                },
            },
            _mapping(dict(ERP_LOCATION_CODES)),
        ),
        PARCELS: (
            {
                "connector": "easypost",
                "settings": {
                    "base_url": f"{urls.easypost}/v2",
                    "api_key": EASYPOST_KEY,
                    "webhook_secret": EASYPOST_WEBHOOK_SECRET,
                },
            },
            None,
        ),
    }


CHANNEL_PRIORITIES = {AMAZON: 15, CLOVER: 20, ERP: 0, PARCELS: 0}
"""Amazon ranks between the web store (10) and the POS (20) when channels compete for the last units."""
