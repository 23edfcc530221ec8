"""The world of the demo's second act, order fulfilment: its own store, profile and emulators.

Alpine Outfitters routes its web (Shopify) and Amazon orders. It ships from the Denver warehouse and from its
three Front Range stores (Boulder, Fort Collins, Golden; real coordinates), has a dropship supplier (a files
feed with purchase orders, answered by the supplier emulator role) and a ShipBob fulfilment centre (Cicero, IL;
the ShipBob emulator), and buys labels with EasyPost. The profile's ``routing:`` section ranks by fewest
packages, then distance, splits an order only when both parts are worth the value threshold, and gives each
store a daily capacity. Every emulator records what it received, so the act can check every request against
the vendors' official specs afterwards.

The act pulls orders itself (no webhooks): each scene is one step after another, so its figures are its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from connectors.amazon.emulator import AmazonEmulator, AmazonEmulatorConfig
from connectors.easypost.emulator import EasyPostEmulator, EasyPostEmulatorConfig
from connectors.files.supplier_emulator import Supplier
from connectors.shipbob.client import ShipBobConnector
from connectors.shipbob.emulator import ShipBobEmulator, ShipBobEmulatorConfig
from connectors.shopify.emulator import ShopifyEmulator, ShopifyEmulatorConfig
from omnibridge.config import LoadedProfile, load_profile
from omnibridge.demo.catalog import demo_products
from omnibridge.demo.serving import bind_sockets, serve, url_of
from omnibridge.demo.settings import SHOPIFY_SECRET, SHOPIFY_TOKEN, WEB
from omnibridge.demo.vendors import AMAZON, AMAZON_DEFAULTS, EASYPOST_KEY, EASYPOST_WEBHOOK_SECRET, PARCELS
from omnibridge.fulfilment.dispatcher import Dispatcher
from omnibridge.fulfilment.setup import dispatcher_for_profile
from omnibridge.models import MovementKind, Product, StockMovement
from omnibridge.routing.service import RoutingService
from omnibridge.routing.setup import service_for_profile
from omnibridge.sdk.emulator import RequestRecorder
from omnibridge.shipping import ShippingService
from omnibridge.shipping.runtime import CarrierRuntime
from omnibridge.store import Store, open_store
from omnibridge.sync import SyncEngine

SUPPLIER, THREE_PL = "supplier", "shipbob"
"""Channel ids of the supplier's file feed and of ShipBob."""
SUPPLIER_LOCATION, SUPPLIER_CODE = "summit-supply", "SUMMIT"
SHIPBOB_LOCATION, SHIPBOB_CENTRE = "shipbob-cicero", 6
SHIPBOB_TOKEN = "shipbob-demo-pat"  # noqa: S105 - the emulator's public demo value
SHIPBOB_CHANNEL = 4242

