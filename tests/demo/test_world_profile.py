"""The demo's profile: the full demo has every built-in connector as a channel; the two-channel world other suites
build on is unchanged."""

from __future__ import annotations

from pathlib import Path

from connectors.amazon.settings import AmazonSettings
from omnibridge.config import load_profile
from omnibridge.demo.catalog import ALL_LOCATIONS, DEMO_LOCATIONS, golden_opening_stock, opening_stock
from omnibridge.demo.vendors import VendorUrls
from omnibridge.demo.world import DemoSettings, write_profile
from omnibridge.sdk.metadata import ConnectorKind

NOWHERE = "http://127.0.0.1:9"


def test_full_profile_has_every_built_in_connector(tmp_path: Path) -> None:
    urls = VendorUrls(NOWHERE, NOWHERE, NOWHERE, NOWHERE)
    profile = load_profile(
        write_profile(
            tmp_path,
            shopify_url=NOWHERE,
            square_url=NOWHERE,
            receiver_url=NOWHERE,
            settings=DemoSettings(),
            vendors=urls,
        )
    )
    channels = {channel.id: channel for channel in profile.channels}
    assert {cid: channels[cid].connector for cid in channels} == {
        "web": "shopify",
        "pos": "square",
        "amazon": "amazon",
        "clover": "clover",
        "erp": "files",
        "parcels": "easypost",
    }
    assert channels["erp"].spec.kind is ConnectorKind.ERP_WMS
    assert channels["parcels"].spec.kind is ConnectorKind.CARRIER
    assert channels["web"].priority < channels["amazon"].priority < channels["pos"].priority
    assert channels["amazon"].mappings.location_map == {"DEFAULT": "den-wh"}
    assert channels["clover"].mappings.location_map == {"ALPINEGOLDEN1": "golden"}
    assert channels["erp"].mappings.location_map == {"DEN": "den-wh"}
    amazon = channels["amazon"].settings
    assert isinstance(amazon, AmazonSettings)
    assert amazon.feed_threshold == 60  # the first sync sends every SKU in one feed
    assert (tmp_path / "erp" / "inbox").is_dir()
    assert {location.id for location in profile.locations} == {location.id for location in ALL_LOCATIONS}
    warehouse = next(location for location in profile.locations if location.id == "den-wh")
    assert warehouse.address is not None
    assert warehouse.address.postal_code  # carriers need a full address to ship from


def test_two_channel_profile_is_unchanged(tmp_path: Path) -> None:
    profile = load_profile(
        write_profile(tmp_path, shopify_url=NOWHERE, square_url=NOWHERE, receiver_url=NOWHERE, settings=DemoSettings())
    )
    assert [channel.id for channel in profile.channels] == ["web", "pos"]
    assert [location.id for location in profile.locations] == [location.id for location in DEMO_LOCATIONS]
    assert not set(golden_opening_stock()) & set(opening_stock())
