"""Each availability rule on its own, in both modes, and what ``explain`` says about it."""

from __future__ import annotations

from typing import Any

import pytest

from omnibridge.config.availability import AvailabilityPolicy
from omnibridge.policy import Allocation, AvailabilityPlanner, ChannelFeed

BOTH = frozenset({"wh", "shop"})
WEB = ChannelFeed("web", 10, BOTH)
POS = ChannelFeed("pos", 20, BOTH)
AMAZON = ChannelFeed("amazon", 5, BOTH)


def planner(feeds: list[ChannelFeed] | None = None, **section: Any) -> AvailabilityPlanner:
    return AvailabilityPlanner(AvailabilityPolicy.model_validate(section), feeds or [WEB, POS])


def at(plan: AvailabilityPlanner, location: str, available: int, sku: str = "SKU-1") -> dict[str, int]:
    """Each channel's quantity at ``location`` when only it has stock."""
    quantities = plan.quantities(sku, {location: available})
    return {channel: quantity for (channel, where), quantity in quantities.items() if where == location}


def why(plan: AvailabilityPlanner, channel: str, location: str, available: int, sku: str = "SKU-1") -> Allocation:
    allocations = plan.explain(sku, {location: available})
    assert {(a.channel, a.location_id): a.quantity for a in allocations} == plan.quantities(sku, {location: available})
    return next(a for a in allocations if (a.channel, a.location_id) == (channel, location))


# -- the default and the shared pool -------------------------------------------------------------------------------


def test_default_policy_shows_the_ledger_available_everywhere() -> None:
    plan = planner()
    assert plan.quantities("SKU-1", {"wh": 7, "shop": -2}) == {
        ("web", "wh"): 7,
        ("web", "shop"): 0,
        ("pos", "wh"): 7,
        ("pos", "shop"): 0,
    }
    assert plan.quantities("SKU-1", {}) == dict.fromkeys(
        [("web", "wh"), ("web", "shop"), ("pos", "wh"), ("pos", "shop")], 0
    )
    allocation = why(plan, "web", "wh", 7)
    assert (allocation.rule, allocation.explanation) == ("pool", "available 7 at wh")


def test_safety_stock_per_location_and_per_group() -> None:
    plan = planner(
        sku_groups={"clearance": ["CLR-*"]},
        safety_stock=[{"location": "wh", "quantity": 2}, {"location": "wh", "quantity": 5, "group": "clearance"}],
    )
    assert at(plan, "wh", 7) == {"web": 5, "pos": 5}
    assert at(plan, "wh", 7, sku="CLR-9") == {"web": 2, "pos": 2}
    assert at(plan, "shop", 7) == {"web": 7, "pos": 7}
    allocation = why(plan, "web", "wh", 7)
    assert (allocation.rule, allocation.explanation) == ("safety_stock", "available 7 at wh - safety 2 = 5")


def test_buffer_is_held_back_from_one_channel() -> None:
    plan = planner(channels={"web": {"buffer": 3}})
    assert at(plan, "wh", 7) == {"web": 4, "pos": 7}
    assert at(plan, "wh", 2) == {"web": 0, "pos": 2}
    allocation = why(plan, "web", "wh", 7)
    assert (allocation.rule, allocation.explanation) == ("buffer", "available 7 at wh - buffer 3 = 4")


def test_share_is_a_fraction_rounded_down_exactly() -> None:
    plan = planner(channels={"web": {"share": 0.29}})
    assert at(plan, "wh", 100) == {"web": 29, "pos": 100}  # 0.29 * 100 is 28.999... in floating point
    assert at(plan, "wh", 3) == {"web": 0, "pos": 3}
    assert why(plan, "web", "wh", 100).explanation == "available 100 at wh, share 0.29 of it = 29"


def test_cap_and_minimum() -> None:
    plan = planner(channels={"web": {"cap": 5, "minimum": 3}})
    assert at(plan, "wh", 9)["web"] == 5
    assert at(plan, "wh", 3)["web"] == 3
    assert at(plan, "wh", 2)["web"] == 0
    assert why(plan, "web", "wh", 9).rule == "cap"
    allocation = why(plan, "web", "wh", 2)
    assert (allocation.rule, allocation.explanation) == ("minimum", "available 2 at wh, below the minimum 3: shows 0")


