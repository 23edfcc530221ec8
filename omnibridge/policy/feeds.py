"""Which locations feed which sales channel: the input of the planner, built from a profile."""

from __future__ import annotations

from dataclasses import dataclass

from omnibridge.config import LoadedProfile
from omnibridge.sdk.metadata import ConnectorKind

SALES_KINDS = frozenset({ConnectorKind.STOREFRONT, ConnectorKind.MARKETPLACE, ConnectorKind.POS})
"""The connector kinds that sell stock (the ones the planner gives a quantity to)."""


@dataclass(frozen=True, slots=True)
class ChannelFeed:
    """One sales channel as the planner sees it: its id, its priority (higher wins when channels compete) and the
    profile location ids whose stock it shows."""

    channel: str
    priority: int
    locations: frozenset[str]


def feeds_for_profile(profile: LoadedProfile) -> list[ChannelFeed]:
    """A feed for every enabled sales channel of ``profile``, in the profile's order.

    A channel's locations are, in order of preference: ``availability.channels.<id>.locations``; else every profile
    location its mappings' ``location_map`` points at; else every location of the profile. Inactive locations are
    left out in every case (``active: false`` takes a location out of allocation).
    """
    active = [location.id for location in profile.locations if location.active]
    feeds: list[ChannelFeed] = []
    for channel in profile.channels:
        if not channel.enabled or channel.spec.kind not in SALES_KINDS:
            continue
        rules = profile.availability.channels.get(channel.id)
        if rules is not None and rules.locations is not None:
            wanted = set(rules.locations)
        else:
            wanted = set(channel.mappings.location_map.values()) or set(active)
        locations = frozenset(location_id for location_id in active if location_id in wanted)
        feeds.append(ChannelFeed(channel.id, channel.priority, locations))
    return feeds
