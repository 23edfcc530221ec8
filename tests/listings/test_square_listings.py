"""Square item names and variation prices against the emulator: versions, idempotency keys, refusals."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.square.emulator import SquareEmulator, validate_request
from connectors.square.emulator.catalog import upsert
from connectors.square.emulator.common import ApiError
from connectors.square.emulator.inventory import IdempotencyCache
from connectors.square.listings import _Entry, _plan
from omnibridge.sdk.channel import PushStatus
from omnibridge.sdk.listings import ListingUpdate

from .support import STOVE, TENT, square_world

pytestmark = pytest.mark.anyio

UPSERT = "POST /v2/catalog/object"


def staff_rename(emu: SquareEmulator, name: str) -> None:
    """A person renames the tent's item in the Square dashboard (a whole-object upsert with its version)."""
    variation_id = emu.state.variation_for_sku(TENT)
    item = copy.deepcopy(emu.state.catalog[emu.state.catalog[variation_id]["item_variation_data"]["item_id"]])
    item["item_data"]["name"] = name
    upsert(emu.state, IdempotencyCache(), {"idempotency_key": f"staff-{name}", "object": item})


class RenamedBeforeUpserts(httpx.AsyncBaseTransport):
    """Renames the tent before each of the first ``times`` upserts reaches Square: a concurrent dashboard edit."""

    def __init__(self, emu: SquareEmulator, inner: httpx.AsyncBaseTransport, times: int) -> None:
        self.emu, self.inner, self.times, self.seen = emu, inner, times, 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/catalog/object" and self.seen < self.times:
            self.seen += 1
            staff_rename(self.emu, f"Staff name {self.seen}")
        return await self.inner.handle_async_request(request)


def renamed(times: int) -> Callable[[SquareEmulator, httpx.AsyncBaseTransport], httpx.AsyncBaseTransport]:
    return lambda emu, inner: RenamedBeforeUpserts(emu, inner, times)


async def test_title_and_price_land_on_item_and_variation() -> None:
    world = square_world()
    try:
        results = await world.client.push_listings(
            [
                ListingUpdate(TENT, title="Trail tent 2P", price=Decimal("189.5"), currency="USD", reference="r1"),
                ListingUpdate(STOVE, price=Decimal("45"), currency="USD", reference="r1"),
            ]
        )
        assert [r.status for r in results] == [PushStatus.APPLIED, PushStatus.APPLIED]
        assert world.emu.listing(TENT) == ("Trail tent 2P", "189.50")
        assert world.emu.listing(STOVE) == ("Camp stove", "45.00")
        assert world.emu.calls[UPSERT] == 2  # one object per item
        price = world.emu.state.catalog[world.tent_id]["item_variation_data"]["price_money"]
        assert price == {"amount": 18950, "currency": "USD"}
    finally:
        await world.aclose()


async def test_a_resend_is_unchanged_and_writes_nothing() -> None:
    world = square_world()
    update = ListingUpdate(TENT, title="Trail tent 2P", price=Decimal("189.50"), currency="USD", reference="r1")
    try:
        first = await world.client.push_listings([update])
        version = world.emu.state.catalog[world.tent_id]["version"]
        second = await world.client.push_listings([update])
        assert (first[0].status, second[0].status) == (PushStatus.APPLIED, PushStatus.UNCHANGED)
        assert world.emu.calls[UPSERT] == 1
        assert world.emu.state.catalog[world.tent_id]["version"] == version
    finally:
        await world.aclose()


async def test_unknown_sku_foreign_currency_and_too_many_decimals_do_not_stop_the_others() -> None:
    world = square_world()
    try:
        results = await world.client.push_listings(
            [
                ListingUpdate("NOPE-1", title="Ghost"),
                ListingUpdate(TENT, price=Decimal("10.00"), currency="EUR"),
                ListingUpdate(TENT, price=Decimal("10.001"), currency="USD"),
                ListingUpdate(STOVE, title="Camp stove XL"),
            ]
        )
        assert [r.status for r in results] == [
            PushStatus.UNKNOWN_SKU,
            PushStatus.FAILED,
            PushStatus.FAILED,
            PushStatus.APPLIED,
        ]
        assert "priced in USD, not EUR" in results[1].message
        assert "more than 2 decimals" in results[2].message
        assert world.emu.listing(TENT) == ("Trail tent", "199.00")
        assert world.emu.listing(STOVE) == ("Camp stove XL", "49.50")
    finally:
        await world.aclose()