STORES = ("boulder", "fort-collins", "golden")
LOCATIONS: tuple[dict[str, Any], ...] = (
    {
        "id": "den-wh",
        "name": "Denver warehouse",
        "type": "warehouse",
        "capabilities": ["ships"],
        "coordinates": {"lat": 39.7817, "lon": -104.9621},
        "address": {"line1": "4800 Dahlia St", "city": "Denver", "region": "CO", "postal_code": "80216"},
    },
    {
        "id": "boulder",
        "name": "Boulder store",
        "type": "store",
        "capabilities": ["ships", "pickup"],
        "coordinates": {"lat": 40.0176, "lon": -105.2797},
        "address": {"line1": "1320 Pearl St", "city": "Boulder", "region": "CO", "postal_code": "80302"},
        "daily_capacity": 20,
    },
    {
        "id": "fort-collins",
        "name": "Fort Collins store",
        "type": "store",
        "capabilities": ["ships", "pickup"],
        "coordinates": {"lat": 40.5853, "lon": -105.0766},
        "address": {"line1": "120 N College Ave", "city": "Fort Collins", "region": "CO", "postal_code": "80524"},
        "daily_capacity": 20,
    },
    {
        "id": "golden",
        "name": "Golden store",
        "type": "store",
        "capabilities": ["ships", "pickup"],
        "coordinates": {"lat": 39.7555, "lon": -105.2211},
        "address": {"line1": "1122 Washington Ave", "city": "Golden", "region": "CO", "postal_code": "80401"},
        "daily_capacity": 20,
    },
    {
        "id": SUPPLIER_LOCATION,
        "name": "Summit Supply (dropship)",
        "type": "supplier",
        "skus": ["PACK-65-GRN", "PACK-65-BLK"],
    },
    {
        "id": SHIPBOB_LOCATION,
        "name": "ShipBob Cicero (IL)",
        "type": "3pl",
        "coordinates": {"lat": 41.8456, "lon": -87.7539},
        "address": {"line1": "5900 W Ogden Ave", "city": "Cicero", "region": "IL", "postal_code": "60804"},
    },
)
SHIPPING_LOCATIONS = ("den-wh", *STORES)
"""Where Shopify stocks and ships from (the supplier and ShipBob are not Shopify locations)."""
VALUE_THRESHOLD = 100
OPENING_STOCK: dict[tuple[str, str], int] = {
    ("TENT-2P-GRN", "den-wh"): 6,
    ("TENT-2P-GRN", "boulder"): 2,
    ("TENT-2P-GRN", "fort-collins"): 3,
    ("STOVE-SOLO", "den-wh"): 8,
    ("STOVE-SOLO", "boulder"): 2,
    ("STOVE-SOLO", "golden"): 2,
    ("JKT-DOWN-M", "fort-collins"): 2,
    ("BAG-0C-R", "golden"): 2,
    ("JKT-RAIN-M", "golden"): 2,
    ("JKT-RAIN-M", "den-wh"): 4,
    ("LAMP-BLK", "den-wh"): 10,
    ("BOOT-HIKE-42", SHIPBOB_LOCATION): 12,
}
"""The ledger's opening stock; the supplier's comes from its own stock file (:data:`SUPPLIER_STOCK`)."""
SUPPLIER_STOCK = {"PACK-65-GRN": 40, "PACK-65-BLK": 25}
ACT_SKUS = sorted({sku for sku, _ in OPENING_STOCK} | set(SUPPLIER_STOCK))


def act_products() -> list[Product]:
    """The act's catalogue: the demo products cut down to the SKUs it sells."""
    products = []
    for product in demo_products():
        variants = [v for v in product.variants if v.sku in ACT_SKUS]
        if variants:
            products.append(product.model_copy(update={"variants": variants}))
    return products


@dataclass
class FulfilmentWorld:
    """Everything the act's scenes touch."""

    workdir: Path
    profile: LoadedProfile
    store: Store
    engine: SyncEngine
    routing: RoutingService
    carriers: CarrierRuntime
    shopify: ShopifyEmulator
    amazon: AmazonEmulator
    shipbob: ShipBobEmulator
    easypost: EasyPostEmulator
    supplier: Supplier
    shipbob_connector: ShipBobConnector
    shopify_location: dict[str, str]
    """Profile location id -> Shopify location gid."""
    recorded: Path
    dispatcher: Dispatcher
    """The fulfilment dispatcher over the act's channels (the daemon's ``fulfilment`` job, run by the scenes)."""
    """Every request the emulators received (JSON lines, :func:`omnibridge.sdk.emulator.read_recorded`)."""

    @property
    def shipping(self) -> ShippingService:
        return self.carriers.channels[PARCELS].service

    @property
    def supplier_inbox(self) -> Path:
        return self.workdir / "supplier" / "inbox"


