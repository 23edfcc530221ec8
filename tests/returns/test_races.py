"""Concurrent receipts of one return: the return's row is locked while it changes, so exactly one restocks."""

from __future__ import annotations

import threading

from returns_support import ACTOR, TEE, world

from omnibridge.returns.model import ReturnError
from omnibridge.returns.service import Received
from omnibridge.store import Store


def test_concurrent_receipts_restock_once(store: Store) -> None:
    w = world(store)
    rid = w.service.create("web:1001", [(TEE, 2)], reason="too small", by_post=True, actor=ACTOR).id
    start = threading.Barrier(4)
    results: list[str] = []

    def receive() -> None:
        start.wait()
        try:
            w.service.receive(rid, "wh", Received(restock=2), actor=ACTOR)
            results.append("ok")
        except ReturnError as exc:
            results.append(str(exc))

    threads = [threading.Thread(target=receive) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["ok"] + [f"return {rid} is closed: nothing to receive"] * 3
    assert w.on_hand(TEE, "wh") == 10
    assert w.verified()
