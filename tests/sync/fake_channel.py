"""An in-memory sales channel that keeps the ChannelConnector contract, for testing the engine's logic.

It is not a vendor emulator: it has no HTTP and no vendor format. It does keep what the engine relies on:
compare-and-set writes (a stale ``expected`` is refused, or written over when the target allows a retry, as a
real connector may), events with stable refs, a bookmark that only moves forward, webhook verification by a shared
token, and calls counted per operation.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from pydantic import BaseModel

from omnibridge.config import LoadedChannel, MappingTables
from omnibridge.errors import RetriableConnectorError, WebhookError
from omnibridge.models import Location, LocationType, MovementKind, Product, StockMovement, Variant
from omnibridge.sdk import Capability, ConnectorKind, ConnectorSpec, WebhookDelivery
from omnibridge.sdk.channel import (
    ChannelEvent,
    ChannelLocation,
    PullResult,
    PushResult,
    PushStatus,
    StockLevel,
    StockTarget,
)
from omnibridge.store import Store
from omnibridge.sync import ChannelRuntime

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TOKEN = "fake-token"


class FakeSettings(BaseModel):
    name: str = "fake"


class FakeChannel:
    """Levels keyed by (sku, location ref); events appended by tests and returned by pull/webhooks."""

    def __init__(self, locations: Sequence[str]) -> None:
        self.locations = list(locations)
        self.levels: dict[tuple[str, str], int] = {}
        self.events: list[tuple[int, ChannelEvent]] = []
        self.webhook_payloads: dict[str, list[ChannelEvent]] = {}
        self.calls: Counter[str] = Counter()
        self.fail_reads = False
        self.fetches: Counter[str] = Counter()
        """Delivery id -> how often what it names was fetched."""
        self.webhook_failures: Counter[str] = Counter()
        """Delivery id -> how many more fetches of what it names fail retriably (then it answers)."""
        self.change_before_push: dict[tuple[str, str], int] = {}

    async def list_locations(self) -> list[ChannelLocation]:
        self.calls["list_locations"] += 1
        return [ChannelLocation(ref, f"Location {ref}") for ref in self.locations]

    async def read_levels(self, skus: Sequence[str]) -> list[StockLevel]:
        self.calls["read_levels"] += 1
        if self.fail_reads:
            raise RetriableConnectorError("fake is down", connector="fake", op="read_levels")
        wanted = set(skus)
        return [
            StockLevel(sku, ref, quantity, NOW) for (sku, ref), quantity in sorted(self.levels.items()) if sku in wanted
        ]

    async def push_levels(self, targets: Sequence[StockTarget]) -> list[PushResult]:
        self.calls["push_levels"] += 1
        for key, quantity in self.change_before_push.items():  # someone edits the channel between read and write
            self.levels[key] = quantity
        self.change_before_push = {}
        results = []
        for target in targets:
            key = (target.sku, target.location_ref)
            if key not in self.levels:
                results.append(PushResult(target, PushStatus.UNKNOWN_SKU))
            elif target.expected is not None and self.levels[key] != target.expected and not target.retry_stale:
                results.append(PushResult(target, PushStatus.STALE, self.levels[key]))
            elif target.expected is not None and self.levels[key] != target.expected:
                # what a real compare-and-set connector may do (Shopify's): re-read, retry with the fresh compare
                # value, and so write over the move
                self.levels[key] = target.quantity
                results.append(PushResult(target, PushStatus.APPLIED, target.quantity))
            else:
                self.levels[key] = target.quantity
                results.append(PushResult(target, PushStatus.APPLIED, target.quantity))
        return results

    async def pull_events(self, bookmark: str | None) -> PullResult:
        self.calls["pull_events"] += 1
        since = int(bookmark) if bookmark else 0
        fresh = [event for seq, event in self.events if seq >= since]
        top = max([seq for seq, _ in self.events], default=since - 1) + 1
        return PullResult(fresh, str(max(top, since)))

    def verify_webhook(self, raw_body: bytes, headers: Mapping[str, str], url: str) -> WebhookDelivery:
        if headers.get("x-token") != TOKEN:
            raise WebhookError("fake: missing or wrong x-token header")
        try:
            body = json.loads(raw_body)
        except ValueError as exc:
            raise WebhookError(f"fake: body is not JSON: {exc}") from None
        topic = body.get("topic", "fake/topic")
        return WebhookDelivery(body["delivery"], body.get("event"), topic, raw_body, dict(headers), NOW)

    async def webhook_events(self, delivery: WebhookDelivery) -> list[ChannelEvent]:
        self.calls["webhook_events"] += 1
        self.fetches[delivery.delivery_id] += 1
        if self.webhook_failures[delivery.delivery_id] > 0:
            self.webhook_failures[delivery.delivery_id] -= 1
            raise RetriableConnectorError("fake answered 503", connector="fake", op="webhook_events")
        return list(self.webhook_payloads.get(delivery.delivery_id, []))

    async def aclose(self) -> None:
        return None

    def add_event(self, event: ChannelEvent) -> None:
        self.events.append((len(self.events), event))


SPEC = ConnectorSpec(
    id="fake",
    label="Fake",
    kind=ConnectorKind.STOREFRONT,
    settings_model=FakeSettings,
    capabilities=frozenset({Capability.INVENTORY_READ, Capability.INVENTORY_WRITE, Capability.ORDERS_READ}),
)
CAS_SPEC = replace(SPEC, capabilities=SPEC.capabilities | {Capability.INVENTORY_COMPARE_AND_SET})


def runtime(
    channel_id: str,
    fake: FakeChannel,
    location_map: Mapping[str, str],
    *,
    priority: int = 0,
    drift: Literal["ledger", "channel", "alert"] = "ledger",
    compare_and_set: bool = False,
) -> ChannelRuntime:
    """The fake as a channel of the profile; ``compare_and_set`` declares it (the engine then writes from what it
    knows without reading first)."""
    loaded = LoadedChannel(
        id=channel_id,
        connector="fake",
        spec=CAS_SPEC if compare_and_set else SPEC,
        settings=FakeSettings(),
        profile_path=Path("fake.yaml"),
        mappings=MappingTables(location_map=MappingProxyType(dict(location_map))),
        priority=priority,
        drift=drift,
    )
    return ChannelRuntime(channel_id, fake, loaded)


def seed_store(store: Store, skus: Sequence[str], locations: Sequence[str]) -> None:
    for location_id in locations:
        store.upsert_location(Location(id=location_id, name=location_id, type=LocationType.STORE))
    store.upsert_product(Product(id="P", title="Product", variants=[Variant(sku=sku, product_id="P") for sku in skus]))


def receive(store: Store, sku: str, location_id: str, quantity: int) -> None:
    """Book a receipt of ``quantity`` units in the ledger (the stock a test starts from)."""
    store.apply(
        StockMovement(
            idempotency_key=f"test:receipt:{sku}:{location_id}:{quantity}",
            source="manual",
            kind=MovementKind.RECEIPT,
            sku=sku,
            location_id=location_id,
            quantity=quantity,
            occurred_at=NOW,
        )
    )
