"""A minimal in-memory sales channel for daemon tests (no HTTP): locations that can fail to list, levels,
events for polls, and webhooks verified by a shared token."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from pydantic import BaseModel

from omnibridge.config import LoadedChannel, MappingTables
from omnibridge.errors import RetriableConnectorError, WebhookError
from omnibridge.sdk import Capability, ConnectorKind, ConnectorSpec, WebhookDelivery
from omnibridge.sdk.channel import ChannelEvent, ChannelLocation, PullResult, PushResult, StockLevel, StockTarget
from omnibridge.sync import ChannelRuntime

TOKEN = "daemon-test-token"
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class FakeSettings(BaseModel):
    name: str = "fake"


class FakeConnector:
    def __init__(self, locations: Sequence[str]) -> None:
        self.locations = list(locations)
        self.locations_down = False
        self.calls: Counter[str] = Counter()

    async def list_locations(self) -> list[ChannelLocation]:
        self.calls["list_locations"] += 1
        if self.locations_down:
            raise RetriableConnectorError("fake is down", connector="fake", op="list_locations")
        return [ChannelLocation(ref, f"Location {ref}") for ref in self.locations]

    async def read_levels(self, skus: Sequence[str]) -> list[StockLevel]:
        self.calls["read_levels"] += 1
        return []

    async def push_levels(self, targets: Sequence[StockTarget]) -> list[PushResult]:
        self.calls["push_levels"] += 1
        return []

    async def pull_events(self, bookmark: str | None) -> PullResult:
        self.calls["pull_events"] += 1
        return PullResult([], bookmark)

    def verify_webhook(self, raw_body: bytes, headers: Mapping[str, str], url: str) -> WebhookDelivery:
        if headers.get("x-token") != TOKEN:
            raise WebhookError("fake: missing or wrong x-token header")
        body = json.loads(raw_body)
        return WebhookDelivery(body["delivery"], None, "fake/topic", raw_body, dict(headers), NOW)

    async def webhook_events(self, delivery: WebhookDelivery) -> list[ChannelEvent]:
        self.calls["webhook_events"] += 1
        return []

    async def aclose(self) -> None:
        self.calls["aclose"] += 1


def spec(*, webhooks: bool) -> ConnectorSpec:
    capabilities = {Capability.INVENTORY_READ, Capability.INVENTORY_WRITE}
    if webhooks:
        capabilities.add(Capability.WEBHOOKS)
    return ConnectorSpec(
        id="fake",
        label="Fake",
        kind=ConnectorKind.STOREFRONT,
        settings_model=FakeSettings,
        capabilities=frozenset(capabilities),
    )


def runtime(
    channel_id: str, connector: FakeConnector, location_map: Mapping[str, str], *, webhooks: bool
) -> ChannelRuntime:
    loaded = LoadedChannel(
        id=channel_id,
        connector="fake",
        spec=spec(webhooks=webhooks),
        settings=FakeSettings(),
        profile_path=Path("fake.yaml"),
        mappings=MappingTables(location_map=MappingProxyType(dict(location_map))),
    )
    return ChannelRuntime(channel_id, connector, loaded)
