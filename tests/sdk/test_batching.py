"""CoalescingBatcher: callers asking together share one read, each gets its own result."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import pytest

from omnibridge.sdk import CoalescingBatcher, MissingFromBatchError

pytestmark = pytest.mark.anyio


class Vendor:
    """A read that records each batch it was given and answers ``id -> id.upper()``."""

    def __init__(self, *, fail: bool = False, lacks: frozenset[str] = frozenset()) -> None:
        self.reads: list[list[str]] = []
        self.fail = fail
        self.lacks = lacks
        self.gate: asyncio.Event | None = None  # when set, a read waits for it (a vendor answering later)
        self.reading = asyncio.Event()

    async def read(self, ids: list[str]) -> Mapping[str, str]:
        self.reads.append(list(ids))
        self.reading.set()
        if self.gate is not None:
            await self.gate.wait()
        await asyncio.sleep(0)
        if self.fail:
            raise RuntimeError("vendor is down")
        return {i: i.upper() for i in ids if i not in self.lacks}


async def test_callers_asking_together_share_one_read_and_each_gets_its_result() -> None:
    vendor = Vendor()
    batcher: CoalescingBatcher[str, str] = CoalescingBatcher(vendor.read)

    results = await asyncio.gather(*(batcher.get(i) for i in ["a", "b", "a", "c"]))

    assert vendor.reads == [["a", "b", "c"]]
    assert results == ["A", "B", "A", "C"]


async def test_more_ids_than_batch_size_are_split_into_reads_of_at_most_that_many() -> None:
    vendor = Vendor()
    batcher: CoalescingBatcher[str, str] = CoalescingBatcher(vendor.read, batch_size=3)
    ids = [f"o{i}" for i in range(7)]

    results = await asyncio.gather(*(batcher.get(i) for i in ids))

    assert vendor.reads == [ids[0:3], ids[3:6], ids[6:7]]
    assert results == [i.upper() for i in ids]


async def test_an_id_the_read_does_not_return_fails_only_its_callers() -> None:
    vendor = Vendor(lacks=frozenset({"gone"}))
    batcher: CoalescingBatcher[str, str] = CoalescingBatcher(vendor.read)

    results = await asyncio.gather(
        batcher.get("a"), batcher.get("gone"), batcher.get("gone"), batcher.get("b"), return_exceptions=True
    )

    assert vendor.reads == [["a", "gone", "b"]]
    assert results[0] == "A"
    assert results[3] == "B"
    for missing in results[1:3]:
        assert isinstance(missing, MissingFromBatchError)
        assert missing.key == "gone"
        assert "returned nothing for 'gone'" in str(missing)


async def test_a_failed_read_fails_every_caller_of_that_batch_with_its_exception() -> None:
    vendor = Vendor(fail=True)
    batcher: CoalescingBatcher[str, str] = CoalescingBatcher(vendor.read)

    results = await asyncio.gather(batcher.get("a"), batcher.get("b"), batcher.get("a"), return_exceptions=True)

    assert vendor.reads == [["a", "b"]]
    assert len(results) == 3
    for result in results:
        assert isinstance(result, RuntimeError)
        assert str(result) == "vendor is down"


async def test_a_failed_read_does_not_fail_the_next_batch_of_the_same_drain() -> None:
    vendor = Vendor()
    calls = 0

    async def first_fails(ids: list[str]) -> Mapping[str, str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("vendor is down")
        return await vendor.read(ids)

    batcher: CoalescingBatcher[str, str] = CoalescingBatcher(first_fails, batch_size=1)
    results = await asyncio.gather(batcher.get("a"), batcher.get("b"), return_exceptions=True)

    assert isinstance(results[0], RuntimeError)
    assert results[1] == "B"


async def test_a_caller_arriving_during_a_read_is_read_next_in_the_same_drain() -> None:
    vendor = Vendor()
    vendor.gate = asyncio.Event()
    batcher: CoalescingBatcher[str, str] = CoalescingBatcher(vendor.read)

    first = asyncio.ensure_future(batcher.get("a"))
    await vendor.reading.wait()
    second = asyncio.ensure_future(batcher.get("b"))
    third = asyncio.ensure_future(batcher.get("a"))
    await asyncio.sleep(0)
    vendor.gate.set()

    assert list(await asyncio.gather(first, second, third)) == ["A", "B", "A"]
    assert vendor.reads == [["a"], ["b", "a"]]


async def test_a_call_after_a_drain_ended_starts_a_new_read() -> None:
    vendor = Vendor()
    batcher: CoalescingBatcher[str, str] = CoalescingBatcher(vendor.read)

    assert list(await asyncio.gather(batcher.get("a"), batcher.get("b"))) == ["A", "B"]
    assert await batcher.get("a") == "A"

    assert vendor.reads == [["a", "b"], ["a"]]


async def test_a_cancelled_caller_leaves_the_others_their_results() -> None:
    vendor = Vendor()
    vendor.gate = asyncio.Event()
    batcher: CoalescingBatcher[str, str] = CoalescingBatcher(vendor.read)

    gone = asyncio.ensure_future(batcher.get("a"))
    stays = asyncio.ensure_future(batcher.get("a"))
    other = asyncio.ensure_future(batcher.get("b"))
    await vendor.reading.wait()
    gone.cancel()
    vendor.gate.set()

    assert list(await asyncio.gather(stays, other)) == ["A", "B"]
    assert gone.cancelled()
    assert vendor.reads == [["a", "b"]]


def test_a_batch_size_below_one_is_refused() -> None:
    async def read(ids: list[str]) -> Mapping[str, str]:
        return {}

    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        CoalescingBatcher(read, batch_size=0)
