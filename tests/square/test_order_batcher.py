"""Concurrent webhook deliveries share one BatchRetrieveOrders call."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest

from connectors.square.order_batcher import ORDERS_PER_RETRIEVE, OrderBatcher


class Square:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.fail = fail

    async def fetch(self, ids: list[str]) -> tuple[dict[str, Mapping[str, Any]], str]:
        self.calls.append(ids)
        await asyncio.sleep(0)
        if self.fail:
            raise RuntimeError("Square is down")
        return {i: {"id": i} for i in ids if i != "gone"}, "NOT_FOUND: gone"


def test_callers_arriving_together_share_one_call_and_each_gets_its_order() -> None:
    square = Square()
    batcher = OrderBatcher(square.fetch)

    async def run() -> list[tuple[Mapping[str, Any] | None, str]]:
        return list(await asyncio.gather(*(batcher.get(i) for i in ["a", "b", "a", "gone"])))

    results = asyncio.run(run())
    assert square.calls == [["a", "b", "gone"]]
    assert [order["id"] if order else None for order, _ in results] == ["a", "b", "a", None]
    assert results[3][1] == "NOT_FOUND: gone"


def test_more_than_a_batch_is_split_and_a_later_caller_gets_a_new_call() -> None:
    square = Square()
    batcher = OrderBatcher(square.fetch)
    ids = [f"o{i}" for i in range(ORDERS_PER_RETRIEVE + 5)]

    async def run() -> None:
        await asyncio.gather(*(batcher.get(i) for i in ids))
        await batcher.get("late")

    asyncio.run(run())
    assert [len(call) for call in square.calls] == [ORDERS_PER_RETRIEVE, 5, 1]


def test_a_failed_fetch_fails_every_caller_of_that_batch() -> None:
    batcher = OrderBatcher(Square(fail=True).fetch)

    async def run() -> list[Any]:
        return list(await asyncio.gather(batcher.get("a"), batcher.get("b"), return_exceptions=True))

    results = asyncio.run(run())
    assert all(isinstance(r, RuntimeError) for r in results)
    with pytest.raises(RuntimeError, match="Square is down"):
        asyncio.run(OrderBatcher(Square(fail=True).fetch).get("c"))
