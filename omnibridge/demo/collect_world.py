"""The world of the demo's third act, click-and-collect and returns (:mod:`omnibridge.demo.collect_day`).

A web store (the Shopify emulator), the stores' POS (the Square emulator: Boulder and Golden) and EasyPost, over
the fulfilment act's locations (:data:`omnibridge.demo.fulfilment_world.LOCATIONS`) given pickup hours: every store
offers pickup every day, Boulder also curbside. The profile has ``pickup:`` and ``routing:`` sections; the engine,
routing, the pickup settings, the staff's pickup service, the return service and the dispatcher are the ones the
daemon builds.

The ledger's clock is :class:`ActClock`: the wall clock plus an offset the act moves forward once, to let a hold
expire without waiting a day (the tests move the store's clock the same way). The emulators keep the wall clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from connectors.easypost.emulator import EasyPostEmulator, EasyPostEmulatorConfig
from connectors.shopify.emulator import ShopifyEmulator, ShopifyEmulatorConfig
from connectors.square.emulator import SquareEmulator, SquareEmulatorConfig
from omnibridge.config import LoadedProfile, load_profile
from omnibridge.demo.fulfilment_world import LOCATIONS as FULFILMENT_LOCATIONS
from omnibridge.demo.fulfilment_world import ConnectorFiles, act_products, easypost_connector, write_channels
from omnibridge.demo.serving import bind_sockets, serve, url_of
from omnibridge.demo.settings import POS, SHOPIFY_SECRET, SHOPIFY_TOKEN, SQUARE_SIGNATURE_KEY, SQUARE_TOKEN, WEB
from omnibridge.demo.vendors import EASYPOST_KEY, EASYPOST_WEBHOOK_SECRET, PARCELS
from omnibridge.fulfilment.dispatcher import Dispatcher
from omnibridge.fulfilment.setup import dispatcher_for_profile
from omnibridge.models import MovementKind, StockMovement
from omnibridge.pickup.desk import PickupDesk
from omnibridge.pickup.settings import PickupSettings, pickup_states
from omnibridge.pickup.staff import PickupService
from omnibridge.returns.service import ReturnService
from omnibridge.routing.service import RoutingService
from omnibridge.routing.setup import service_for_profile
from omnibridge.sdk.emulator import RequestRecorder
from omnibridge.shipping import ShippingService
from omnibridge.shipping.runtime import CarrierRuntime
from omnibridge.store import Store, open_store
from omnibridge.sync import SyncEngine, build_channels

__all__ = ["ActClock", "CollectWorld", "collect_world"]

STORES = ("boulder", "fort-collins", "golden")
POS_STORES = ("boulder", "golden")
"""The stores whose till is Square (the web store, Shopify, stocks and ships from every location)."""
WEB_LOCATIONS = ("den-wh", *STORES)
HOURS = {day: "08:00-20:00" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
PICKUP = {"window_minutes": 60, "capacity_per_window": 4, "prep_minutes": 30, "radius_km": 50, "horizon_days": 3}
HOLD_HOURS = 24
OPENING_STOCK: dict[tuple[str, str], int] = {
    ("TENT-2P-GRN", "den-wh"): 6,
    ("TENT-2P-GRN", "boulder"): 3,
    ("TENT-2P-GRN", "fort-collins"): 3,
    ("STOVE-SOLO", "golden"): 2,
    ("STOVE-SOLO", "den-wh"): 4,
    ("JKT-RAIN-M", "boulder"): 2,
    ("JKT-RAIN-M", "den-wh"): 4,
    ("LAMP-BLK", "den-wh"): 10,
}


def _locations() -> list[dict[str, Any]]:
    """The fulfilment act's warehouse and stores; the stores with pickup hours (Boulder with curbside too)."""
    out = []
    for loc in FULFILMENT_LOCATIONS:
        if loc["id"] not in WEB_LOCATIONS:
            continue
        entry = dict(loc)
        entry["address"] = {"name": f"Alpine Outfitters {loc['name']}", **loc["address"], "country": "US"}
        if loc["id"] in STORES:
            entry["capabilities"] = ["ships", "pickup", *(["curbside"] if loc["id"] == "boulder" else [])]
            entry["pickup_hours"] = HOURS
        out.append(entry)
    return out


class ActClock:
    """The ledger's clock: the wall clock plus :attr:`offset`, which the act moves forward to let time pass."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class CollectWorld:
    """Everything the act's scenes touch."""

    workdir: Path
    profile: LoadedProfile
    store: Store
    clock: ActClock
    engine: SyncEngine
    routing: RoutingService
    carriers: CarrierRuntime
    dispatcher: Dispatcher
    pickup: PickupSettings
    desk: PickupDesk
    staff: PickupService
    returns: ReturnService
    shopify: ShopifyEmulator
    square: SquareEmulator
    easypost: EasyPostEmulator
    shopify_location: dict[str, str]
    """Profile location id -> Shopify location gid."""
    square_location: dict[str, str]
    """Profile location id -> Square location id."""
    recorded: Path
    """Every request the emulators received (JSON lines, :func:`omnibridge.sdk.emulator.read_recorded`)."""

    @property
    def shipping(self) -> ShippingService:
        return self.carriers.channels[PARCELS].service