def test_rules_apply_in_order_buffer_share_cap_minimum() -> None:
    plan = planner(safety_stock=[{"location": "shop", "quantity": 2}], channels={"web": {"buffer": 1, "cap": 3}})
    allocation = why(plan, "web", "shop", 7)
    assert allocation.quantity == 3
    assert allocation.explanation == "available 7 at shop - safety 2 - buffer 1 = 4, capped at 3"


def test_shared_ring_fence_hides_the_last_units_from_other_channels() -> None:
    plan = planner(ring_fence={"units": 2, "channels": ["pos"]})
    assert at(plan, "shop", 5) == {"web": 3, "pos": 5}
    assert at(plan, "shop", 2) == {"web": 0, "pos": 2}
    assert why(plan, "web", "shop", 5).rule == "ring_fence"


def test_ring_fence_only_where_a_fenced_channel_shows_the_location() -> None:
    feeds = [ChannelFeed("web", 10, BOTH), ChannelFeed("pos", 20, frozenset({"shop"}))]
    plan = planner(feeds, ring_fence={"units": 2, "channels": ["pos"]})
    assert at(plan, "wh", 5) == {"web": 5}
    plan = planner(feeds, ring_fence={"units": 2, "channels": ["pos"], "locations": ["wh"]})
    assert at(plan, "shop", 5) == {"web": 5, "pos": 5}


@pytest.mark.parametrize("mode", ["shared", "strict"])
def test_low_stock_zeroes_lower_priority_channels(mode: str) -> None:
    plan = planner(mode=mode, low_stock={"threshold": 3, "min_priority": 15})
    assert at(plan, "shop", 2) == {"web": 0, "pos": 2}
    assert at(plan, "shop", 3)["web"] > 0
    allocation = why(plan, "web", "shop", 2)
    assert allocation.rule == "low_stock"
    assert allocation.explanation == (
        "available 2 at shop is below the low-stock threshold 3 and web's priority 10 is below 15: shows 0"
    )


@pytest.mark.parametrize("mode", ["shared", "strict"])
def test_locations_restrict_what_feeds_a_channel(mode: str) -> None:
    plan = planner(mode=mode, channels={"web": {"locations": ["wh"]}})
    quantities = plan.quantities("SKU-1", {"wh": 4, "shop": 4})
    assert quantities[("web", "shop")] == 0
    assert quantities[("pos", "shop")] == 4
    assert quantities[("web", "wh")] > 0
    assert why(plan, "web", "shop", 4).rule == "not_fed"


def test_group_overrides_replace_only_the_keys_they_set() -> None:
    plan = planner(
        sku_groups={"clearance": ["CLR-*", "OLD-?"], "bulk": ["CLR-BULK-*"]},
        channels={"web": {"buffer": 2, "cap": 4, "groups": {"clearance": {"buffer": 0}, "bulk": {"cap": None}}}},
    )
    assert plan.group("CLR-BULK-1") == "clearance"  # the first group that matches wins
    assert plan.group("OLD-1") == "clearance"
    assert plan.group("OLD-12") == "default"
    assert at(plan, "wh", 10, sku="SKU-1")["web"] == 4
    assert at(plan, "wh", 3, sku="CLR-1")["web"] == 3  # buffer 0, cap 4 kept
    assert at(plan, "wh", 10, sku="CLR-1")["web"] == 4


def test_a_group_override_can_remove_a_cap() -> None:
    plan = planner(sku_groups={"bulk": ["B-*"]}, channels={"web": {"cap": 4, "groups": {"bulk": {"cap": None}}}})
    assert at(plan, "wh", 10, sku="B-1")["web"] == 10
    assert at(plan, "wh", 10, sku="A-1")["web"] == 4


# -- strict allocation ---------------------------------------------------------------------------------------------


