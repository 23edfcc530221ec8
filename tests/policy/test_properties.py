"""Invariants of the planner over random policies, feeds and stock (hypothesis)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from omnibridge.config.availability import AvailabilityPolicy
from omnibridge.policy import AvailabilityPlanner, ChannelFeed

CHANNELS = ["a", "b", "c", "d"]
LOCATIONS = ["x", "y", "z"]
SKUS = ["S-1", "G-1"]  # G-* is group "g" when the policy defines it

subsets = st.lists(st.sampled_from(LOCATIONS), unique=True)
rule_values: dict[str, st.SearchStrategy[Any]] = {
    "buffer": st.integers(0, 5),
    "share": st.none() | st.sampled_from([0.1, 0.25, 0.3, 0.5, 0.75, 1.0]),
    "cap": st.none() | st.integers(0, 20),
    "minimum": st.integers(0, 5),
}


@st.composite
def rules(draw: st.DrawFn, *, grouped: bool) -> dict[str, Any]:
    chosen = draw(st.lists(st.sampled_from(list(rule_values)), unique=True))
    found = {key: draw(rule_values[key]) for key in chosen}
    if grouped and draw(st.booleans()):
        found["groups"] = {"g": draw(rules(grouped=False))}
    if grouped and draw(st.booleans()):
        found["locations"] = draw(st.lists(st.sampled_from(LOCATIONS), unique=True, min_size=1))
    return found


@st.composite
def policies(draw: st.DrawFn, *, low_stock: bool = True) -> dict[str, Any]:
    section: dict[str, Any] = {"mode": draw(st.sampled_from(["shared", "strict"]))}
    grouped = draw(st.booleans())
    if grouped:
        section["sku_groups"] = {"g": ["G-*"]}
    safety = []
    for location in draw(st.lists(st.sampled_from(LOCATIONS), unique=True)):
        safety.append({"location": location, "quantity": draw(st.integers(0, 6))})
        if grouped and draw(st.booleans()):
            safety.append({"location": location, "quantity": draw(st.integers(0, 6)), "group": "g"})
    section["safety_stock"] = safety
    if draw(st.booleans()):
        fenced = draw(st.lists(st.sampled_from(CHANNELS), unique=True, min_size=1))
        section["ring_fence"] = {"units": draw(st.integers(1, 5)), "channels": fenced}
    if low_stock and draw(st.booleans()):
        section["low_stock"] = {"threshold": draw(st.integers(1, 8)), "min_priority": draw(st.integers(0, 30))}
    configured = draw(st.lists(st.sampled_from(CHANNELS), unique=True))
    section["channels"] = {channel: draw(rules(grouped=grouped)) for channel in configured}
    return section


feeds = st.lists(
    st.builds(
        ChannelFeed,
        channel=st.sampled_from(CHANNELS),
        priority=st.integers(0, 30),
        locations=st.frozensets(st.sampled_from(LOCATIONS)),
    ),
    min_size=1,
    max_size=4,
    unique_by=lambda feed: feed.channel,
)
stock = st.dictionaries(st.sampled_from(LOCATIONS), st.integers(-5, 60))


def safety_for(section: dict[str, Any], location: str, sku: str) -> int:
    group = "g" if "sku_groups" in section and sku.startswith("G-") else "default"
    entries = [e for e in section["safety_stock"] if e["location"] == location]
    specific = [e["quantity"] for e in entries if e.get("group") == group]
    general = [e["quantity"] for e in entries if e.get("group") is None]
    return int((specific or general or [0])[0])


def channel_rule(section: dict[str, Any], channel: str, sku: str, key: str, default: Any) -> Any:
    configured = section["channels"].get(channel, {})
    value = configured.get(key, default)
    grouped = "sku_groups" in section and sku.startswith("G-")
    if grouped and key in configured.get("groups", {}).get("g", {}):
        value = configured["groups"]["g"][key]
    return default if value is None and key in ("buffer", "minimum") else value


@given(section=policies(), feeds=feeds, available=stock, sku=st.sampled_from(SKUS))
def test_quantities_respect_the_invariants(
    section: dict[str, Any], feeds: list[ChannelFeed], available: dict[str, int], sku: str
) -> None:
    planner = AvailabilityPlanner(AvailabilityPolicy.model_validate(section), feeds)
    quantities = planner.quantities(sku, available)
    assert set(quantities) == {(feed.channel, location) for feed in feeds for location in feed.locations}
    assert all(quantity >= 0 for quantity in quantities.values())
    for (channel, location), quantity in quantities.items():
        pool = available.get(location, 0) - safety_for(section, location, sku)
        cap = channel_rule(section, channel, sku, "cap", None)
        assert cap is None or quantity <= cap
        if section["mode"] == "shared":
            assert quantity <= max(0, pool - channel_rule(section, channel, sku, "buffer", 0))
    if section["mode"] == "strict":
        for location in LOCATIONS:
            pool = available.get(location, 0) - safety_for(section, location, sku)
            shown = sum(quantity for (_, where), quantity in quantities.items() if where == location)
            assert shown <= max(0, pool)


@given(section=policies(), feeds=feeds, available=stock, sku=st.sampled_from(SKUS))
def test_explain_gives_the_same_quantities(
    section: dict[str, Any], feeds: list[ChannelFeed], available: dict[str, int], sku: str
) -> None:
    planner = AvailabilityPlanner(AvailabilityPolicy.model_validate(section), feeds)
    allocations = planner.explain(sku, available)
    assert {(a.channel, a.location_id): a.quantity for a in allocations} == planner.quantities(sku, available)
    assert len(allocations) == len(planner.quantities(sku, available))
    assert all(a.rule and a.explanation and "\n" not in a.explanation for a in allocations)


@given(
    section=policies(low_stock=False),
    feeds=feeds,
    available=stock,
    sku=st.sampled_from(SKUS),
    location=st.sampled_from(LOCATIONS),
    more=st.integers(1, 30),
)
def test_more_stock_never_shows_less(
    section: dict[str, Any], feeds: list[ChannelFeed], available: dict[str, int], sku: str, location: str, more: int
) -> None:
    planner = AvailabilityPlanner(AvailabilityPolicy.model_validate(section), feeds)
    before = planner.quantities(sku, available)
    after = planner.quantities(sku, {**available, location: available.get(location, 0) + more})
    assert all(after[key] >= quantity for key, quantity in before.items())


@given(feeds=feeds, available=stock, sku=st.sampled_from(SKUS))
def test_default_policy_shows_the_ledger_available(
    feeds: list[ChannelFeed], available: dict[str, int], sku: str
) -> None:
    quantities = AvailabilityPlanner(AvailabilityPolicy(), feeds).quantities(sku, available)
    assert quantities == {
        (feed.channel, location): max(0, available.get(location, 0)) for feed in feeds for location in feed.locations
    }
