"""A small routed network for the routing service's tests: a Denver warehouse, stores in New York and Chicago, a
dropship supplier and a 3PL, a web channel whose orders are routed and a POS channel whose are not."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

import sqlalchemy as sa
from sync.fake_channel import NOW, FakeChannel, receive, runtime

from omnibridge.models import GeoPoint, Location, LocationCapability, LocationType, Product, Variant
from omnibridge.routing import RoutingRules
from omnibridge.routing.service import RoutingService
from omnibridge.sdk.channel import OrderEvent, OrderEventKind, OrderLineEvent, ShipTo
from omnibridge.store import Store
from omnibridge.store.tables import FULFILMENT_TASKS
from omnibridge.sync import ChannelRuntime
from omnibridge.sync.apply import ApplyOutcome, EventApplier

NEW_YORK = GeoPoint(lat=40.71, lon=-74.01)
CHICAGO = GeoPoint(lat=41.88, lon=-87.63)
DENVER = GeoPoint(lat=39.74, lon=-104.99)
NEWARK = ShipTo(
    name="Ana", line1="1 Main St", city="Newark", region="NJ", country="US", latitude=40.73, longitude=-74.17
)

SHIPS = {LocationCapability.SHIPS}
LOCATIONS = (
    Location(id="wh", name="Denver warehouse", type=LocationType.WAREHOUSE, coordinates=DENVER, capabilities=SHIPS),
    Location(id="nyc", name="New York store", type=LocationType.STORE, coordinates=NEW_YORK, capabilities=SHIPS),
    Location(id="chi", name="Chicago store", type=LocationType.STORE, coordinates=CHICAGO, capabilities=SHIPS),
    Location(
        id="tpl",
        name="ShipBob Chicago",
        type=LocationType.THIRD_PARTY_LOGISTICS,
        coordinates=CHICAGO,
        capabilities=SHIPS,
    ),
)
CHANNEL_MAP = {"W-WH": "wh", "W-NYC": "nyc", "W-CHI": "chi", "W-TPL": "tpl"}


@dataclass
class Network:
    store: Store
    service: RoutingService
    web: ChannelRuntime
    pos: ChannelRuntime

    def applier(self, channel: ChannelRuntime | None = None) -> EventApplier:
        return EventApplier(self.store, channel or self.web, placer=self.service)

    def place(self, ref: str, *lines: tuple[str, int], at: str = "W-WH", seconds: int = 0) -> ApplyOutcome:
        """A web order ``ref`` for Newark with ``(sku, quantity)`` lines, named at the channel location ``at``."""
        return self.applier().apply_all([order(ref, *lines, at=at, seconds=seconds)])

    def committed(self, sku: str) -> dict[str, int]:
        return {
            loc.id: self.store.position(sku, loc.id).committed
            for loc in LOCATIONS
            if self.store.position(sku, loc.id).committed
        }

    def tasks(self) -> list[tuple[str, str, str]]:
        with self.store.unit_of_work() as uow:
            query = sa.select(FULFILMENT_TASKS.c.id, FULFILMENT_TASKS.c.channel, FULFILMENT_TASKS.c.status)
            return sorted((row.id, row.channel, row.status) for row in uow.session.execute(query))


def order(ref: str, *lines: tuple[str, int], at: str = "W-WH", seconds: int = 0) -> OrderEvent:
    events = tuple(OrderLineEvent(str(n), sku, qty, at, unit_price="40.00") for n, (sku, qty) in enumerate(lines, 1))
    return OrderEvent(
        ref,
        OrderEventKind.PLACED,
        NOW + timedelta(seconds=seconds),
        events,
        name=f"#{ref}",
        currency="USD",
        ship_to=NEWARK,
    )


def network(store: Store, stock: dict[tuple[str, str], int], **rules: object) -> Network:
    """The network with ``stock`` received at (sku, location); ``rules`` override :class:`RoutingRules`."""
    for location in LOCATIONS:
        store.upsert_location(location)
    skus = sorted({sku for sku, _ in stock} | {"TENT", "LAMP"})
    store.upsert_product(Product(id="P", title="Gear", variants=[Variant(sku=sku, product_id="P") for sku in skus]))
    for (sku, location_id), units in stock.items():
        receive(store, sku, location_id, units)
    web = runtime("web", FakeChannel(list(CHANNEL_MAP)), CHANNEL_MAP)
    pos = runtime("pos", FakeChannel(["P-NYC"]), {"P-NYC": "nyc"})
    for channel in (web, pos):  # resolved as resolve_locations() would, without an event loop (async tests use it)
        channel.location_ids.update(channel.channel.mappings.location_map)
    base = RoutingRules(channels=frozenset({"web"}), max_reroutes=2, timezone="America/New_York")
    routing = replace(base, **rules)  # type: ignore[arg-type]
    service = RoutingService.from_rules(store, LOCATIONS, routing, providers={"tpl": "shipbob"})
    return Network(store, service, web, pos)
