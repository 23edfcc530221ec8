"""Two orders for the last units at the same instant never reserve them twice (SQLite and PostgreSQL).

Each round starts two threads at a barrier; each places a web order for the two units the New York store holds.
The race is widened at an exact point: whoever locks a position first holds it a little longer (injected into
the ledger's lock step), so the other order is always deciding at the same time. Whatever the interleaving, the
router of the second order reads the first one's commitment under the lock and sends it elsewhere.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from routing_service_support import Network, network, order

from omnibridge.ledger import apply as ledger_apply
from omnibridge.store import Store

ROUNDS = 3


@pytest.fixture
def slow_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    original = ledger_apply.lock_position

    def lock_and_linger(*args: Any, **kwargs: Any) -> Any:
        locked = original(*args, **kwargs)
        time.sleep(0.005)  # hold the lock while the other order tries to get in
        return locked

    monkeypatch.setattr(ledger_apply, "lock_position", lock_and_linger)


def _place(net: Network, ref: str, sku: str, barrier: threading.Barrier, errors: list[BaseException]) -> None:
    try:
        barrier.wait(timeout=10)
        net.applier().apply_all([order(ref, (sku, 2), at="W-CHI")])
    except BaseException as exc:  # reported by the test thread
        errors.append(exc)


@pytest.mark.usefixtures("slow_lock")
def test_two_orders_for_the_last_units_never_reserve_them_twice(store: Store) -> None:
    skus = [f"R{i}" for i in range(ROUNDS)]
    stock = {(sku, "nyc"): 2 for sku in skus} | {(sku, "wh"): 2 for sku in skus}
    net = network(store, stock)
    for sku in skus:
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []
        threads = [threading.Thread(target=_place, args=(net, f"{sku}-{n}", sku, barrier, errors)) for n in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        # one order took the store's two units, the other was routed to the warehouse: nothing short, nothing twice
        assert net.committed(sku) == {"nyc": 2, "wh": 2}
        assert store.position(sku, "nyc").available == 0
        places = sorted(net.service.assignments(f"web:{sku}-{n}")[0].location_id for n in (1, 2))
        assert places == ["nyc", "wh"]
    assert store.verify() == []
