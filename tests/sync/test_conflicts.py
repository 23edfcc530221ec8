"""The conflict resolver: changes made on a channel (waited for, then drift by policy) and oversold locations
(reallocate, backorder, hold the lower-priority order), on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from omnibridge.config.availability import AvailabilityPolicy
from omnibridge.errors import FatalConnectorError
from omnibridge.models import OrderStatus
from omnibridge.sdk import Capability
from omnibridge.sdk.channel import OrderEvent, OrderEventKind, OrderLineEvent
from omnibridge.store import Store
from omnibridge.sync import SyncEngine

from .fake_channel import NOW, FakeChannel, receive, runtime, seed_store

pytestmark = pytest.mark.anyio
GRACE = timedelta(minutes=5)


def world(
    store: Store, *, stock: dict[str, int], pos_drift: str = "ledger", grace: timedelta = GRACE
) -> tuple[SyncEngine, FakeChannel, FakeChannel]:
    """SKU "A": web (priority 10) sells from wh and shop, the POS (priority 20) from shop."""
    seed_store(store, ["A"], ["wh", "shop"])
    for location_id, quantity in stock.items():
        if quantity:
            receive(store, "A", location_id, quantity)
    web, pos = FakeChannel(["W-WH", "W-SHOP"]), FakeChannel(["P-SHOP"])
    web.levels.update({("A", "W-WH"): 0, ("A", "W-SHOP"): 0})
    pos.levels[("A", "P-SHOP")] = 0
    engine = SyncEngine(
        store,
        [
            runtime("web", web, {"W-WH": "wh", "W-SHOP": "shop"}, priority=10),
            runtime("pos", pos, {"P-SHOP": "shop"}, priority=20, drift=pos_drift),  # type: ignore[arg-type]
        ],
        drift_grace=grace,
        observe_grace=0,  # an increase on a channel where the ledger wins is decided without waiting
    )
    return engine, web, pos


# -- changes made on a channel ---------------------------------------------------------------------------------


async def test_an_unexplained_increase_is_overwritten_after_the_short_grace_where_the_ledger_wins(store: Store) -> None:
    engine, web, _ = world(store, stock={"shop": 5})
    await engine.sync_once()
    web.levels[("A", "W-SHOP")] = 9  # someone raises the web store's number in its admin

    await engine.sync_once()
    assert web.levels[("A", "W-SHOP")] == 5  # showing more than the ledger has is the risk: no waiting
    (incident,) = store.incidents(kind="drift")
    assert (incident.decision, incident.channel, incident.sku, incident.location_id) == (
        "ledger_wins",
        "web",
        "A",
        "shop",
    )
    assert incident.data["shown"] == 9
    assert incident.data["target"] == 5
    assert "ledger wins" in incident.summary


async def test_an_unexplained_decrease_waits_for_the_grace_period_then_the_ledger_wins(store: Store) -> None:
    engine, web, _ = world(store, stock={"shop": 5})
    await engine.sync_once()
    web.levels[("A", "W-SHOP")] = 1

    waiting = (await engine.sync_once()).channels[0].reconcile
    assert waiting is not None
    assert waiting.waiting == [("A", "shop")]
    assert web.levels[("A", "W-SHOP")] == 1  # its order may still be on its way: never written back up
    assert store.incidents(kind="drift") == []

    engine.drift_grace = timedelta(0)
    await engine.sync_once()
    assert web.levels[("A", "W-SHOP")] == 5
    (incident,) = store.incidents(kind="drift")
    assert incident.decision == "ledger_wins"
    assert incident.data["shown"] == 1


async def test_an_increase_on_a_channel_that_may_win_is_held_during_the_grace_period(store: Store) -> None:
    engine, _, pos = world(store, stock={"shop": 5}, pos_drift="channel")
    await engine.sync_once()
    pos.levels[("A", "P-SHOP")] = 8  # a delivery booked on the POS whose notification has not arrived

    await engine.sync_once()
    assert pos.levels[("A", "P-SHOP")] == 8
    assert store.incidents(kind="drift") == []


async def test_a_sale_not_imported_yet_is_never_written_back_up(store: Store) -> None:
    engine, web, _ = world(store, stock={"shop": 5})
    await engine.sync_once()
    web.levels[("A", "W-SHOP")] = 3  # the web store took an order for 2 we have not imported

    await engine.sync_once()  # the pull finds nothing yet
    assert web.levels[("A", "W-SHOP")] == 3  # the 2 units stay subtracted: no oversell window

    web.add_event(OrderEvent("o-1", OrderEventKind.PLACED, NOW, (OrderLineEvent("1", "A", 2, "W-SHOP"),)))
    await engine.sync_once()
    assert store.position("A", "shop").committed == 2
    assert web.levels[("A", "W-SHOP")] == 3
    assert store.incidents(kind="drift") == []  # explained by the order: no drift


async def test_the_channel_wins_where_its_drift_policy_says_so(store: Store) -> None:
    engine, web, pos = world(store, stock={"shop": 5}, pos_drift="channel", grace=timedelta(0))
    await engine.sync_once()
    assert web.levels[("A", "W-SHOP")] == 5
    assert pos.levels[("A", "P-SHOP")] == 5
    pos.levels[("A", "P-SHOP")] = 2  # the store counted 2 and typed it into the POS

    await engine.sync_once()
    assert pos.levels[("A", "P-SHOP")] == 2
    assert store.position("A", "shop").on_hand == 2  # the change it made, recorded as an adjustment
    assert web.levels[("A", "W-SHOP")] == 2  # and every other channel follows in the same pass
    (incident,) = store.incidents(kind="drift")
    assert incident.decision == "channel_wins"
    assert incident.data["adjustment"] == -3


async def test_alert_only_writes_nothing_and_reports_once(store: Store) -> None:
    engine, _, pos = world(store, stock={"shop": 5}, pos_drift="alert", grace=timedelta(0))
    await engine.sync_once()
    pos.levels[("A", "P-SHOP")] = 7

    await engine.sync_once()
    await engine.sync_once()
    assert pos.levels[("A", "P-SHOP")] == 7
    assert store.position("A", "shop").on_hand == 5
    (incident,) = store.incidents(kind="drift")
    assert incident.decision == "alert"


# -- oversold locations ----------------------------------------------------------------------------------------


def placed(ref: str, quantity: int, location_ref: str) -> OrderEvent:
    return OrderEvent(ref, OrderEventKind.PLACED, NOW, (OrderLineEvent("1", "A", quantity, location_ref),))


async def test_the_lower_priority_order_is_held_when_the_pos_sells_the_last_unit(store: Store) -> None:
    engine, web, pos = world(store, stock={"shop": 1})
    await engine.sync_once()
    web.add_event(placed("o-1", 1, "W-SHOP"))
    pos.add_event(OrderEvent("s-1", OrderEventKind.COMPLETED, NOW, (OrderLineEvent("1", "A", 1, "P-SHOP"),)))

    await engine.sync_once()
    position = store.position("A", "shop")
    assert (position.on_hand, position.committed) == (0, 0)  # the POS sale stands; the web order holds nothing
    (incident,) = store.incidents(kind="oversell")
    assert (incident.decision, incident.order_id) == ("held", "web:o-1")
    assert "cancel it on web" in incident.summary
    order = store.find_order("web", "o-1")
    assert order is not None
    assert order.status is OrderStatus.ON_HOLD
    assert engine.counters.oversell_incidents == 1


async def test_an_order_is_reallocated_to_a_location_that_has_the_units_and_fulfilled_there(store: Store) -> None:
    engine, web, _ = world(store, stock={"shop": 1, "wh": 4})
    await engine.sync_once()
    web.add_event(placed("o-1", 1, "W-SHOP"))
    web.add_event(placed("o-2", 1, "W-SHOP"))  # one more than the shop has

    await engine.sync_once()
    (incident,) = store.incidents(kind="oversell")
    assert (incident.decision, incident.order_id, incident.data["moved_to"]) == ("reallocated", "web:o-2", "wh")
    assert store.position("A", "shop").committed == 1
    assert store.position("A", "wh").committed == 1

    web.add_event(OrderEvent("o-2", OrderEventKind.COMPLETED, NOW, (OrderLineEvent("1", "A", 1, "W-SHOP"),)))
    await engine.sync_once()
    wh, shop = store.position("A", "wh"), store.position("A", "shop")
    assert (wh.on_hand, wh.committed) == (3, 0)  # fulfilled where it was moved
    assert (shop.on_hand, shop.committed) == (1, 1)  # o-1 still waits at the shop


async def test_a_backorderable_sku_keeps_the_order_as_a_backorder(store: Store) -> None:
    engine, web, _ = world(store, stock={"shop": 1})
    variant = store.get_variant("A")
    assert variant is not None
    product = store.get_product(variant.product_id)
    assert product is not None
    store.upsert_product(
        product.model_copy(update={"variants": [variant.model_copy(update={"allow_backorder": True})]})
    )
    await engine.sync_once()
    web.add_event(placed("o-1", 2, "W-SHOP"))

    await engine.sync_once()
    (incident,) = store.incidents(kind="oversell")
    assert incident.decision == "backordered"
    assert store.position("A", "shop").committed == 2


async def test_the_resolver_decides_once_however_often_it_runs(store: Store) -> None:
    engine, web, pos = world(store, stock={"shop": 1})
    web.add_event(placed("o-1", 1, "W-SHOP"))
    pos.add_event(placed("p-1", 1, "P-SHOP"))
    await engine.sync_once()
    await engine.sync_once()
    assert [i.order_id for i in store.incidents(kind="oversell")] == ["web:o-1"]  # the POS outranks the web
    assert store.position("A", "shop").committed == 1


class CancellingChannel(FakeChannel):
    """A fake channel whose connector can cancel orders (and records what it was asked)."""

    def __init__(self, locations: list[str], *, refuse: bool = False) -> None:
        super().__init__(locations)
        self.cancelled: list[tuple[str, str]] = []
        self.refuse = refuse

    async def cancel_order(self, order_ref: str, reason: str) -> None:
        if self.refuse:
            raise FatalConnectorError("the order is already fulfilled", connector="fake", op="cancel_order")
        self.cancelled.append((order_ref, reason))


@pytest.mark.parametrize("refuse", [False, True])
async def test_a_held_order_is_cancelled_on_its_channel_where_the_connector_can(store: Store, refuse: bool) -> None:
    seed_store(store, ["A"], ["shop"])
    receive(store, "A", "shop", 1)
    web, pos = CancellingChannel(["W-SHOP"], refuse=refuse), FakeChannel(["P-SHOP"])
    web.levels[("A", "W-SHOP")] = 0
    pos.levels[("A", "P-SHOP")] = 0
    web_runtime = runtime("web", web, {"W-SHOP": "shop"}, priority=10)
    web_runtime.channel = replace(
        web_runtime.channel,
        spec=replace(web_runtime.channel.spec, capabilities=web_runtime.capabilities | {Capability.ORDERS_CANCEL}),
    )
    engine = SyncEngine(store, [web_runtime, runtime("pos", pos, {"P-SHOP": "shop"}, priority=20)])
    await engine.sync_once()
    web.add_event(placed("o-1", 1, "W-SHOP"))
    pos.add_event(OrderEvent("s-1", OrderEventKind.COMPLETED, NOW, (OrderLineEvent("1", "A", 1, "P-SHOP"),)))

    await engine.sync_once()
    decisions = {incident.decision: incident for incident in store.incidents(kind="oversell")}
    if refuse:
        assert web.cancelled == []
        assert "already fulfilled" in decisions["cancel_failed"].summary
    else:
        assert [ref for ref, _ in web.cancelled] == ["o-1"]
        assert "no longer in stock at shop" in web.cancelled[0][1]
        assert decisions["cancel_requested"].order_id == "web:o-1"
    assert set(decisions) >= {"held"}


async def test_a_channels_own_sale_is_explained_even_when_its_target_does_not_move(store: Store) -> None:
    seed_store(store, ["A"], ["shop"])
    receive(store, "A", "shop", 10)
    web = FakeChannel(["W-SHOP"])
    web.levels[("A", "W-SHOP")] = 0
    policy = AvailabilityPolicy.model_validate({"channels": {"web": {"cap": 3}}})
    engine = SyncEngine(store, [runtime("web", web, {"W-SHOP": "shop"})], policy=policy, drift_grace=timedelta(0))
    await engine.sync_once()
    assert web.levels[("A", "W-SHOP")] == 3  # capped

    web.levels[("A", "W-SHOP")] = 2  # the web store sells one and lowers its own number
    web.add_event(placed("o-1", 1, "W-SHOP"))
    await engine.sync_once()
    assert web.levels[("A", "W-SHOP")] == 3  # 9 left, still capped at 3
    assert store.incidents(kind="drift") == []  # its own sale, imported: not drift, even with no grace at all
