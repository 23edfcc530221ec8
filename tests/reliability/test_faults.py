"""Faults the sync engine must ride out, in-process on the Shopify and Square emulators over real HTTP:
duplicate and late webhooks, a 429 storm, a channel down for the whole run, a forged webhook and a malformed
payload (dead-lettered with its reason, replayed once the connector handles it)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.shopify import webhooks as shopify_webhooks
from connectors.shopify.emulator.rest_payloads import refund_payload
from connectors.shopify.mapper import parse_time
from connectors.square.emulator.events import signer
from omnibridge.config import load_profile
from omnibridge.demo import world as demo
from omnibridge.models import MovementKind
from omnibridge.sdk import MapResult, hmac_sha256_base64
from omnibridge.sdk.channel import RefundEvent
from omnibridge.store import InboxStatus
from omnibridge.store.deadletters import dead_letters, requeue
from omnibridge.sync import SyncEngine, build_channels

from .harness import (
    POS,
    SKUS,
    WEB,
    LocalWorld,
    all_movements,
    disagreements,
    ledger_state,
    local_world,
    order_movements,
)

pytestmark = pytest.mark.anyio


async def first_sync(world: LocalWorld) -> None:
    report = await world.engine.sync_once()
    assert report.ok, [(row["channel"], row["error"]) for row in report.as_dict()["channels"]]
    await world.settle()


def shopify_headers(topic: str, body: bytes, *, secret: str = demo.SHOPIFY_SECRET) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Hmac-Sha256": hmac_sha256_base64(secret, body),
    }


def gid(order: Mapping[str, Any]) -> str:
    """How omnibridge names a Shopify order (the REST payload carries the numeric id)."""
    return f"gid://shopify/Order/{order['id']}"


async def post(world: LocalWorld, channel: str, body: bytes, headers: Mapping[str, str]) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(f"{world.receiver_url}/webhooks/{channel}", content=body, headers=dict(headers))


@pytest.mark.slow
async def test_duplicate_and_late_webhooks_are_applied_exactly_once(tmp_path: Path) -> None:
    async with local_world(tmp_path) as world:
        await first_sync(world)
        shopify, square = world.shopify, world.square
        web_at, pos_at = world.emulators.shopify_location, world.emulators.square_location
        for sender in (shopify.webhooks, square.webhooks):  # every delivery twice, in a shuffled order
            sender.knobs.duplicate_rate = 1.0
            sender.knobs.delay_s = (0.0, 0.3)
        sales = [square.pos_sale(pos_at["boulder"], [(sku, 1)]) for sku in ("TENT-2P-GRN", "LAMP-RED", "TENT-2P-GRN")]
        orders = [shopify.place_order([(sku, 2)], location_id=web_at["den-wh"]) for sku in ("LAMP-RED", "STOVE-DUO")]
        # A late notification: the order's orders/create arrives after its own cancellation.
        shopify.webhooks.knobs.delay_s = (0.8, 0.8)
        late = shopify.place_order([("BAG-0C-R", 1)], location_id=web_at["boulder"])
        await asyncio.sleep(0)  # its deliveries start (and draw their delay) now
        shopify.webhooks.knobs.delay_s = (0.0, 0.0)
        shopify.cancel_order(late["id"], restock=True)
        await world.settle()

        assert world.engine.counters.duplicates >= len(sales) + 2 * len(orders)
        by_pos_order = order_movements(world.store, POS, [sale["id"] for sale in sales])
        by_web_order = order_movements(world.store, WEB, [gid(order) for order in [*orders, late]])
        for sale in sales:
            [movement] = by_pos_order[sale["id"]]
            assert (movement.movement.kind, movement.movement.quantity) == (MovementKind.SALE, 1)
        for order in orders:
            [movement] = by_web_order[gid(order)]
            assert (movement.movement.kind, movement.movement.quantity) == (MovementKind.COMMITMENT, 2)
        assert (
            sum(m.delta_committed for m in by_web_order[gid(late)]) == 0
        )  # nothing stays committed for the cancelled order
        assert world.store.position("BAG-0C-R", "boulder").committed == 0

        movements, ledger = len(all_movements(world.store)), ledger_state(world.store)
        for sender in (shopify.webhooks, square.webhooks):
            sender.knobs.duplicate_rate = 0.0
        duplicates = world.engine.counters.duplicates
        shopify.redeliver_last("orders/create")
        square.redeliver_last("order.updated")
        await world.settle()
        assert world.engine.counters.duplicates == duplicates + 2
        assert (len(all_movements(world.store)), ledger_state(world.store)) == (movements, ledger)
        # Stock notifications carry second-precision times, so two of the same second can arrive out of order;
        # the older one is checked by a read once it is 10 s old (VERIFY_AFTER), and the others
        # follow. Wait for that (bounded), as the daemon's worker would.
        deadline = asyncio.get_running_loop().time() + 25
        while disagreements(world.store, world.emulators) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.5)
            await world.engine.process_pending()
        assert disagreements(world.store, world.emulators) == []


@pytest.mark.slow
async def test_a_429_storm_slows_the_sync_down_but_everything_converges(tmp_path: Path) -> None:
    async with local_world(tmp_path) as world:
        await first_sync(world)
        # Other apps share both accounts: Square's limit drops to 1 request/s, Shopify's cost bucket to the
        # legacy Standard plan's (1,000 points, 50 restored per second).
        world.square.set_rate_limit(1.0, 1)
        world.shopify.bucket.maximum, world.shopify.bucket.restore_rate = 1000.0, 50.0
        web_at, pos_at = world.emulators.shopify_location, world.emulators.square_location
        pos_orders, web_orders = [], []
        stop = asyncio.Event()
        worker = asyncio.get_running_loop().create_task(world.engine.run_worker(stop, idle_seconds=0.05))
        try:
            for round_number in range(2):  # a rush at both tills and on the web store, while the worker runs
                for sku in SKUS[round_number * 6 : round_number * 6 + 6]:
                    pos_orders.append(world.square.pos_sale(pos_at["fort-collins"], [(sku, 1)])["id"])
                    web_orders.append(gid(world.shopify.place_order([(sku, 1)], location_id=web_at["den-wh"])))
                    await asyncio.sleep(0.01)
        finally:
            stop.set()
            await worker
        await world.settle(timeout=60)
        await world.converge()

        assert world.square.calls["rate_limited"] > 0
        assert world.store.inbox(status=InboxStatus.DEAD) == []
        for channel, refs in ((POS, pos_orders), (WEB, web_orders)):
            assert all(len(movements) == 1 for movements in order_movements(world.store, channel, refs).values())
        assert disagreements(world.store, world.emulators) == []


@pytest.mark.slow
async def test_a_channel_down_for_the_whole_run_does_not_stop_the_other(tmp_path: Path) -> None:
    async with local_world(tmp_path, pos_down=True) as world:
        report = {row["channel"]: row for row in (await world.engine.sync_once()).as_dict()["channels"]}
        assert report[POS]["error"]
        # The web store still gets the ledger's stock pushed (it starts at zero everywhere).
        assert (report[WEB]["error"], report[WEB]["levels_checked"], report[WEB]["pushed"]["applied"]) == (
            None,
            180,
            180,
        )
        await world.settle()
        web_at = world.emulators.shopify_location
        orders = [
            world.shopify.place_order([(sku, 1)], location_id=web_at["boulder"]) for sku in ("LAMP-RED", "STOVE-DUO")
        ]
        await world.settle()

        by_order = order_movements(world.store, WEB, [gid(order) for order in orders])
        assert all(len(movements) == 1 for movements in by_order.values())
        assert world.store.inbox(status=InboxStatus.PENDING) == []
        assert disagreements(world.store, world.emulators, (WEB,)) == []
        # The POS could not be told: the SKUs sold at its store stay dirty, to be pushed when it is back.
        assert {("pos", "LAMP-RED"), ("pos", "STOVE-DUO")} <= set(world.store.pending_work())


@pytest.mark.slow
async def test_a_channel_that_is_down_is_not_called_again_while_backed_off(tmp_path: Path) -> None:
    # The engine's clock stands still, so the backoff cannot run out on a slow machine before the next pass.
    async with local_world(tmp_path, clock=lambda: 1000.0) as world:
        world.square.knobs.error_rate = 1.0  # every Square API call answers 503
        report = {row["channel"]: row for row in (await world.engine.sync_once()).as_dict()["channels"]}
        assert report[POS]["error"]
        world.shopify.place_order([("LAMP-RED", 1)], location_id=world.emulators.shopify_location["den-wh"])
        await world.shopify.webhooks.drain()
        calls = sum(world.square.calls.values())
        assert await world.engine.process_pending() >= 1  # the web order, applied right after the failure
        assert sum(world.square.calls.values()) == calls


@pytest.mark.slow
async def test_a_delivery_arriving_while_its_channel_cannot_be_resolved_is_applied_once_it_is_back(
    tmp_path: Path,
) -> None:
    """The refund's notification is processed while the channel's locations are unknown (its lines cannot be
    placed); the return still reaches the ledger exactly once, by the read-back's pull once Shopify is back."""
    async with local_world(tmp_path) as world:
        await first_sync(world)
        den_wh = world.emulators.shopify_location["den-wh"]
        order = world.shopify.place_order([("JKT-RAIN-M", 2)], location_id=den_wh)
        await world.settle()
        before = world.store.position("JKT-RAIN-M", "den-wh")
        number = int(order["id"])
        refund, _ = world.shopify.state.refund(
            number, [("JKT-RAIN-M", 1)], restock_type="return", location_id=int(den_wh.rsplit("/", 1)[1]), note=None
        )
        body = json.dumps(refund_payload(world.shopify.state, world.shopify.state.order(number), refund, -240, "USD"))
        # omnibridge restarts while Shopify's API answers 503; the refund's notification still arrives.
        world.shopify.knobs.error_rate = 1.0
        restarted = SyncEngine(world.store, build_channels(load_profile(world.profile)))
        try:
            report = {row["channel"]: row for row in (await restarted.sync_once()).as_dict()["channels"]}
            assert report[WEB]["error"]
            raw = body.encode()
            assert restarted.receive(WEB, raw, shopify_headers("refunds/create", raw), "").http_status == 200
            await restarted.process_pending()
            world.shopify.knobs.error_rate = 0.0  # Shopify recovers: the next passes must apply the return
            await restarted.sync_once()
            await restarted.process_pending()
        finally:
            await restarted.aclose()
        assert world.store.position("JKT-RAIN-M", "den-wh").on_hand == before.on_hand + 1
        returns = [m for m in all_movements(world.store) if m.movement.kind is MovementKind.RETURN]
        assert [(m.movement.sku, m.movement.quantity) for m in returns] == [("JKT-RAIN-M", 1)]


