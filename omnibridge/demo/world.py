"""The demo's world: both emulators, omnibridge's webhook receiver, a temporary profile and its store.

Everything runs in one event loop on 127.0.0.1: the Shopify and Square emulators and the receiver are served by
uvicorn on free ports, so every API call and every webhook is real HTTP with real signatures. The profile is
written to a temporary directory exactly as a merchant would write it, and loaded through the normal loader.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from connectors.shopify.emulator import ShopifyEmulator, ShopifyEmulatorConfig
from connectors.square.emulator import SquareEmulator, SquareEmulatorConfig
from omnibridge.config import load_profile
from omnibridge.demo.catalog import DEMO_LOCATIONS, POS_LOCATIONS, WEB_LOCATIONS, demo_products, opening_stock
from omnibridge.models import MovementKind, Product, StockMovement
from omnibridge.sdk import Bucket
from omnibridge.sdk.emulator import free_port, run_server
from omnibridge.store import Store, open_store, utc_now
from omnibridge.sync import SyncEngine, receiver_app
from omnibridge.sync.engine import DAEMON_FETCH_WAIT

WEB, POS = "web", "pos"
SHOPIFY_TOKEN, SHOPIFY_SECRET = "shpat_demo_emulator", "demo-shopify-app-secret"
SQUARE_TOKEN, SQUARE_SIGNATURE_KEY = "EAAAdemo-emulator", "demo-square-signature-key"


@dataclass(frozen=True)
class DemoSettings:
    """Knobs of the demo world. The Shopify bucket is small on purpose, so the burst is visibly throttled."""

    shopify_api_version: str = "2026-04"
    shopify_bucket_size: float = 1000.0
    shopify_restore_rate: float = 50.0
    """Shopify's documented legacy Standard plan bucket: 1,000 points, 50 restored per second."""
    square_requests_per_second: float = 5.0
    square_burst: int = 10
    """Square publishes no limits; these are the emulator's (the rush at the till lowers them for a moment)."""
    api_latency_ms: tuple[float, float] = (5.0, 25.0)
    drifted_every: int = 7
    """Every n-th SKU starts with the wrong count on the POS, so the first sync has something to correct."""


@dataclass
class DemoWorld:
    workdir: Path
    store: Store
    engine: SyncEngine
    shopify: ShopifyEmulator
    square: SquareEmulator
    shopify_location: dict[str, str]
    """Profile location id -> Shopify location gid."""
    square_location: dict[str, str]
    """Profile location id -> Square location id."""
    receiver_url: str
    settings: DemoSettings

    def shows(self, channel: str, sku: str, location_id: str) -> int:
        """What ``channel`` shows for ``sku`` at ``location_id`` right now (read from the emulator's state)."""
        if channel == WEB:
            return self.shopify.available(sku, self.shopify_location[location_id])
        return self.square.quantity(sku, self.square_location[location_id])

    def pacing(self, channel: str) -> tuple[int, float]:
        """How many of the channel connector's requests waited for its rate limiter, and for how long in all."""
        bucket = getattr(self.engine.channels[channel].connector, "bucket", None)
        return (bucket.waits, bucket.waited_seconds) if isinstance(bucket, Bucket) else (0, 0.0)

    def channel_locations(self, channel: str) -> tuple[str, ...]:
        return WEB_LOCATIONS if channel == WEB else POS_LOCATIONS


