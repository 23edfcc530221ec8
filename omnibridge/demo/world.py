"""The demo's world: every built-in connector's emulator, omnibridge's webhook receiver, a profile and its store.

Everything runs in one event loop on 127.0.0.1: the Shopify, Square, Amazon, Clover and EasyPost emulators and the
receiver are served by uvicorn on free ports, so every API call and every webhook is real HTTP with real
signatures; the ERP drops files into a folder of the work directory. The profile is written to a temporary
directory exactly as a merchant would write it, and loaded through the normal loader. Webhooks of the carrier
channel (EasyPost) reach the same receiver, which hands them to the carrier runtime
(:class:`omnibridge.shipping.runtime.CarrierRuntime`): stored in the inbox, then applied by the shipping service.

:func:`write_profile`, :func:`seed_shopify`, :func:`seed_square` and :func:`seed_ledger` keep building the
two-channel world (web + POS, three locations) unless asked for more: other tests build on it.
"""

from __future__ import annotations

import math
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from connectors.shopify.emulator import ShopifyEmulator, ShopifyEmulatorConfig
from connectors.square.emulator import SquareEmulator, SquareEmulatorConfig
from omnibridge.config import load_profile
from omnibridge.demo.catalog import (
    ALL_LOCATIONS,
    ALL_WEB_LOCATIONS,
    AMAZON_LOCATIONS,
    CLOVER_LOCATIONS,
    DEMO_LOCATIONS,
    POS_LOCATIONS,
    WEB_LOCATIONS,
    demo_products,
    golden_opening_stock,
    opening_stock,
)
from omnibridge.demo.profile import write_profile
from omnibridge.demo.serving import bind_sockets, serve, url_of
from omnibridge.demo.settings import (
    POS,
    SHOPIFY_SECRET,
    SHOPIFY_TOKEN,
    SQUARE_SIGNATURE_KEY,
    SQUARE_TOKEN,
    WEB,
    DemoSettings,
)
from omnibridge.demo.vendors import (
    AMAZON,
    CLOVER,
    ERP,
    PARCELS,
    VendorEmulators,
    VendorUrls,
    build_emulators,
    erp_inbox,
)
from omnibridge.models import MovementKind, Product, StockMovement
from omnibridge.sdk import Bucket
from omnibridge.shipping import ShippingService
from omnibridge.shipping.runtime import CarrierRuntime
from omnibridge.store import Store, open_store, utc_now
from omnibridge.sync import SyncEngine, receiver_app
from omnibridge.sync.engine import DAEMON_FETCH_WAIT
from omnibridge.sync.offload import StoreThreads

CHANNEL_LOCATIONS: dict[str, tuple[str, ...]] = {
    WEB: ALL_WEB_LOCATIONS,
    POS: POS_LOCATIONS,
    AMAZON: AMAZON_LOCATIONS,
    CLOVER: CLOVER_LOCATIONS,
}
"""The profile locations each sales channel of the full demo shows stock for."""
SALES_CHANNELS = tuple(CHANNEL_LOCATIONS)


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
    vendors: VendorEmulators
    carriers: CarrierRuntime
    erp_inbox: Path

    @property
    def shipping(self) -> ShippingService:
        """The shipping service of the carrier channel (EasyPost)."""
        return self.carriers.channels[PARCELS].service

    def shows(self, channel: str, sku: str, location_id: str) -> int:
        """What ``channel`` shows for ``sku`` at ``location_id`` right now (read from the emulator's state)."""
        if channel == WEB:
            return self.shopify.available(sku, self.shopify_location[location_id])
        if channel == AMAZON:
            return self.vendors.amazon.control.listing_quantity(sku) or 0
        if channel == CLOVER:
            return math.floor(self.vendors.clover.quantity(sku))  # Clover counts in floats; sellable units
        return self.square.quantity(sku, self.square_location[location_id])

    def pacing(self, channel: str) -> tuple[int, float]:
        """How many of the channel connector's requests waited for its rate limiter, and for how long in all."""
        bucket = getattr(self.engine.channels[channel].connector, "bucket", None)
        return (bucket.waits, bucket.waited_seconds) if isinstance(bucket, Bucket) else (0, 0.0)

    def channel_locations(self, channel: str) -> tuple[str, ...]:
        return CHANNEL_LOCATIONS[channel]

    async def drain_webhooks(self, timeout: float) -> None:
        """Wait until every emulator has delivered (or given up on) what it queued."""
        await self.shopify.webhooks.drain(timeout=timeout)
        await self.square.webhooks.drain(timeout=timeout)
        await self.vendors.amazon.control.drain(timeout=timeout)
        await self.vendors.clover.webhooks.drain(timeout=timeout)
        await self.vendors.easypost.webhooks.drain(timeout=timeout)