async def test_version_mismatch_rereads_once_and_keeps_the_staff_edit() -> None:
    world = square_world(renamed(times=1))
    try:
        [result] = await world.client.push_listings([ListingUpdate(TENT, price=Decimal("150"), currency="USD")])
        assert result.status is PushStatus.APPLIED
        assert world.emu.listing(TENT) == ("Staff name 1", "150.00")  # re-read: the staff's name survives
        assert world.emu.calls[UPSERT] == 2
    finally:
        await world.aclose()


async def test_an_item_that_keeps_changing_fails_after_one_reread() -> None:
    world = square_world(renamed(times=5))
    try:
        [result] = await world.client.push_listings([ListingUpdate(TENT, price=Decimal("150"), currency="USD")])
        assert result.status is PushStatus.FAILED
        assert "kept changing" in result.message
        assert "VERSION_MISMATCH" in result.message
        assert world.emu.listing(TENT) == ("Staff name 2", "199.00")
    finally:
        await world.aclose()


def test_emulator_upsert_versions_idempotency_and_whole_objects() -> None:
    world = square_world()
    state = world.emu.state
    cache = IdempotencyCache()
    variation = copy.deepcopy(state.catalog[world.tent_id])
    variation["item_variation_data"]["price_money"] = {"amount": 100, "currency": "USD"}
    body: dict[str, Any] = {"idempotency_key": "k1", "object": variation}
    assert validate_request("POST", "/v2/catalog/object", body) == []
    first = upsert(state, cache, body)
    assert upsert(state, cache, copy.deepcopy(body)) == first  # replayed, not applied twice
    assert first["catalog_object"]["version"] == state.catalog[world.tent_id]["version"] != variation["version"]
    other = copy.deepcopy(body)
    other["object"]["item_variation_data"]["price_money"]["amount"] = 200
    with pytest.raises(ApiError, match="IDEMPOTENCY_KEY_REUSED"):
        upsert(state, cache, other)
    stale = dict(other, idempotency_key="k2")  # still carries the version it was read at
    with pytest.raises(ApiError, match="VERSION_MISMATCH"):
        upsert(state, cache, stale)
    # an ITEM update is a whole object: a variation left out of item_data.variations is deleted
    item_id = variation["item_variation_data"]["item_id"]
    item = copy.deepcopy(state.catalog[item_id])
    item["item_data"]["variations"] = []
    upsert(state, cache, {"idempotency_key": "k3", "object": item})
    assert state.catalog[world.tent_id]["is_deleted"] is True
    with pytest.raises(KeyError):
        world.emu.listing(TENT)


def test_an_item_returned_without_its_variations_is_never_written_whole() -> None:
    variation = {"id": "V1", "type": "ITEM_VARIATION", "version": 1, "item_variation_data": {"item_id": "I1"}}
    item = {"id": "I1", "type": "ITEM", "version": 1, "item_data": {"name": "Old"}}
    entry = _Entry(0, ListingUpdate(TENT, title="New"), "V1")
    obj, decided, applying = _plan("I1", [entry], {"V1": variation, "I1": item})
    assert (obj, applying) == (None, [])
    assert [(r.status, r.message) for _, r in decided] == [
        (PushStatus.FAILED, "Square returned the item without its variations; not sent (it would delete them)")
    ]


class LosesFirstUpsertResponse(httpx.AsyncBaseTransport):
    """Lets the first upsert reach Square, then loses its response (a timeout after the write was applied)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner, self.lost = inner, False
        self.keys: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path == "/v2/catalog/object":
            self.keys.append(json.loads(request.content)["idempotency_key"])
            if not self.lost:
                self.lost = True
                raise httpx.ReadTimeout("response lost", request=request)
        return response


async def test_a_lost_response_is_resent_with_the_same_key_and_applied_once() -> None:
    wrapper: list[LosesFirstUpsertResponse] = []

    def wrap(emu: SquareEmulator, inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        wrapper.append(LosesFirstUpsertResponse(inner))
        return wrapper[0]

    world = square_world(wrap)
    before = world.emu.state.catalog_version
    try:
        [result] = await world.client.push_listings(
            [ListingUpdate(TENT, price=Decimal("150"), currency="USD", reference="push-7")]
        )
        assert result.status is PushStatus.APPLIED
        assert len(wrapper[0].keys) == 2
        assert wrapper[0].keys[0] == wrapper[0].keys[1]
        assert world.emu.state.catalog_version == before + 1  # the resend was replayed, not applied again
        assert world.emu.listing(TENT) == ("Trail tent", "150.00")
    finally:
        await world.aclose()
