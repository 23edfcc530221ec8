"""push_listing_changes: capabilities, SKU mapping, per-channel failures, recording, and both real connectors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from pydantic import BaseModel

from omnibridge.config import LoadedChannel, LoadedProfile, MappingTables, MerchantSection, load_profile
from omnibridge.errors import FatalConnectorError
from omnibridge.listings.changes import ListingChange
from omnibridge.listings.service import ListingInputError, OutcomeStatus, push_listing_changes
from omnibridge.models import Listing, Money
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
from omnibridge.sdk.listings import ListingResult, ListingUpdate
from omnibridge.store import open_store

from .support import LAMP, POS_STOVE, STOVE, TENT, served_channels

pytestmark = pytest.mark.anyio

BOTH = frozenset({Capability.LISTINGS_WRITE, Capability.PRICES_WRITE})


class FakeSettings(BaseModel):
    name: str = "fake"


class Plain:
    """A sales channel connector without listings (the stock part of the contract, doing nothing)."""

    def __init__(self) -> None:
        self.closed = False

    async def list_locations(self) -> list[ChannelLocation]:
        return []

    async def read_levels(self, skus: Sequence[str]) -> list[StockLevel]:
        return []

    async def push_levels(self, targets: Sequence[StockTarget]) -> list[PushResult]:
        return []

    async def pull_events(self, bookmark: str | None) -> PullResult:
        return PullResult([], bookmark)

    def verify_webhook(self, raw_body: bytes, headers: Mapping[str, str], url: str) -> WebhookDelivery:
        raise NotImplementedError

    async def webhook_events(self, delivery: WebhookDelivery) -> list[ChannelEvent]:
        return []

    async def aclose(self) -> None:
        self.closed = True


class Writer(Plain):
    """Knows ``skus``; records every batch; raises ``fail`` instead when set."""

    def __init__(self, skus: Sequence[str], fail: Exception | None = None) -> None:
        super().__init__()
        self.skus = set(skus)
        self.fail = fail
        self.batches: list[list[ListingUpdate]] = []

    async def push_listings(self, updates: Sequence[ListingUpdate]) -> list[ListingResult]:
        self.batches.append(list(updates))
        if self.fail is not None:
            raise self.fail
        return [ListingResult(u, PushStatus.APPLIED if u.sku in self.skus else PushStatus.UNKNOWN_SKU) for u in updates]


def channel(
    channel_id: str,
    connector: Plain,
    capabilities: frozenset[Capability] = BOTH,
    *,
    aliases: Mapping[str, str] | None = None,
    kind: ConnectorKind = ConnectorKind.MARKETPLACE,
    enabled: bool = True,
) -> LoadedChannel:
    spec = ConnectorSpec(
        id=f"fake-{channel_id}",
        label=channel_id,
        kind=kind,
        settings_model=FakeSettings,
        capabilities=capabilities,
        factory=lambda settings: connector,
    )
    return LoadedChannel(
        id=channel_id,
        connector=spec.id,
        spec=spec,
        settings=FakeSettings(),
        profile_path=Path("/profiles/fake.yaml"),
        mappings=MappingTables(sku_aliases=MappingProxyType(dict(aliases or {}))),
        enabled=enabled,
    )


def profile(*channels: LoadedChannel, currency: str = "USD") -> LoadedProfile:
    return LoadedProfile(
        path=Path("/profiles/omnibridge.yaml"),
        version=1,
        merchant=MerchantSection(name="Trail & Co", currency=currency, timezone="UTC"),
        store_url="sqlite://",
        locations=(),
        channels=channels,
    )


async def test_each_channel_gets_one_batch_in_its_own_sku_spelling() -> None:
    amazon, clover = Writer(["amz-tent", STOVE]), Writer([TENT])
    loaded = profile(channel("amazon", amazon, aliases={"amz-tent": TENT}), channel("clover", clover))
    changes = [ListingChange(TENT, "Tent", Decimal("10.50")), ListingChange(STOVE, price=Decimal("4"))]

    report = await push_listing_changes(loaded, changes, reference="ref-1")

    assert [[(u.sku, u.title, u.price, u.currency, u.reference) for u in b] for b in amazon.batches] == [
        [("amz-tent", "Tent", Decimal("10.50"), "USD", "ref-1"), (STOVE, None, Decimal("4"), "USD", "ref-1")]
    ]
    assert len(clover.batches) == 1
    by_channel = {c.channel: [(o.master_sku, o.channel_sku, o.status) for o in c.outcomes] for c in report.channels}
    assert by_channel == {
        "amazon": [(TENT, "amz-tent", OutcomeStatus.APPLIED), (STOVE, STOVE, OutcomeStatus.APPLIED)],
        "clover": [(TENT, TENT, OutcomeStatus.APPLIED), (STOVE, STOVE, OutcomeStatus.UNKNOWN_SKU)],
    }
    assert not report.ok  # STOVE is unknown on clover: applied on amazon, but one row was not applied
    assert [amazon.closed, clover.closed] == [True, True]


async def test_capabilities_decide_what_is_sent_and_what_is_skipped() -> None:
    plain, undeclared, prices_only = Plain(), Plain(), Writer([TENT, STOVE])
    loaded = profile(
        channel("plain", plain, frozenset()),
        channel("liar", undeclared),  # declares listings.write but has no push_listings
        channel("prices", prices_only, frozenset({Capability.PRICES_WRITE})),
    )
    changes = [ListingChange(TENT, "Tent", Decimal("10")), ListingChange(STOVE, "Stove")]

    report = await push_listing_changes(loaded, changes)

    skipped = {c.channel: c.skipped for c in report.channels}
    assert skipped["plain"] == "connector 'fake-plain' declares neither listings.write nor prices.write"
    assert (
        skipped["liar"] == "connector 'fake-liar' declares listings capabilities but does not implement push_listings"
    )
    assert [(u.sku, u.title, u.price) for u in prices_only.batches[0]] == [(TENT, None, Decimal("10"))]
    [prices] = [c for c in report.channels if c.channel == "prices"]
    assert [(o.status, o.message) for o in prices.outcomes] == [
        (OutcomeStatus.APPLIED, "this channel cannot change titles"),
        (OutcomeStatus.SKIPPED, "this channel cannot change titles"),
    ]
    assert report.unplaced() == [STOVE]
    assert not report.ok


async def test_a_failing_channel_does_not_stop_the_others() -> None:
    down = Writer([TENT], fail=FatalConnectorError("HTTP 401 bad token", connector="fake", op="push_listings"))
    broken, up = Writer([TENT], fail=RuntimeError("bug")), Writer([TENT])
    loaded = profile(channel("down", down), channel("broken", broken), channel("up", up))

    report = await push_listing_changes(loaded, [ListingChange(TENT, "Tent")])

    status = {c.channel: (c.status, [o.status for o in c.outcomes]) for c in report.channels}
    assert status == {
        "down": ("failed", [OutcomeStatus.FAILED]),
        "broken": ("failed", [OutcomeStatus.FAILED]),
        "up": ("ok", [OutcomeStatus.APPLIED]),
    }
    assert "HTTP 401 bad token" in (report.channels[0].error or "")
    assert report.channels[1].error == "RuntimeError: bug"
    assert not report.ok
    assert [down.closed, broken.closed, up.closed] == [True, True, True]


async def test_bad_input_is_refused_before_any_call() -> None:
    writer = Writer([TENT])
    loaded = profile(
        channel("web", writer),
        channel("ups", Plain(), kind=ConnectorKind.CARRIER),
        channel("off", Writer([]), enabled=False),
    )
    cases: list[tuple[list[ListingChange], dict[str, Any], str]] = [
        ([], {}, "no listing changes given"),
        ([ListingChange(TENT, "A"), ListingChange(TENT, "B")], {}, "given twice"),
        ([ListingChange(TENT, price=Decimal("1.999"))], {}, "more decimals than USD allows"),
        ([ListingChange(TENT, "A")], {"channels": ["nope"]}, "no channel 'nope' (sales channels: web)"),
        ([ListingChange(TENT, "A")], {"channels": ["ups"]}, "not a sales channel"),
        ([ListingChange(TENT, "A")], {"channels": ["off"]}, "is disabled"),
    ]
    for changes, options, message in cases:
        with pytest.raises(ListingInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
            await push_listing_changes(loaded, changes, **options)
    assert writer.batches == []
    with pytest.raises(ValueError, match="nothing to change"):
        ListingChange(TENT)


async def test_a_price_in_a_currency_without_decimals() -> None:
    writer = Writer([TENT])
    with pytest.raises(ListingInputError, match="more decimals than JPY allows"):
        await push_listing_changes(
            profile(channel("jp", writer), currency="JPY"), [ListingChange(TENT, price=Decimal("1.5"))]
        )
    report = await push_listing_changes(
        profile(channel("jp", writer), currency="JPY"), [ListingChange(TENT, price=Decimal("1500"))]
    )
    assert report.ok
    assert writer.batches[0][0].currency == "JPY"


async def test_results_are_recorded_as_listings_keeping_other_columns(tmp_path: Path) -> None:
    loaded = profile(channel("web", Writer([TENT, STOVE])))
    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        store.save_listing(Listing(channel="web", sku=TENT, external_id="v-1", title="Old", shown_quantity=4))
        await push_listing_changes(
            loaded, [ListingChange(TENT, price=Decimal("9.5")), ListingChange("GHOST", "x")], store=store
        )
        tent = store.get_listing("web", TENT)
        assert tent is not None
        assert (tent.title, tent.price, tent.external_id, tent.shown_quantity) == (
            "Old",
            Money(amount=Decimal("9.5"), currency="USD"),
            "v-1",
            4,
        )
        assert tent.updated_at is not None
        assert store.get_listing("web", "GHOST") is None  # unknown on the channel: nothing recorded


async def test_both_real_channels_over_http(tmp_path: Path) -> None:
    with served_channels(tmp_path) as served:
        loaded = load_profile(served.profile)
        changes = [
            ListingChange(TENT, "Trail tent 2P", Decimal("189.50")),
            ListingChange(STOVE, price=Decimal("45")),
            ListingChange(LAMP, "Red lamp"),
        ]
        first = await push_listing_changes(loaded, changes)
        assert not first.ok  # LAMP-RED is unknown on the POS: one row was not applied
        assert [(o.master_sku, o.status) for o in first.not_applied()] == [(LAMP, OutcomeStatus.UNKNOWN_SKU)]
        assert served.shopify.listing(TENT) == ("Trail tent 2P", "189.50")
        assert served.square.listing(TENT) == ("Trail tent 2P", "189.50")
        assert served.shopify.listing(STOVE) == ("Camp stove", "45.00")
        assert served.square.listing(POS_STOVE) == ("Camp stove", "45.00")
        pos = {
            o.master_sku: (o.channel_sku, o.status) for c in first.channels if c.channel == "pos" for o in c.outcomes
        }
        assert pos == {
            TENT: (TENT, OutcomeStatus.APPLIED),
            STOVE: (POS_STOVE, OutcomeStatus.APPLIED),
            LAMP: (LAMP, OutcomeStatus.UNKNOWN_SKU),
        }

        again = await push_listing_changes(load_profile(served.profile), changes)
        statuses = {(c.channel, o.master_sku): o.status for c in again.channels for o in c.outcomes}
        assert statuses[("web", TENT)] is statuses[("pos", STOVE)] is OutcomeStatus.UNCHANGED
        assert served.square.calls["POST /v2/catalog/object"] == 2  # the second push wrote nothing


async def test_a_refusing_shop_does_not_stop_square(tmp_path: Path) -> None:
    with served_channels(tmp_path, shopify_token="shpat_another") as served:
        report = await push_listing_changes(load_profile(served.profile), [ListingChange(TENT, price=Decimal("150"))])
        web, pos = report.channels
        assert web.status == "failed"
        assert "401" in (web.error or "")
        assert [o.status for o in pos.outcomes] == [OutcomeStatus.APPLIED]
        assert served.square.listing(TENT) == ("Trail tent", "150.00")
        assert not report.ok
