"""The ``availability:`` profile section: loading, and a clear error for every mistake."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from support import WriteFile

from omnibridge.config import ProfileErrors, load_profile
from omnibridge.config.availability import AvailabilityPolicy
from omnibridge.errors import ConfigError
from omnibridge.policy import ChannelFeed, feeds_for_profile

from .profiles import sales_registry, write_profile


def load(write: WriteFile, tmp_path: Path, availability: str = "") -> object:
    write_profile(write, textwrap.dedent(availability))
    return load_profile(tmp_path / "omnibridge.yaml", registry=sales_registry(), env={})


def problems(write: WriteFile, tmp_path: Path, availability: str) -> list[ConfigError]:
    with pytest.raises(ProfileErrors) as caught:
        load(write, tmp_path, availability)
    return caught.value.errors


def test_no_section_is_the_default_policy(write: WriteFile, tmp_path: Path) -> None:
    profile = load_profile(_written(write, tmp_path, ""), registry=sales_registry(), env={})
    assert profile.availability == AvailabilityPolicy()
    assert [channel.drift for channel in profile.channels] == ["ledger", "alert", "ledger", "ledger"]


def test_the_full_section_loads(write: WriteFile, tmp_path: Path) -> None:
    section = """
    availability:
      mode: strict
      sku_groups: {clearance: ["CLR-*"]}
      safety_stock:
        - {location: wh, quantity: 2}
        - {location: wh, quantity: 0, group: clearance}
      ring_fence: {units: 2, channels: [pos]}
      low_stock: {threshold: 3, min_priority: 15}
      channels:
        web:
          locations: [wh, shop]
          buffer: 1
          share: 0.5
          cap: 20
          minimum: 2
          groups: {clearance: {buffer: 0, cap: 5}, default: {minimum: 1}}
    """
    profile = load_profile(_written(write, tmp_path, section), registry=sales_registry(), env={})
    policy = profile.availability
    assert policy.mode == "strict"
    assert policy.channels["web"].groups["clearance"].cap == 5
    assert policy.ring_fence is not None
    assert policy.ring_fence.channels == ["pos"]


def test_feeds_for_profile(write: WriteFile, tmp_path: Path) -> None:
    path = _written(write, tmp_path, "")
    profile = load_profile(path, registry=sales_registry(), env={})
    # web: the locations its location_map points at; pos: every active location; wms is not a sales channel and
    # spare is disabled.
    assert feeds_for_profile(profile) == [
        ChannelFeed("web", 10, frozenset({"wh"})),
        ChannelFeed("pos", 20, frozenset({"wh", "shop"})),
    ]
    path = _written(write, tmp_path, "availability:\n  channels:\n    web: {locations: [shop, old]}\n")
    profile = load_profile(path, registry=sales_registry(), env={})
    assert feeds_for_profile(profile)[0] == ChannelFeed("web", 10, frozenset({"shop"}))


def test_unknown_key(write: WriteFile, tmp_path: Path) -> None:
    [error] = problems(write, tmp_path, "availability:\n  mode: strict\n  channels:\n    web: {bufer: 1}\n")
    assert (error.line, error.field) == (20, "availability.channels.web.bufer")
    assert error.message == "unknown key 'bufer'; did you mean 'buffer'?"
    assert error.expected == "one of: locations, buffer, share, cap, minimum, groups"


def test_unknown_mode(write: WriteFile, tmp_path: Path) -> None:
    [error] = problems(write, tmp_path, "availability:\n  mode: strictest\n")
    assert error.render().endswith(
        "availability.mode: invalid value 'strictest' (expected 'shared' (every channel sees the pool after its "
        "buffer) or 'strict' (channels split the pool))"
    )


def test_unknown_channel_and_location(write: WriteFile, tmp_path: Path) -> None:
    section = """
    availability:
      safety_stock: [{location: wh2, quantity: 1}]
      ring_fence: {units: 1, channels: [post]}
      channels:
        webb: {buffer: 1}
        pos: {locations: [shop, nowhere]}
    """
    errors = {error.field: error for error in problems(write, tmp_path, section)}
    path = str(tmp_path / "omnibridge.yaml")
    assert errors["availability.channels.webb"].render() == (
        f"{path}:22: availability.channels.webb: unknown channel 'webb'; did you mean 'web'? "
        "(expected a channel id from the profile: pos, spare, web, wms)"
    )
    assert errors["availability.ring_fence.channels[0]"].message == "unknown channel 'post'; did you mean 'pos'?"
    assert errors["availability.safety_stock[0].location"].expected == ("a location id from the profile: old, shop, wh")
    assert errors["availability.channels.pos.locations[1]"].message == "unknown location 'nowhere'"
    assert len(errors) == 4


def test_unknown_group(write: WriteFile, tmp_path: Path) -> None:
    section = """
    availability:
      sku_groups: {clearance: ["CLR-*"]}
      safety_stock: [{location: wh, quantity: 1, group: clearence}]
      channels:
        web: {groups: {bulk: {cap: 1}}}
    """
    errors = {error.field: error for error in problems(write, tmp_path, section)}
    assert (
        errors["availability.safety_stock[0].group"].message
        == "unknown SKU group 'clearence'; did you mean 'clearance'?"
    )
    assert errors["availability.channels.web.groups.bulk"].expected == (
        "a group from 'sku_groups', or default: clearance, default"
    )


def test_default_cannot_be_defined_as_a_group(write: WriteFile, tmp_path: Path) -> None:
    [error] = problems(write, tmp_path, "availability:\n  sku_groups: {default: ['A-*']}\n")
    assert error.field == "availability.sku_groups.default"
    assert "'default' is the group of the SKUs no glob matches" in error.message


def test_two_safety_stocks_for_one_location(write: WriteFile, tmp_path: Path) -> None:
    section = "availability:\n  safety_stock:\n    - {location: wh, quantity: 1}\n    - {location: wh, quantity: 2}\n"
    [error] = problems(write, tmp_path, section)
    assert (error.line, error.field) == (20, "availability.safety_stock[1]")
    assert error.message == "a second safety stock for location 'wh': availability.safety_stock[0] already sets it"


@pytest.mark.parametrize("share", ["0", "1.5", "-0.2"])
def test_share_out_of_range(write: WriteFile, tmp_path: Path, share: str) -> None:
    [error] = problems(write, tmp_path, f"availability:\n  channels:\n    web: {{share: {share}}}\n")
    assert error.field == "availability.channels.web.share"
    assert error.message == f"invalid value {share}"
    assert error.expected == "a fraction greater than 0 and at most 1, such as 0.5"


def test_negative_numbers_and_bad_types(write: WriteFile, tmp_path: Path) -> None:
    section = """
    availability:
      ring_fence: {units: 0, channels: []}
      low_stock: {threshold: 3}
      channels:
        web: {buffer: -1, cap: lots}
    """
    errors = {error.field: error for error in problems(write, tmp_path, section)}
    assert errors["availability.ring_fence.units"].expected == (
        "a whole number of units >= 1: how many of the last units are fenced"
    )
    assert errors["availability.ring_fence.channels"].expected == (
        "a list of at least one channel id: the channels that may show the fenced units"
    )
    assert errors["availability.low_stock.min_priority"].message == "required key is missing"
    assert errors["availability.channels.web.buffer"].message == "invalid value -1"
    assert errors["availability.channels.web.cap"].expected == "an integer"


def test_references_are_checked_when_another_part_of_the_profile_is_wrong(write: WriteFile, tmp_path: Path) -> None:
    write_profile(write, "availability:\n  channels:\n    webb: {buffer: 1}\n")
    path = tmp_path / "omnibridge.yaml"
    path.write_text(path.read_text().replace("currency: USD", "currency: USX"))
    with pytest.raises(ProfileErrors) as caught:
        load_profile(path, registry=sales_registry(), env={})
    assert {error.field for error in caught.value.errors} == {"merchant.currency", "availability.channels.webb"}


def _written(write: WriteFile, tmp_path: Path, availability: str) -> Path:
    write_profile(write, textwrap.dedent(availability))
    return tmp_path / "omnibridge.yaml"
