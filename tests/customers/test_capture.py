"""Identity capture where orders arrive: an order event naming its customer is resolved into one canonical
customer across channels, and the order keeps it through later events that do not name one."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sync.fake_channel import NOW, FakeChannel, receive, runtime, seed_store

from omnibridge.customers.directory import CustomerDirectory
from omnibridge.sdk.channel import CustomerRef, OrderEvent, OrderEventKind, OrderLineEvent, ShipTo
from omnibridge.store import Store
from omnibridge.sync import EventApplier

SKU = "TENT-1"


def applier(store: Store, channel_id: str) -> EventApplier:
    channel = runtime(channel_id, FakeChannel(["L-B"]), {"L-B": "boulder"})
    asyncio.run(channel.resolve_locations())
    return EventApplier(store, channel)


def order(ref: str, customer: CustomerRef | None, minutes: int = 0) -> OrderEvent:
    return OrderEvent(
        ref,
        OrderEventKind.PLACED,
        NOW + timedelta(minutes=minutes),
        (OrderLineEvent("line-1", SKU, 1, "L-B"),),
        ship_to=ShipTo("US", name="Ada King"),
        customer=customer,
    )


def test_orders_from_two_channels_belong_to_one_customer_and_keep_it(store: Store) -> None:
    seed_store(store, [SKU], ["boulder"])
    receive(store, SKU, "boulder", 10)
    web, pos = applier(store, "web"), applier(store, "pos")
    web.apply_all([order("W1", CustomerRef("gid://shopify/Customer/7", email="Ada@Example.com", first_name="Ada"))])
    pos.apply_all([order("P1", CustomerRef("SQ-1", email="ada@example.com", phone="(303) 555-0142"))])
    web.apply_all([order("W1", None, minutes=5)])  # an update that does not name the customer
    first, second = store.find_order("web", "W1"), store.find_order("pos", "P1")
    assert first is not None
    assert second is not None
    assert first.customer_id is not None
    assert first.customer_id == second.customer_id
    customer = CustomerDirectory(store).require(first.customer_id)
    assert [(i.channel, i.external_id) for i in customer.identities] == [
        ("web", "gid://shopify/Customer/7"),
        ("pos", "SQ-1"),
    ]
    assert customer.phone == "(303) 555-0142"
    assert customer.first_name == "Ada"
