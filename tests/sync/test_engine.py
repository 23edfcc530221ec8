"""The sync engine: sync --once, webhook intake through the inbox, and isolation of a failing channel."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import httpx
import pytest

from omnibridge.sdk import WebhookDelivery
from omnibridge.sdk.channel import (
    ChannelEvent,
    OrderEvent,
    OrderEventKind,
    OrderLineEvent,
    PushStatus,
    StockChangeEvent,
    StockChangeKind,
    StockObservedEvent,
)
from omnibridge.store import InboxStatus, Store
from omnibridge.sync import SyncEngine, receiver_app

from .fake_channel import NOW, TOKEN, FakeChannel, receive, runtime, seed_store

pytestmark = pytest.mark.anyio
SKUS = ["A", "B", "C"]


def world(store: Store, clock: Callable[[], float] = time.monotonic) -> tuple[SyncEngine, FakeChannel, FakeChannel]:
    """A web channel selling from the warehouse and a store, a POS in the store; 5 of each SKU everywhere."""
    seed_store(store, SKUS, ["wh", "shop"])
    for sku in SKUS:
        receive(store, sku, "wh", 5)
        receive(store, sku, "shop", 5)
    web, pos = FakeChannel(["W-WH", "W-SHOP", "W-OTHER"]), FakeChannel(["P-SHOP"])
    for sku in SKUS:
        web.levels[(sku, "W-WH")] = 0
        web.levels[(sku, "W-SHOP")] = 0
        web.levels[(sku, "W-OTHER")] = 99  # not mapped: never read into the ledger, never written
        pos.levels[(sku, "P-SHOP")] = 5
    engine = SyncEngine(
        store,
        [runtime("web", web, {"W-WH": "wh", "W-SHOP": "shop"}), runtime("pos", pos, {"Location P-SHOP": "shop"})],
        clock=clock,
    )
    return engine, web, pos


async def test_sync_once_pushes_only_what_differs_and_a_second_pass_pushes_nothing(store: Store) -> None:
    engine, web, pos = world(store)
    report = await engine.sync_once()
    assert report.ok
    rows = {row["channel"]: row for row in report.as_dict()["channels"]}
    assert (rows["web"]["levels_checked"], rows["web"]["levels_differing"]) == (6, 6)
    assert rows["web"]["pushed"]["applied"] == 6
    assert (rows["pos"]["levels_checked"], rows["pos"]["levels_differing"]) == (3, 0)
    assert web.levels[("A", "W-SHOP")] == 5
    assert web.levels[("A", "W-OTHER")] == 99
    assert pos.calls["push_levels"] == 0

    again = await engine.sync_once()
    assert all(row["levels_differing"] == 0 for row in again.as_dict()["channels"])
    assert web.calls["push_levels"] == 1


async def test_a_pos_sale_pulled_reaches_the_web_store_and_the_bookmark_moves(store: Store) -> None:
    engine, web, pos = world(store)
    await engine.sync_once()
    pos.add_event(OrderEvent("s-1", OrderEventKind.COMPLETED, NOW, (OrderLineEvent("1", "B", 2, "P-SHOP"),)))
    pos.levels[("B", "P-SHOP")] = 3  # the POS already decremented itself

    report = await engine.sync_once()
    assert report.as_dict()["channels"][1]["movements_applied"] == 1
    assert web.levels[("B", "W-SHOP")] == 3
    assert store.get_bookmark("pos") == "1"
    # The pull window moved on: the same sale is not pulled again, and would be a duplicate if it were.
    assert (await engine.sync_once()).as_dict()["channels"][1]["events_pulled"] == 0


async def test_a_stale_compare_is_reported_and_retried_on_the_next_pass(store: Store) -> None:
    engine, web, _ = world(store)
    web.change_before_push = {("A", "W-WH"): 1}
    report = await engine.sync_once()
    reconcile = report.channels[0].reconcile
    assert reconcile is not None
    assert reconcile.count(PushStatus.STALE) == 1
    assert web.levels[("A", "W-WH")] == 1  # the concurrent edit was not blindly overwritten
    engine.observe_grace = 0  # (the short grace an increase gets is 3 x observe_grace)
    await engine.sync_once()
    # The edit raised the web's number (0 -> 1) and nothing explains it: on a channel where the ledger wins
    # that is drift after a short grace, decided and recorded.
    assert web.levels[("A", "W-WH")] == 5
    assert [incident.decision for incident in store.incidents(kind="drift")] == ["ledger_wins"]


async def test_a_read_back_whose_write_the_channel_refused_leaves_the_sku_to_reconcile_again(store: Store) -> None:
    """A replica's read-back (:meth:`SyncEngine.readback_channel`) reconciles one channel; a write refused because
    the channel moved after the read (a sale) is not written over, and the SKU is left pending for that channel."""
    engine, web, _ = world(store)
    await engine.sync_once()
    assert web.levels[("A", "W-WH")] == 5
    receive(store, "A", "wh", 2)  # the web should show 7
    web.change_before_push = {("A", "W-WH"): 4}  # a web sale between the read and the write
    report = await engine.readback_channel("web")
    assert report is not None
    assert report.count(PushStatus.STALE) == 1
    assert web.levels[("A", "W-WH")] == 4  # the sale was not written over
    assert ("web", "A") in store.pending_work("web")


def delivery(delivery_id: str, event: str | None = None) -> bytes:
    return json.dumps({"delivery": delivery_id, "event": event}).encode()


async def test_webhooks_are_verified_stored_once_and_applied_then_reconciled(store: Store) -> None:
    engine, web, pos = world(store)
    await engine.sync_once()
    web.webhook_payloads["d-1"] = [
        OrderEvent("o-1", OrderEventKind.PLACED, NOW, (OrderLineEvent("1", "C", 2, "W-SHOP"),))
    ]
    web.levels[("C", "W-SHOP")] = 3

    assert engine.receive("web", delivery("d-1", "e-1"), {"x-token": "forged"}, "").http_status == 401
    assert engine.receive("web", b"{not json", {"x-token": TOKEN}, "").http_status == 401
    assert engine.receive("nope", delivery("d-1"), {"x-token": TOKEN}, "").http_status == 404
    stored = engine.receive("web", delivery("d-1", "e-1"), {"x-token": TOKEN}, "")
    assert (stored.status, stored.http_status) == ("stored", 200)
    duplicate = engine.receive("web", delivery("d-1", "e-1"), {"x-token": TOKEN}, "")
    assert (duplicate.status, duplicate.http_status) == ("duplicate", 200)

    assert await engine.process_pending() == 1
    assert pos.levels[("C", "P-SHOP")] == 3
    assert store.position("C", "shop").committed == 2
    assert store.inbox(status=InboxStatus.DONE)[0].delivery.delivery_id == "d-1"
    assert (engine.counters.received, engine.counters.duplicates, engine.counters.rejected) == (1, 1, 3)


async def test_one_channel_down_does_not_stop_the_other_and_catches_up_later(store: Store) -> None:
    now = [0.0]
    engine, web, pos = world(store, clock=lambda: now[0])
    await engine.sync_once()
    pos.webhook_payloads["d-2"] = [
        OrderEvent("s-2", OrderEventKind.COMPLETED, NOW, (OrderLineEvent("1", "A", 1, "P-SHOP"),))
    ]
    pos.levels[("A", "P-SHOP")] = 4
    web.fail_reads = True
    engine.receive("pos", delivery("d-2"), {"x-token": TOKEN}, "")
    assert await engine.process_pending() == 1
    assert web.levels[("A", "W-SHOP")] == 5  # web is down: not updated yet, but nothing lost
    assert not engine.available("web")  # the failing channel is backed off on its own
    assert engine.backoff["web"].failures == 1
    assert "fake is down" in engine.backoff["web"].reason
    web.fail_reads = False
    await engine.flush()
    assert web.levels[("A", "W-SHOP")] == 5  # no call while the backoff lasts
    now[0] += 5.5
    await engine.flush()
    assert web.levels[("A", "W-SHOP")] == 4
    assert engine.available("web")


async def test_the_receiver_answers_with_the_receipt_status(store: Store) -> None:
    engine, _, _ = world(store)
    transport = httpx.ASGITransport(app=receiver_app(engine))
    async with httpx.AsyncClient(transport=transport, base_url="http://omnibridge.test") as client:
        ok = await client.post("/webhooks/web", content=delivery("d-9"), headers={"x-token": TOKEN})
        again = await client.post("/webhooks/web", content=delivery("d-9"), headers={"x-token": TOKEN})
        forged = await client.post("/webhooks/web", content=delivery("d-10"), headers={"x-token": "no"})
        health = await client.get("/health")
    assert (ok.status_code, ok.json()["status"]) == (200, "stored")
    assert again.json()["status"] == "duplicate"
    assert forged.status_code == 401
    assert "x-token" in forged.json()["message"]
    assert health.json() == {"status": "ok", "channels": ["pos", "web"]}


async def test_a_delivery_the_connector_cannot_handle_is_dead_with_its_reason_and_others_go_on(store: Store) -> None:
    engine, web, pos = world(store)
    await engine.sync_once()
    web.webhook_payloads["ok"] = [
        OrderEvent("o-2", OrderEventKind.PLACED, NOW, (OrderLineEvent("1", "B", 1, "W-SHOP"),))
    ]
    original = web.webhook_events

    async def flaky(delivery: WebhookDelivery) -> list[ChannelEvent]:
        if delivery.delivery_id == "bug":
            raise KeyError("line_items")
        return await original(delivery)

    web.webhook_events = flaky  # type: ignore[method-assign]
    engine.receive("web", delivery("bug"), {"x-token": TOKEN}, "")
    engine.receive("web", delivery("ok"), {"x-token": TOKEN}, "")

    assert await engine.process_pending() == 1
    [dead] = store.inbox(status=InboxStatus.DEAD)
    assert dead.delivery.delivery_id == "bug"
    assert dead.error == "internal error: KeyError: 'line_items'"
    assert pos.levels[("B", "P-SHOP")] == 4


async def test_an_unexplained_level_pulls_that_channel_and_an_echo_pulls_nothing(store: Store) -> None:
    now = [0.0]
    engine, web, pos = world(store, clock=lambda: now[0])
    await engine.sync_once()
    pulls = pos.calls["pull_events"]
    # Our own write coming back: the level equals the projection, nothing to pull.
    pos.webhook_payloads["echo"] = [StockObservedEvent("A", "P-SHOP", 5, NOW)]
    engine.receive("pos", delivery("echo"), {"x-token": TOKEN}, "")
    await engine.process_pending()
    assert pos.calls["pull_events"] == pulls

    # A delivery received on the POS: the level says 9, the change itself comes with the pull it triggers.
    pos.add_event(StockChangeEvent("rcv-1", StockChangeKind.RECEIPT, "A", "P-SHOP", 4, NOW))
    pos.levels[("A", "P-SHOP")] = 9
    pos.webhook_payloads["count"] = [StockObservedEvent("A", "P-SHOP", 9, NOW)]
    engine.receive("pos", delivery("count"), {"x-token": TOKEN}, "")
    await engine.process_pending()
    assert pos.calls["pull_events"] == pulls  # its own events get observe_grace to explain it first
    now[0] += engine.observe_grace
    await engine.process_pending()  # the worker's next pass
    assert pos.calls["pull_events"] == pulls + 1
    assert store.position("A", "shop").on_hand == 9
    assert web.levels[("A", "W-SHOP")] == 9


async def test_two_overlapping_passes_apply_a_delivery_once_and_neither_fails(store: Store) -> None:
    """A worker pass and a one-off caller (the demo, `deadletters replay`) may call process_pending at once: the
    passes are serialised, so the same pending entry is never taken by both."""
    engine, web, _ = world(store)
    await engine.sync_once()
    web.webhook_payloads["d-9"] = [
        OrderEvent("o-9", OrderEventKind.PLACED, NOW, (OrderLineEvent("1", "C", 1, "W-SHOP"),))
    ]
    assert engine.receive("web", delivery("d-9", "e-9"), {"x-token": TOKEN}, "").http_status == 200

    first, second = await asyncio.gather(engine.process_pending(), engine.process_pending())

    assert sorted((first, second)) == [0, 1]
    assert web.calls["webhook_events"] == 1
    assert store.position("C", "shop").committed == 1