def test_strict_splits_equally_and_gives_remainders_by_priority_then_id() -> None:
    feeds = [WEB, POS, ChannelFeed("amazon", 10, BOTH)]
    plan = planner(feeds, mode="strict")
    assert at(plan, "wh", 9) == {"pos": 3, "amazon": 3, "web": 3}
    assert at(plan, "wh", 10) == {"pos": 4, "amazon": 3, "web": 3}
    assert at(plan, "wh", 11) == {"pos": 4, "amazon": 4, "web": 3}
    assert at(plan, "wh", 1) == {"pos": 1, "amazon": 0, "web": 0}
    allocation = why(plan, "web", "wh", 10)
    assert allocation.rule == "split"
    assert allocation.explanation == "available 10 at wh; 10 split by weight (pos 33%, amazon 33%, web 33%): 3"


def test_strict_shares_are_weights_and_channels_without_one_split_the_rest() -> None:
    plan = planner([WEB, POS, AMAZON], mode="strict", channels={"web": {"share": 0.6}})
    assert at(plan, "wh", 10) == {"pos": 2, "web": 6, "amazon": 2}
    plan = planner([WEB, POS], mode="strict", channels={"web": {"share": 0.5}, "pos": {"share": 0.25}})
    assert at(plan, "wh", 9) == {"pos": 3, "web": 6}  # weights relative to each other: 2 to 1


def test_strict_shares_reaching_one_leave_the_others_only_what_caps_free() -> None:
    plan = planner(mode="strict", channels={"web": {"share": 1, "cap": 4}})
    assert at(plan, "wh", 10) == {"web": 4, "pos": 6}


def test_strict_sum_never_exceeds_the_pool() -> None:
    plan = planner([WEB, POS, AMAZON], mode="strict", safety_stock=[{"location": "wh", "quantity": 2}])
    shown = at(plan, "wh", 7)
    assert sum(shown.values()) == 5


def test_strict_ring_fence_goes_only_to_fenced_channels() -> None:
    plan = planner(mode="strict", ring_fence={"units": 2, "channels": ["pos"]})
    assert at(plan, "wh", 2) == {"web": 0, "pos": 2}
    assert at(plan, "wh", 6) == {"web": 2, "pos": 4}
    allocation = why(plan, "pos", "wh", 6)
    assert allocation.explanation == (
        "available 6 at wh; the last 2 kept for pos; 4 split by weight (pos 50%, web 50%): 2 + 2 ring-fenced = 4"
    )
    assert why(plan, "pos", "wh", 2).rule == "ring_fence"


def test_strict_cap_leaves_the_rest_to_the_others() -> None:
    plan = planner(mode="strict", channels={"pos": {"cap": 1}})
    assert at(plan, "wh", 10) == {"web": 9, "pos": 1}
    assert why(plan, "pos", "wh", 10).rule == "cap"


def test_strict_buffer_limits_the_channel_without_giving_its_units_away() -> None:
    plan = planner(mode="strict", channels={"web": {"buffer": 4}})
    assert at(plan, "wh", 6) == {"web": 2, "pos": 3}
    allocation = why(plan, "web", "wh", 6)
    assert allocation.rule == "buffer"
    assert allocation.explanation.endswith(": 3, held to 6 - buffer 4 = 2")


def test_strict_minimum() -> None:
    plan = planner(mode="strict", channels={"web": {"minimum": 3}})
    assert at(plan, "wh", 4) == {"web": 0, "pos": 2}
    assert at(plan, "wh", 6) == {"web": 3, "pos": 3}


def test_nothing_available_explains_itself() -> None:
    for mode in ("shared", "strict"):
        plan = planner(mode=mode, safety_stock=[{"location": "wh", "quantity": 2}])
        allocation = why(plan, "web", "wh", 1)
        assert allocation.quantity == 0
        assert allocation.rule == "safety_stock"
        assert allocation.explanation.startswith("available 1 at wh - safety 2 = -1")


def test_explain_lists_channels_in_feed_order_then_locations() -> None:
    plan = planner([POS, WEB])
    assert [(a.channel, a.location_id) for a in plan.explain("SKU-1", {})] == [
        ("pos", "shop"),
        ("pos", "wh"),
        ("web", "shop"),
        ("web", "wh"),
    ]
