"""A small world for return tests: a web channel (the in-memory fake) selling from a warehouse and a store, an
order shipped from the warehouse, and the return service over the store."""

from __future__ import annotations

from dataclasses import dataclass

from sync.fake_channel import NOW, FakeChannel, receive, runtime, seed_store

from omnibridge.access import Actor
from omnibridge.ledger.verify import verify
from omnibridge.returns.service import ReturnService
from omnibridge.sdk.channel import OrderEvent, OrderEventKind, OrderLineEvent
from omnibridge.store import Store
from omnibridge.sync import ChannelRuntime, EventApplier

TEE, MUG = "TEE-M", "MUG"
ACTOR = Actor("user", "tester")
LOCATIONS = {"W-WH": "wh", "W-SOHO": "soho"}


@dataclass
class World:
    store: Store
    fake: FakeChannel
    channel: ChannelRuntime
    applier: EventApplier
    service: ReturnService

    def on_hand(self, sku: str, location: str) -> int:
        return self.store.position(sku, location).on_hand

    def verified(self) -> bool:
        with self.store.unit_of_work() as uow:
            return verify(uow.session, now=uow.now()) == []


def world(store: Store, *, tees: int = 2, mugs: int = 1, ref: str = "1001") -> World:
    """Stock 10 of each SKU at ``wh``; order ``web:<ref>`` for ``tees`` TEE-M (line-1) and ``mugs`` MUG (line-2),
    placed and shipped from ``wh``."""
    seed_store(store, [TEE, MUG], ["wh", "soho"])
    for sku in (TEE, MUG):
        receive(store, sku, "wh", 10)
    fake = FakeChannel(list(LOCATIONS))
    channel = runtime("web", fake, LOCATIONS)
    channel.location_ids.update(LOCATIONS)  # what resolve_locations() finds on the fake
    applier = EventApplier(store, channel)
    ship_order(applier, ref, tees, mugs)
    service = ReturnService(store, locations={"wh", "soho"}, channels=["web"])
    return World(store, fake, channel, applier, service)


def ship_order(applier: EventApplier, ref: str, tees: int, mugs: int) -> None:
    lines = tuple(
        OrderLineEvent(f"line-{n}", sku, quantity, "W-WH")
        for n, (sku, quantity) in enumerate(((TEE, tees), (MUG, mugs)), start=1)
        if quantity
    )
    for kind in (OrderEventKind.PLACED, OrderEventKind.COMPLETED):
        applier.apply_all([OrderEvent(ref, kind, NOW, lines)])