def _write_yaml(path: Path, data: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def write_profile(
    workdir: Path, *, shopify_url: str, square_url: str, receiver_url: str, settings: DemoSettings
) -> Path:
    """Write the demo's merchant profile, connector profiles and mapping files; returns the profile path."""
    (workdir / "connectors").mkdir(parents=True, exist_ok=True)
    (workdir / "mappings").mkdir(parents=True, exist_ok=True)
    _write_yaml(
        workdir / "connectors" / "shopify.yaml",
        {
            "connector": "shopify",
            "settings": {
                "shop_url": shopify_url,
                "access_token": SHOPIFY_TOKEN,
                "api_secret": SHOPIFY_SECRET,
                "api_version": settings.shopify_api_version,
            },
        },
    )
    _write_yaml(
        workdir / "connectors" / "square.yaml",
        {
            "connector": "square",
            "settings": {
                "base_url": square_url,
                "access_token": SQUARE_TOKEN,
                "webhook_signature_key": SQUARE_SIGNATURE_KEY,
                "webhook_notification_url": f"{receiver_url}/webhooks/{POS}",
            },
        },
    )
    names = {location.id: location.name for location in DEMO_LOCATIONS}
    _write_yaml(workdir / "mappings" / "shopify.yaml", {"location_map": {names[i]: i for i in WEB_LOCATIONS}})
    _write_yaml(workdir / "mappings" / "square.yaml", {"location_map": {names[i]: i for i in POS_LOCATIONS}})
    profile = workdir / "omnibridge.yaml"
    _write_yaml(
        profile,
        {
            "version": 1,
            "merchant": {"name": "Alpine Outfitters (demo)", "currency": "USD", "timezone": "America/Denver"},
            "store": {"url": "sqlite:///omnibridge.db"},
            "locations": [
                {
                    "id": location.id,
                    "name": location.name,
                    "type": location.type.value,
                    "capabilities": sorted(c.value for c in location.capabilities),
                }
                for location in DEMO_LOCATIONS
            ],
            "channels": [
                {
                    "id": WEB,
                    "connector": "shopify",
                    "profile": "connectors/shopify.yaml",
                    "mappings": ["mappings/shopify.yaml"],
                    "priority": 10,
                },
                {
                    "id": POS,
                    "connector": "square",
                    "profile": "connectors/square.yaml",
                    "mappings": ["mappings/square.yaml"],
                    "priority": 20,
                },
            ],
        },
    )
    return profile


def seed_shopify(emulator: ShopifyEmulator, products: Sequence[Product] | None = None) -> dict[str, str]:
    """A web store selling ``products`` (default: the demo catalog) from all three locations, all at zero."""
    names = {location.id: location.name for location in DEMO_LOCATIONS}
    gids = {location_id: emulator.add_location(names[location_id]) for location_id in WEB_LOCATIONS}
    for product in demo_products() if products is None else products:
        for variant in product.variants:
            price = str(variant.price.amount) if variant.price else "0.00"
            emulator.add_product(sku=variant.sku, title=f"{product.title} - {variant.title}", price=price)
            for gid in gids.values():
                emulator.set_available(variant.sku, gid, 0)
    return gids


def seed_square(
    emulator: SquareEmulator, *, drifted_every: int, products: Sequence[Product] | None = None
) -> dict[str, str]:
    """A POS already in use in both stores: counts match the opening stock except every n-th SKU (0: none).

    With ``products`` other than the demo catalog, every count starts at zero."""
    names = {location.id: location.name for location in DEMO_LOCATIONS}
    ids = {location_id: emulator.add_location(names[location_id]) for location_id in POS_LOCATIONS}
    stock = opening_stock() if products is None else {}
    index = 0
    for product in demo_products() if products is None else products:
        for variant in product.variants:
            cents = int(variant.price.amount * 100) if variant.price else 0
            emulator.add_variation(sku=variant.sku, name=f"{product.title} - {variant.title}", price_cents=cents)
            for location_id, square_id in ids.items():
                quantity = stock.get((variant.sku, location_id), 0)
                if stock and drifted_every and index % drifted_every == 0:
                    quantity += 1
                emulator.set_count(variant.sku, square_id, quantity)
            index += 1
    return ids


def seed_ledger(store: Store) -> None:
    """The catalog and the opening balances, as receipts with stable keys (a re-run records nothing new)."""
    for location in DEMO_LOCATIONS:
        store.upsert_location(location)
    for product in demo_products():
        store.upsert_product(product)
    now = utc_now()
    for (sku, location_id), quantity in opening_stock().items():
        store.apply(
            StockMovement(
                idempotency_key=f"demo:opening:{sku}:{location_id}",
                source="manual",
                kind=MovementKind.RECEIPT,
                sku=sku,
                location_id=location_id,
                quantity=quantity,
                occurred_at=now,
                note="opening balance",
            )
        )


@asynccontextmanager
async def demo_world(workdir: Path, settings: DemoSettings | None = None) -> AsyncIterator[DemoWorld]:
    """Start the emulators and the receiver, write and load the profile, seed everything; stop it all after."""
    settings = settings or DemoSettings()
    shopify_port, square_port, receiver_port = free_port(), free_port(), free_port()
    shopify_url = f"http://127.0.0.1:{shopify_port}"
    square_url = f"http://127.0.0.1:{square_port}"
    receiver_url = f"http://127.0.0.1:{receiver_port}"

    shopify = ShopifyEmulator(
        ShopifyEmulatorConfig(
            shop="alpine-outfitters-demo",
            access_token=SHOPIFY_TOKEN,
            api_secret=SHOPIFY_SECRET,
            bucket_size=settings.shopify_bucket_size,
            restore_rate=settings.shopify_restore_rate,
            latency_ms=settings.api_latency_ms,
            webhook_url=f"{receiver_url}/webhooks/{WEB}",
        )
    )
    square = SquareEmulator(
        SquareEmulatorConfig(
            access_token=SQUARE_TOKEN,
            signature_key=SQUARE_SIGNATURE_KEY,
            notification_url=f"{receiver_url}/webhooks/{POS}",
            requests_per_second=settings.square_requests_per_second,
            burst=settings.square_burst,
            latency_ms=settings.api_latency_ms,
        )
    )
    shopify_location = seed_shopify(shopify)
    square_location = seed_square(square, drifted_every=settings.drifted_every)

    profile_path = write_profile(
        workdir, shopify_url=shopify_url, square_url=square_url, receiver_url=receiver_url, settings=settings
    )
    profile = load_profile(profile_path)
    with open_store(profile.store_url) as store:
        seed_ledger(store)
        engine = SyncEngine.for_profile(store, profile, fetch_wait=DAEMON_FETCH_WAIT)
        try:
            async with (
                run_server(shopify.app, port=shopify_port),
                run_server(square.app, port=square_port),
                run_server(receiver_app(engine), port=receiver_port),
            ):
                yield DemoWorld(
                    workdir, store, engine, shopify, square, shopify_location, square_location, receiver_url, settings
                )
                await shopify.webhooks.drain(timeout=10)
                await square.webhooks.drain(timeout=10)
        finally:
            await engine.aclose()
            await shopify.webhooks.aclose()
            await square.webhooks.aclose()