async def test_a_forged_webhook_is_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    async with local_world(tmp_path) as world:
        body = json.dumps({"id": 1, "line_items": []}).encode()
        forged = await post(world, WEB, body, shopify_headers("orders/create", body, secret="guessed-secret"))
        unsigned = await post(world, WEB, body, {"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "w-1"})
        square_body = json.dumps({"event_id": "e-1", "type": "order.updated", "data": {"id": "O-1"}}).encode()
        # Square signs the subscription URL with the body: the right key over another URL is a forgery too.
        elsewhere = signer(demo.SQUARE_SIGNATURE_KEY)(square_body, "https://attacker.example/webhooks/pos")
        wrong_url = await post(world, POS, square_body, elsewhere)
        unknown_channel = await post(world, "amazon", body, shopify_headers("orders/create", body))

        assert [r.status_code for r in (forged, unsigned, wrong_url, unknown_channel)] == [401, 401, 401, 404]
        assert "does not match" in forged.json()["message"]
        assert world.store.inbox(limit=10) == []
        assert world.engine.counters.rejected == 4
        assert all_movements(world.store) == [] or all(
            m.movement.source == "manual" for m in all_movements(world.store)
        )


async def test_a_signed_body_that_is_not_json_is_quarantined_not_refused(tmp_path: Path) -> None:
    async with local_world(tmp_path) as world:
        body = b'{"id": 5600000000001, "line_items": [truncated'
        receipt = await post(world, WEB, body, shopify_headers("orders/create", body))
        assert receipt.status_code == 200
        await world.engine.process_pending()
        [dead] = dead_letters(world.store)
        assert dead.error is not None
        assert "JSON" in dead.error


async def test_a_malformed_payload_is_dead_lettered_with_its_reason_then_replayed_once_fixed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A correctly signed refunds/create whose ``created_at`` is not a time and has no ``processed_at`` (Shopify
    always sends both): acknowledged, then dead-lettered naming the field, nothing applied. A connector that
    falls back to the time of receipt (the fix, patched in here) applies it on replay: the return is recorded
    exactly once."""
    async with local_world(tmp_path) as world:
        await first_sync(world)
        shopify, den_wh = world.shopify, world.emulators.shopify_location["den-wh"]
        order = shopify.place_order([("JKT-RAIN-M", 2)], location_id=den_wh)
        await world.settle()
        before = world.store.position("JKT-RAIN-M", "den-wh")
        assert before.committed == 2

        # The customer returns one unit; the shop records it, and the notification that reaches us is broken.
        number = int(order["id"])
        refund, _ = shopify.state.refund(
            number, [("JKT-RAIN-M", 1)], restock_type="return", location_id=int(den_wh.rsplit("/", 1)[1]), note=None
        )
        payload = refund_payload(shopify.state, shopify.state.order(number), refund, -240, "USD")
        payload.pop("processed_at")
        body = json.dumps({**payload, "created_at": "the day before yesterday"}).encode()
        receipt = await post(world, WEB, body, shopify_headers("refunds/create", body))
        assert receipt.status_code == 200
        await world.engine.process_pending()

        [dead] = dead_letters(world.store)
        assert dead.delivery.topic == "refunds/create"
        assert dead.error is not None
        assert "created_at" in dead.error
        assert world.store.position("JKT-RAIN-M", "den-wh") == before  # nothing half-applied

        original = shopify_webhooks.parse_refund

        def tolerant(body: Mapping[str, Any]) -> MapResult[RefundEvent]:
            if parse_time(body.get("created_at")) is None and parse_time(body.get("processed_at")) is None:
                body = {**body, "created_at": dead.delivery.received_at.isoformat()}
            return original(body)

        monkeypatch.setattr(shopify_webhooks, "parse_refund", tolerant)
        assert requeue(world.store, [dead.id]).requeued == [dead.id]
        assert await world.engine.process_pending() == 1
        await world.settle()

        replayed = world.store.inbox_entry(dead.id)
        assert replayed is not None
        assert (replayed.status, replayed.attempts, replayed.error) == (InboxStatus.DONE, 1, None)
        after = world.store.position("JKT-RAIN-M", "den-wh")
        assert (after.on_hand, after.committed) == (before.on_hand + 1, 2)
        returns = [m for m in all_movements(world.store) if m.movement.kind is MovementKind.RETURN]
        assert [(m.movement.sku, m.movement.quantity) for m in returns] == [("JKT-RAIN-M", 1)]
        assert requeue(world.store, [dead.id]).refused == {dead.id: "status is done, not dead"}
        assert disagreements(world.store, world.emulators) == []
