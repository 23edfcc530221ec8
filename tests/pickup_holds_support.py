"""A small pickup network for the holds and lifecycle tests: a warehouse and a New York store that offers pickup
and curbside, a web channel whose orders are routed, and a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sync.fake_channel import NOW, FakeChannel, receive, runtime

from omnibridge.models import GeoPoint, Location, LocationCapability, LocationType, Product, Variant
from omnibridge.pickup.rules import PickupRules, StorePickup
from omnibridge.pickup.settings import PickupSettings
from omnibridge.routing import RoutingRules
from omnibridge.routing.service import RoutingService
from omnibridge.sdk.channel import OrderEvent, OrderEventKind, OrderLineEvent, ShipTo
from omnibridge.sdk.pickup import PickupDetails
from omnibridge.store import Store, open_store
from omnibridge.store.tables import FULFILMENT_TASKS, MOVEMENTS
from omnibridge.sync import ChannelRuntime
from omnibridge.sync.apply import ApplyOutcome, EventApplier

HOURS = {day: "09:00-18:00" for day in ("mon", "tue", "wed", "thu", "fri", "sat")}
LOCATIONS = (
    Location(
        id="wh",
        name="Warehouse",
        type=LocationType.WAREHOUSE,
        coordinates=GeoPoint(lat=39.74, lon=-104.99),
        capabilities={LocationCapability.SHIPS},
    ),
    Location(
        id="nyc",
        name="New York store",
        type=LocationType.STORE,
        coordinates=GeoPoint(lat=40.71, lon=-74.01),
        capabilities={LocationCapability.SHIPS, LocationCapability.PICKUP, LocationCapability.CURBSIDE},
        pickup_hours=HOURS,
    ),
)
CHANNEL_MAP = {"W-WH": "wh", "W-NYC": "nyc"}
SETTINGS = PickupSettings(
    PickupRules(hold_hours=24, defaults=StorePickup(window_minutes=60, prep_minutes=30)), sales_channels=("web",)
)


class Clock:
    """The store's clock: stays where the test puts it (plus 1 ms a reading, so times stay ordered)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


@dataclass
class PickupWorld:
    store: Store
    clock: Clock
    service: RoutingService
    web: ChannelRuntime

    def applier(self) -> EventApplier:
        return EventApplier(self.store, self.web, placer=self.service, pickup=SETTINGS)

    def place(self, ref: str, *lines: tuple[str, int], pickup: PickupDetails | None = None) -> ApplyOutcome:
        """A web order ``ref`` collected as ``pickup`` says (default: at the New York store, its next window)."""
        details = pickup if pickup is not None else PickupDetails(location_ref="W-NYC")
        return self.applier().apply_all([order(ref, *lines, pickup=details)])

    def tasks(self, kind: str = "pickup") -> list[tuple[str, dict[str, object]]]:
        with self.store.unit_of_work() as uow:
            query = sa.select(FULFILMENT_TASKS.c.id, FULFILMENT_TASKS.c.payload).where(FULFILMENT_TASKS.c.kind == kind)
            return sorted((row.id, dict(row.payload)) for row in uow.session.execute(query))

    def movement_keys(self, suffix: str) -> list[str]:
        with self.store.unit_of_work() as uow:
            keys = uow.session.execute(sa.select(MOVEMENTS.c.idempotency_key)).scalars()
            return sorted(key for key in keys if key.endswith(suffix))


def order(ref: str, *lines: tuple[str, int], pickup: PickupDetails | None = None, at: str = "W-NYC") -> OrderEvent:
    events = tuple(OrderLineEvent(str(n), sku, qty, at, unit_price="40.00") for n, (sku, qty) in enumerate(lines, 1))
    return OrderEvent(
        ref,
        OrderEventKind.PLACED,
        NOW,
        events,
        name=f"#{ref}",
        currency="USD",
        # a customer near the warehouse: were the order shipped, routing would ship it from there
        ship_to=ShipTo(name="Ana", city="Denver", region="CO", country="US", latitude=39.75, longitude=-105.0),
        pickup=pickup,
    )


@contextmanager
def pickup_world(store_url: str, stock: dict[tuple[str, str], int]) -> Iterator[PickupWorld]:
    """The network on a fresh store at ``store_url`` with ``stock`` received; its clock starts at ``NOW``."""
    clock = Clock(NOW)
    with open_store(store_url, clock=clock) as store:
        for location in LOCATIONS:
            store.upsert_location(location)
        skus = sorted({sku for sku, _ in stock} | {"TENT", "LAMP"})
        store.upsert_product(Product(id="P", title="Gear", variants=[Variant(sku=s, product_id="P") for s in skus]))
        for (sku, location_id), units in stock.items():
            receive(store, sku, location_id, units)
        web = runtime("web", FakeChannel(list(CHANNEL_MAP)), CHANNEL_MAP)
        web.location_ids.update(CHANNEL_MAP)
        rules = RoutingRules(channels=frozenset({"web"}), timezone="UTC")
        service = RoutingService.from_rules(store, LOCATIONS, rules)
        yield PickupWorld(store, clock, service, web)
