"""Two channels sell the last unit at the same instant: the database decides, on SQLite and PostgreSQL.

Each round starts two threads at a barrier; each applies its channel's order and runs the oversell resolver on
what it left short, exactly as the engine does. The race is widened at an exact point: whoever takes the
position's lock first holds it a little longer (injected into the ledger's lock step), so the other order is
always in flight at the same time. Whatever the arrival order, exactly one unit stays committed, and the order
that loses is the web store's (lower priority) — never the POS sale's.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from omnibridge.ledger import apply as ledger_apply
from omnibridge.models import MovementKind, StockMovement
from omnibridge.sdk.channel import OrderEvent, OrderEventKind, OrderLineEvent
from omnibridge.store import Store
from omnibridge.sync import ChannelRuntime
from omnibridge.sync.apply import EventApplier
from omnibridge.sync.oversell import resolve_oversell

from .fake_channel import NOW, FakeChannel, runtime, seed_store

ROUNDS = 6


@pytest.fixture
def slow_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    original = ledger_apply.lock_position

    def lock_and_linger(*args: Any, **kwargs: Any) -> Any:
        locked = original(*args, **kwargs)
        time.sleep(0.02)  # hold the position's lock while the other thread's order is trying to get in
        return locked

    monkeypatch.setattr(ledger_apply, "lock_position", lock_and_linger)
    return


def sell(
    store: Store,
    channel: ChannelRuntime,
    ref: str,
    sku: str,
    location_ref: str,
    barrier: threading.Barrier,
    errors: list[BaseException],
) -> None:
    try:
        barrier.wait(timeout=10)
        event = OrderEvent(ref, OrderEventKind.PLACED, NOW, (OrderLineEvent("1", sku, 1, location_ref),))
        outcome = EventApplier(store, channel).apply_all([event])
        for (short_sku, location_id), _ in outcome.shortfalls:
            with store.unit_of_work() as uow:
                resolve_oversell(uow, short_sku, location_id, {"web": 10, "pos": 20})
    except BaseException as exc:  # reported by the test thread
        errors.append(exc)


@pytest.mark.usefixtures("slow_lock")
def test_the_last_unit_sold_twice_at_the_same_instant_is_decided_once(store: Store) -> None:
    skus = [f"R{i}" for i in range(ROUNDS)]
    seed_store(store, skus, ["shop"])
    web = runtime("web", FakeChannel(["W-SHOP"]), {"W-SHOP": "shop"}, priority=10)
    pos = runtime("pos", FakeChannel(["P-SHOP"]), {"P-SHOP": "shop"}, priority=20)
    web.location_ids["W-SHOP"] = "shop"
    pos.location_ids["P-SHOP"] = "shop"
    for sku in skus:
        store.apply(
            StockMovement(
                idempotency_key=f"receipt:{sku}",
                source="manual",
                kind=MovementKind.RECEIPT,
                sku=sku,
                location_id="shop",
                quantity=1,
                occurred_at=NOW,
            )
        )

    for index, sku in enumerate(skus):
        barrier, errors = threading.Barrier(2), list[BaseException]()
        contenders = [(web, f"o-{sku}", "W-SHOP"), (pos, f"p-{sku}", "P-SHOP")]
        if index % 2:
            contenders.reverse()  # alternate who starts first
        threads = [
            threading.Thread(target=sell, args=(store, channel, ref, sku, location_ref, barrier, errors))
            for channel, ref, location_ref in contenders
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert errors == []
        position = store.position(sku, "shop")
        assert (position.on_hand, position.committed) == (1, 1), sku
        held = store.incidents(kind="oversell", sku=sku)
        assert [(i.decision, i.order_id) for i in held] == [("held", f"web:o-{sku}")]
        pos_line = store.order_line(f"pos:order:p-{sku}:1")
        assert pos_line is not None
        assert (pos_line.status, pos_line.committed, pos_line.version) == ("open", 1, 1)
        assert store.find_movement(f"pos:order:p-{sku}:1:v1:commit") is not None  # the POS order was never touched
        web_line = store.order_line(f"web:order:o-{sku}:1")
        assert web_line is not None
        assert (web_line.status, web_line.committed) == ("on_hold", 0)
