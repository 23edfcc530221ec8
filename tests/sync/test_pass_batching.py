"""The worker's pass and the writers' planning talk to the store in batches: what every channel should show for
many SKUs comes from two queries, and a pass hands its deliveries to the store threads once, not once per
delivery (on a busy event loop each hand-over costs a turn of the loop)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from omnibridge.sdk.channel import OrderEvent, OrderEventKind, OrderLineEvent
from omnibridge.store import LevelNote, Store
from omnibridge.sync import SyncEngine
from omnibridge.sync.reconcile import available_by_location, available_by_locations

from .fake_channel import NOW, TOKEN, FakeChannel, receive, runtime, seed_store

pytestmark = pytest.mark.anyio


def test_available_by_locations_is_available_by_location_of_each_sku(store: Store) -> None:
    seed_store(store, ["A", "B", "C"], ["shop", "wh"])
    receive(store, "A", "shop", 5)
    receive(store, "A", "wh", 2)
    receive(store, "B", "wh", 7)
    store.remember_levels("web", {("A", "shop"): LevelNote(5, "read", None, 5)})
    store.observe_level("web", ("A", "shop"), 3, NOW)  # a sale on the web store, its order not imported yet

    batched = available_by_locations(store, ["C", "A", "B", "A"])

    assert batched == {sku: available_by_location(store, sku) for sku in ("A", "B", "C")}
    assert batched == {"A": {"shop": 3, "wh": 2}, "B": {"wh": 7}, "C": {}}
    assert available_by_locations(store, []) == {}


WRITER_CALLS = frozenset(
    {"known_positions", "_needing_a_read", "_plan_from_known", "_plan_after_read", "admit", "record_pushes"}
    | {"settle_pushes"}
)
"""What a channel's writer hands to the store threads (:func:`omnibridge.sync.reconcile.reconcile_channel`)."""


async def test_a_pass_hands_its_deliveries_to_the_store_threads_at_once(store: Store) -> None:
    seed_store(store, ["A"], ["shop"])
    receive(store, "A", "shop", 50)
    pos = FakeChannel(["P-SHOP"])
    pos.levels[("A", "P-SHOP")] = 50
    engine = SyncEngine(store, [runtime("pos", pos, {"P-SHOP": "shop"})])
    await engine.sync_once()
    for n in range(10):
        pos.webhook_payloads[f"d-{n}"] = [
            OrderEvent(f"o-{n}", OrderEventKind.COMPLETED, NOW, (OrderLineEvent("1", "A", 1, "P-SHOP"),))
        ]
        body = json.dumps({"delivery": f"d-{n}", "topic": "orders/create"}).encode()
        engine.receive("pos", body, {"x-token": TOKEN}, "")
    calls: list[str] = []
    offload = engine._offload

    async def counted(call: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(call, "__name__", repr(call)))
        return await offload(call, *args, **kwargs)

    engine._offload = counted  # type: ignore[method-assign]

    assert await engine.process_pending() == 10

    assert store.position("A", "shop").on_hand == 40
    assert calls.count("_apply_delivery") == 0
    # the writer's reconcile goes through the store threads too, a few calls per write, whatever the deliveries
    applying = [call for call in calls if call not in WRITER_CALLS]
    assert len(applying) <= 4  # the inbox, the channels' queues, the deliveries; the work marked (not per delivery)
    await engine.aclose()


async def test_a_writers_store_work_runs_off_the_event_loop(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Planning and remembering a write are blocking store calls: they run on the store threads, so the loop stays
    free to receive webhooks and send other channels' writes while a writer waits on the database."""
    seed_store(store, ["A"], ["shop"])
    receive(store, "A", "shop", 5)
    pos = FakeChannel(["P-SHOP"])
    pos.levels[("A", "P-SHOP")] = 0
    engine = SyncEngine(store, [runtime("pos", pos, {"P-SHOP": "shop"})])
    loop_thread = threading.get_ident()
    threads: dict[str, set[int]] = {}
    for name in ("known_positions", "known_levels", "remember_levels", "record_pushes", "settle_pushes"):
        original = getattr(Store, name)

        def spy(self: Store, *args: Any, _name: str = name, _original: Any = original, **kwargs: Any) -> Any:
            threads.setdefault(_name, set()).add(threading.get_ident())
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Store, name, spy)

    await engine.sync_once()

    assert pos.levels[("A", "P-SHOP")] == 5
    assert set(threads) == {"known_positions", "known_levels", "remember_levels", "record_pushes", "settle_pushes"}
    assert all(loop_thread not in used for used in threads.values()), threads
    await engine.aclose()
