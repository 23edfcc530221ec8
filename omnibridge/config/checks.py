"""Checks across entries of the merchant profile: unique ids, pickup hours only where pickup is offered, and the
channels, locations and SKU groups that the ``availability:`` section names."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping, Sequence

from omnibridge.config.availability import DEFAULT_GROUP, AvailabilityPolicy
from omnibridge.config.context import LoadContext
from omnibridge.config.located import FieldPath, format_path
from omnibridge.config.schema import LocationSection
from omnibridge.config.yaml_source import YamlFile
from omnibridge.models import LocationCapability

_PICKUP = {LocationCapability.PICKUP, LocationCapability.CURBSIDE}


def check_unique_ids(ctx: LoadContext, profile: YamlFile, section: str, entries: object) -> None:
    """Record a problem for every entry of the ``section`` list whose ``id`` an earlier entry already uses.

    Works on the raw entries, so a duplicate is reported even when an entry is invalid for another reason.
    """
    if not isinstance(entries, list):
        return
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str | int):
            continue
        entry_id = str(entry["id"])
        first = seen.setdefault(entry_id, index)
        if first != index:
            where = (section, first, "id")
            ctx.problem(
                profile,
                (section, index, "id"),
                f"duplicate id '{entry_id}': already used by {format_path(where)} on line "
                f"{profile.lines.line_of(where)}",
                f"a unique id for each entry of '{section}'",
            )


def check_pickup_hours(ctx: LoadContext, profile: YamlFile, locations: Sequence[tuple[int, LocationSection]]) -> None:
    """Pickup hours only make sense where customers can collect: require the 'pickup' or 'curbside' capability."""
    for index, location in locations:
        if location.pickup_hours and not _PICKUP.intersection(location.capabilities):
            ctx.problem(
                profile,
                ("locations", index, "pickup_hours"),
                f"pickup hours are set but location '{location.id}' offers neither pickup nor curbside",
                "'pickup' or 'curbside' in capabilities, or no pickup_hours",
            )


def check_availability(
    ctx: LoadContext,
    profile: YamlFile,
    policy: AvailabilityPolicy,
    location_ids: Collection[str],
    channel_ids: Collection[str],
) -> None:
    """Every channel, location and SKU group that ``availability:`` names must exist in the profile, and a location
    has at most one safety stock entry per group (or for every SKU)."""
    choices: dict[str, tuple[Collection[str], str]] = {
        "channel": (channel_ids, "a channel id from the profile"),
        "location": (location_ids, "a location id from the profile"),
        "SKU group": ([DEFAULT_GROUP, *policy.sku_groups], "a group from 'sku_groups', or default"),
    }

    def known(path: FieldPath, kind: str, value: str) -> None:
        valid, expected = choices[kind]
        if value in valid:
            return
        options = sorted(valid)
        close = difflib.get_close_matches(value, options, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        listed = ", ".join(options) if options else "(the profile has none)"
        ctx.problem(profile, ("availability", *path), f"unknown {kind} '{value}'{hint}", f"{expected}: {listed}")

    for channel_id, rules in policy.channels.items():
        known(("channels", channel_id), "channel", channel_id)
        for index, location_id in enumerate(rules.locations or []):
            known(("channels", channel_id, "locations", index), "location", location_id)
        for group in rules.groups:
            known(("channels", channel_id, "groups", group), "SKU group", group)
    seen: dict[tuple[str, str | None], int] = {}
    for index, entry in enumerate(policy.safety_stock):
        known(("safety_stock", index, "location"), "location", entry.location)
        if entry.group is not None:
            known(("safety_stock", index, "group"), "SKU group", entry.group)
        first = seen.setdefault((entry.location, entry.group), index)
        if first != index:
            ctx.problem(
                profile,
                ("availability", "safety_stock", index),
                f"a second safety stock for location '{entry.location}'"
                + (f" and group '{entry.group}'" if entry.group else "")
                + f": availability.safety_stock[{first}] already sets it",
                "one entry per location (and group)",
            )
    if policy.ring_fence is not None:
        for index, channel_id in enumerate(policy.ring_fence.channels):
            known(("ring_fence", "channels", index), "channel", channel_id)
        for index, location_id in enumerate(policy.ring_fence.locations or []):
            known(("ring_fence", "locations", index), "location", location_id)
