"""Checks across entries of the merchant profile: unique ids, and pickup hours only where pickup is offered."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from omnibridge.config.context import LoadContext
from omnibridge.config.located import format_path
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