def _write_yaml(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def write_act_profile(workdir: Path, url: dict[str, str], api_version: str) -> Path:
    """The act's merchant profile, connector profiles and mapping files; returns the profile's path."""
    locations = _locations()
    names = {str(loc["id"]): str(loc["name"]) for loc in locations}
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
            {names[i]: i for i in WEB_LOCATIONS},
        ),
        POS: (
            {
                "connector": "square",
                "settings": {
                    "base_url": url["square"],
                    "access_token": SQUARE_TOKEN,
                    "webhook_signature_key": SQUARE_SIGNATURE_KEY,
                },
            },
            {names[i]: i for i in POS_STORES},
        ),
        PARCELS: (easypost_connector(url), {}),
    }
    channels = write_channels(workdir, connectors)
    profile = workdir / "omnibridge.yaml"
    _write_yaml(
        profile,
        {
            "version": 1,
            "merchant": {"name": "Alpine Outfitters (demo)", "currency": "USD", "timezone": "America/Denver"},
            "store": {"url": "sqlite:///omnibridge.db"},
            "locations": locations,
            "channels": channels,
            "pickup": {**PICKUP, "hold_hours": HOLD_HOURS},
            "routing": {
                "channels": [WEB],
                "ranking": ["fewest_packages", "distance"],
                "split": {"policy": "never"},
                "distance": "haversine",
            },
        },
    )
    return profile


def _seed(world: CollectWorld) -> None:
    now = world.clock()
    for loc in world.profile.locations:
        world.store.upsert_location(loc)
    for product in act_products():
        variants = [v for v in product.variants if any(v.sku == sku for sku, _ in OPENING_STOCK)]
        if not variants:
            continue
        world.store.upsert_product(product.model_copy(update={"variants": variants}))
        for variant in variants:
            price = str(variant.price.amount) if variant.price else "0.00"
            cents = int(variant.price.amount * 100) if variant.price else 0
            title = f"{product.title} - {variant.title}"
            world.shopify.add_product(sku=variant.sku, title=title, price=price)
            world.square.add_variation(sku=variant.sku, name=title, price_cents=cents)
            for gid in world.shopify_location.values():
                world.shopify.set_available(variant.sku, gid, 0)
            for square_id in world.square_location.values():
                world.square.set_count(variant.sku, square_id, 0)
    for (sku, location_id), quantity in OPENING_STOCK.items():
        world.store.apply(
            StockMovement(
                idempotency_key=f"demo:collect:opening:{sku}:{location_id}",
                source="manual",
                kind=MovementKind.RECEIPT,
                sku=sku,
                location_id=location_id,
                quantity=quantity,
                occurred_at=now,
                note="opening balance",
            )
        )
        world.shopify.set_available(sku, world.shopify_location[location_id], quantity)
        if location_id in world.square_location:
            world.square.set_count(sku, world.square_location[location_id], quantity)


@asynccontextmanager
async def collect_world(workdir: Path, *, api_version: str = "2026-04") -> AsyncIterator[CollectWorld]:
    """Serve the emulators, write and load the act's profile, seed stock; stop it all after."""
    workdir.mkdir(parents=True, exist_ok=True)
    recorded = workdir / "requests.jsonl"
    sockets = bind_sockets(("shopify", "square", "easypost"))
    url = {name: url_of(sock) for name, sock in sockets.items()}
    shopify = ShopifyEmulator(
        ShopifyEmulatorConfig(shop="alpine-collect-demo", access_token=SHOPIFY_TOKEN, api_secret=SHOPIFY_SECRET),
        recorder=RequestRecorder("shopify", recorded),
    )
    square = SquareEmulator(
        SquareEmulatorConfig(access_token=SQUARE_TOKEN, signature_key=SQUARE_SIGNATURE_KEY),
        recorder=RequestRecorder("square", recorded),
    )
    easypost = EasyPostEmulator(
        EasyPostEmulatorConfig(api_key=EASYPOST_KEY, webhook_secret=EASYPOST_WEBHOOK_SECRET),
        recorder=RequestRecorder("easypost", recorded),
    )
    names = {str(loc["id"]): str(loc["name"]) for loc in _locations()}
    shopify_location = {i: shopify.add_location(names[i]) for i in WEB_LOCATIONS}
    square_location = {i: square.add_location(names[i]) for i in POS_STORES}
    profile = load_profile(write_act_profile(workdir, url, api_version))
    clock = ActClock()
    with open_store(profile.store_url, clock=clock) as store:
        carriers = CarrierRuntime.for_profile(store, profile)
        routing = service_for_profile(store, profile)
        channels = build_channels(profile)
        pickup = PickupSettings.from_profile(profile, pickup_states(channels))
        engine = SyncEngine(
            store,
            channels,
            policy=profile.availability,
            foreign_channels=carriers.channels,
            placer=routing,
            pickup=pickup,
        )
        dispatcher, providers = dispatcher_for_profile(store, profile, engine.channels.values(), rerouter=routing)
        returns = ReturnService(store, locations=[loc.id for loc in profile.locations], channels=[WEB, POS])
        world = CollectWorld(
            workdir,
            profile,
            store,
            clock,
            engine,
            routing,
            carriers,
            dispatcher,
            pickup,
            PickupDesk.for_profile(store, profile),
            PickupService(store, pickup, routing),
            returns,
            shopify,
            square,
            easypost,
            shopify_location,
            square_location,
            recorded,
        )
        _seed(world)
        try:
            async with (
                serve(shopify.app, sockets["shopify"]),
                serve(square.app, sockets["square"]),
                serve(easypost.app, sockets["easypost"]),
            ):
                await engine.resolve_locations()
                yield world
        finally:
            for sock in sockets.values():
                sock.close()
            await engine.aclose()
            await carriers.aclose()
            for provider in providers:
                await provider.connector.aclose()
            for sender in (shopify.webhooks, square.webhooks, easypost.webhooks):
                await sender.aclose()