def _write_yaml(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


ConnectorFiles = dict[str, tuple[dict[str, Any], dict[str, str]]]
"""Per channel id: its connector profile and its location map (empty: none)."""


def easypost_connector(url: dict[str, str]) -> dict[str, Any]:
    """The connector profile of the acts' EasyPost emulator at ``url['easypost']``."""
    return {
        "connector": "easypost",
        "settings": {
            "base_url": f"{url['easypost']}/v2",
            "api_key": EASYPOST_KEY,
            "webhook_secret": EASYPOST_WEBHOOK_SECRET,
        },
    }


def write_channels(workdir: Path, connectors: ConnectorFiles) -> list[dict[str, Any]]:
    """Write each channel's connector profile (and location map) under ``workdir``; the ``channels:`` entries."""
    channels = []
    for channel_id, (connector, mapping) in connectors.items():
        _write_yaml(workdir / "connectors" / f"{channel_id}.yaml", connector)
        entry: dict[str, Any] = {
            "id": channel_id,
            "connector": connector["connector"],
            "profile": f"connectors/{channel_id}.yaml",
        }
        if mapping:
            _write_yaml(workdir / "mappings" / f"{channel_id}.yaml", {"location_map": mapping})
            entry["mappings"] = [f"mappings/{channel_id}.yaml"]
        channels.append(entry)
    return channels


def write_act_profile(workdir: Path, url: dict[str, str], api_version: str) -> Path:
    """The act's merchant profile, connector profiles and mapping files; returns the profile's path."""
    names = {str(loc["id"]): str(loc["name"]) for loc in LOCATIONS}
    for folder in ("inbox", "outbox"):
        (workdir / "supplier" / folder).mkdir(parents=True, exist_ok=True)
    connectors: ConnectorFiles = {
        WEB: (
            {
                "connector": "shopify",
                "settings": {
                    "shop_url": url["shopify"],
                    "access_token": SHOPIFY_TOKEN,
                    "api_secret": SHOPIFY_SECRET,
                    "api_version": api_version,
                },
            },
            {names[i]: i for i in SHIPPING_LOCATIONS},
        ),
        AMAZON: (
            {
                "connector": "amazon",
                "settings": {
                    "endpoint": url["amazon"],
                    "lwa_endpoint": f"{url['amazon']}/auth/o2/token",
                    "client_id": AMAZON_DEFAULTS.client_id,
                    "client_secret": AMAZON_DEFAULTS.client_secret,
                    "refresh_token": AMAZON_DEFAULTS.refresh_token,
                    "seller_id": AMAZON_DEFAULTS.seller_id,
                    "marketplace_id": AMAZON_DEFAULTS.marketplace_id,
                },
            },
            {"DEFAULT": "den-wh"},
        ),
        SUPPLIER: (
            {
                "connector": "files",
                "settings": {
                    "inbox": str(workdir / "supplier" / "inbox"),
                    "outbox": str(workdir / "supplier" / "outbox"),
                    "stable_seconds": 0,
                    "locations": [SUPPLIER_CODE],
                    "purchase_orders": {"format": "csv"},
                },
            },
            {SUPPLIER_CODE: SUPPLIER_LOCATION},
        ),
        THREE_PL: (
            {
                "connector": "shipbob",
                "settings": {
                    "base_url": url["shipbob"],
                    "personal_access_token": SHIPBOB_TOKEN,
                    "shipbob_channel_id": SHIPBOB_CHANNEL,
                    "initial_backoff_seconds": 0.0,
                },
            },
            {str(SHIPBOB_CENTRE): SHIPBOB_LOCATION},
        ),
        PARCELS: (easypost_connector(url), {}),
    }
    channels = write_channels(workdir, connectors)
    locations = []
    for loc in LOCATIONS:
        entry = dict(loc)
        if "address" in entry:
            entry["address"] = {"name": f"Alpine Outfitters {loc['name']}", **entry["address"], "country": "US"}
        locations.append(entry)
    profile = workdir / "omnibridge.yaml"
    _write_yaml(
        profile,
        {
            "version": 1,
            "merchant": {"name": "Alpine Outfitters (demo)", "currency": "USD", "timezone": "America/Denver"},
            "store": {"url": "sqlite:///omnibridge.db"},
            "locations": locations,
            "channels": channels,
            "routing": {
                "channels": [WEB, AMAZON],
                "locations": {AMAZON: ["den-wh"]},
                "ranking": ["fewest_packages", "distance"],
                "split": {"policy": "value_threshold", "max_splits": 1, "value_threshold": VALUE_THRESHOLD},
                "max_reroutes": 2,
                "distance": "haversine",
            },
        },
    )
    return profile


def _seed(world: FulfilmentWorld) -> None:
    now = datetime.now(UTC)
    for loc in world.profile.locations:
        world.store.upsert_location(loc)
    for product in act_products():
        world.store.upsert_product(product)
        for variant in product.variants:
            price = str(variant.price.amount) if variant.price else "0.00"
            title = f"{product.title} - {variant.title}"
            world.shopify.add_product(sku=variant.sku, title=title, price=price)
            world.amazon.control.seed_listing(variant.sku, title=title, price=price, quantity=5)
            for gid in world.shopify_location.values():  # stocked (at zero) everywhere Shopify ships from
                world.shopify.set_available(variant.sku, gid, 0)
    for (sku, location_id), quantity in OPENING_STOCK.items():
        world.store.apply(
            StockMovement(
                idempotency_key=f"demo:fulfilment:opening:{sku}:{location_id}",
                source="manual",
                kind=MovementKind.RECEIPT,
                sku=sku,
                location_id=location_id,
                quantity=quantity,
                occurred_at=now,
                note="opening balance",
            )
        )
        if location_id in world.shopify_location:
            world.shopify.set_available(sku, world.shopify_location[location_id], quantity)
        if location_id == SHIPBOB_LOCATION:
            world.shipbob.set_stock(sku, SHIPBOB_CENTRE, quantity)


@asynccontextmanager
async def fulfilment_world(workdir: Path, *, api_version: str = "2026-04") -> AsyncIterator[FulfilmentWorld]:
    """Serve the emulators, write and load the act's profile, seed stock; stop it all after."""
    workdir.mkdir(parents=True, exist_ok=True)
    recorded = workdir / "requests.jsonl"
    sockets = bind_sockets(("shopify", "amazon", "shipbob", "easypost"))
    url = {name: url_of(sock) for name, sock in sockets.items()}
    shopify = ShopifyEmulator(
        ShopifyEmulatorConfig(shop="alpine-fulfilment-demo", access_token=SHOPIFY_TOKEN, api_secret=SHOPIFY_SECRET),
        recorder=RequestRecorder("shopify", recorded),
    )
    amazon = AmazonEmulator(AmazonEmulatorConfig(), recorder=RequestRecorder("amazon", recorded))
    shipbob = ShipBobEmulator(
        ShipBobEmulatorConfig(token=SHIPBOB_TOKEN, channel_id=SHIPBOB_CHANNEL),
        recorder=RequestRecorder("shipbob", recorded),
    )
    easypost = EasyPostEmulator(
        EasyPostEmulatorConfig(api_key=EASYPOST_KEY, webhook_secret=EASYPOST_WEBHOOK_SECRET),
        recorder=RequestRecorder("easypost", recorded),
    )
    shopify_location = {
        location_id: shopify.add_location(str(next(loc["name"] for loc in LOCATIONS if loc["id"] == location_id)))
        for location_id in SHIPPING_LOCATIONS
    }
    profile = load_profile(write_act_profile(workdir, url, api_version))
    with open_store(profile.store_url) as store:
        carriers = CarrierRuntime.for_profile(store, profile)
        engine = SyncEngine.for_profile(store, profile, foreign_channels=list(carriers.channels))
        routing = service_for_profile(store, profile)
        engine.placer = routing
        three_pl = next(c for c in profile.channels if c.id == THREE_PL)
        assert three_pl.spec.factory is not None
        connector = three_pl.spec.factory(three_pl.settings)
        assert isinstance(connector, ShipBobConnector)
        supplier = Supplier(workdir / "supplier" / "inbox", workdir / "supplier" / "outbox" / "po")
        dispatcher, providers = dispatcher_for_profile(store, profile, engine.channels.values(), rerouter=routing)
        world = FulfilmentWorld(
            workdir,
            profile,
            store,
            engine,
            routing,
            carriers,
            shopify,
            amazon,
            shipbob,
            easypost,
            supplier,
            connector,
            shopify_location,
            recorded,
            dispatcher,
        )
        _seed(world)
        try:
            async with (
                serve(shopify.app, sockets["shopify"]),
                serve(amazon.app, sockets["amazon"]),
                serve(shipbob.app, sockets["shipbob"]),
                serve(easypost.app, sockets["easypost"]),
            ):
                await engine.resolve_locations()
                yield world
        finally:
            for sock in sockets.values():
                sock.close()
            await engine.aclose()
            await carriers.aclose()
            await connector.aclose()
            for provider in providers:
                await provider.connector.aclose()
            for sender in (shopify.webhooks, shipbob.webhooks, easypost.webhooks, amazon.webhooks):
                await sender.aclose()