def seed_shopify(
    emulator: ShopifyEmulator, products: Sequence[Product] | None = None, *, locations: Sequence[str] = WEB_LOCATIONS
) -> dict[str, str]:
    """A web store selling ``products`` (default: the demo catalog) from ``locations`` (default: the three of
    the two-channel world), all at zero."""
    names = {location.id: location.name for location in ALL_LOCATIONS}
    gids = {location_id: emulator.add_location(names[location_id]) for location_id in locations}
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


def seed_ledger(store: Store, *, golden: bool = False) -> None:
    """The catalog and the opening balances, as receipts with stable keys (a re-run records nothing new); with
    ``golden``, also the Golden store and its stock (the full demo)."""
    for location in ALL_LOCATIONS if golden else DEMO_LOCATIONS:
        store.upsert_location(location)
    for product in demo_products():
        store.upsert_product(product)
    now = utc_now()
    stock = {**opening_stock(), **(golden_opening_stock() if golden else {})}
    for (sku, location_id), quantity in stock.items():
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
async def demo_world(
    workdir: Path, settings: DemoSettings | None = None, *, serve_receiver: bool = True
) -> AsyncIterator[DemoWorld]:
    """Start the emulators and the receiver, write and load the profile, seed everything; stop it all after.

    Without ``serve_receiver`` the receiver's port (``DemoWorld.receiver_url``) is left free for a daemon the
    caller starts on the profile (``omnibridge run``): the world's own engine is then never run, only its store
    is used."""
    settings = settings or DemoSettings()
    sockets = bind_sockets(("shopify", "square", "amazon", "clover", "easypost", "receiver"))
    url = {name: url_of(sock) for name, sock in sockets.items()}
    receiver_url = url["receiver"]

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
    vendor_urls = VendorUrls(url["amazon"], url["clover"], url["easypost"], receiver_url)
    vendors = build_emulators(
        vendor_urls,
        latency_ms=settings.api_latency_ms,
        feed_processing_s=settings.amazon_feed_processing_s,
        clover_drifted_every=settings.clover_drifted_every,
    )
    shopify_location = seed_shopify(shopify, locations=ALL_WEB_LOCATIONS if settings.every_vendor else WEB_LOCATIONS)
    square_location = seed_square(square, drifted_every=settings.drifted_every)

    profile_path = write_profile(
        workdir,
        shopify_url=url["shopify"],
        square_url=url["square"],
        receiver_url=receiver_url,
        settings=settings,
        vendors=vendor_urls if settings.every_vendor else None,
    )
    profile = load_profile(profile_path)
    with open_store(profile.store_url) as store:
        seed_ledger(store, golden=settings.every_vendor)
        carriers = CarrierRuntime.for_profile(store, profile)
        engine = SyncEngine.for_profile(
            store, profile, fetch_wait=DAEMON_FETCH_WAIT, foreign_channels=list(carriers.channels)
        )
        world = DemoWorld(
            workdir,
            store,
            engine,
            shopify,
            square,
            shopify_location,
            square_location,
            receiver_url,
            settings,
            vendors,
            carriers,
            erp_inbox(workdir),
        )
        senders = (shopify.webhooks, square.webhooks, vendors.clover.webhooks, vendors.easypost.webhooks)
        receiver = sockets.pop("receiver")
        try:
            async with (
                serve(shopify.app, sockets["shopify"]),
                serve(square.app, sockets["square"]),
                serve(vendors.amazon.app, sockets["amazon"]),
                serve(vendors.clover.app, sockets["clover"]),
                serve(vendors.easypost.app, sockets["easypost"]),
                _receiver(engine, carriers, receiver, serve_receiver),
            ):
                yield world
                await world.drain_webhooks(timeout=10)
        finally:
            for sock in (*sockets.values(), receiver):
                sock.close()  # those that were never served
            await engine.aclose()
            await carriers.aclose()
            for sender in senders:
                await sender.aclose()
            await vendors.amazon.webhooks.aclose()


@asynccontextmanager
async def _receiver(
    engine: SyncEngine, carriers: CarrierRuntime, sock: socket.socket, served: bool
) -> AsyncIterator[None]:
    """Serve the receiver on ``sock``, or (not ``served``) close it so another process can listen on its port."""
    if not served:
        sock.close()
        yield
        return
    async with serve(receiver_app(engine, carriers, threads=StoreThreads()), sock):
        yield


__all__ = [
    "AMAZON",
    "CLOVER",
    "ERP",
    "PARCELS",
    "POS",
    "SALES_CHANNELS",
    "SHOPIFY_SECRET",
    "SHOPIFY_TOKEN",
    "SQUARE_SIGNATURE_KEY",
    "SQUARE_TOKEN",
    "WEB",
    "DemoSettings",
    "DemoWorld",
    "demo_world",
    "seed_ledger",
    "seed_shopify",
    "seed_square",
    "write_profile",
]
