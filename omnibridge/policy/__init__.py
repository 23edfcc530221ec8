"""Availability policy: what quantity each sales channel should show for a SKU at each location.

Public surface::

    AvailabilityPlanner(policy, feeds)                       # policy: omnibridge.config.availability.AvailabilityPolicy
    planner.quantities(sku, available) -> {(channel, location_id): quantity}
    planner.explain(sku, available) -> [Allocation]          # the same quantities, with the rule and a sentence
    ChannelFeed(channel, priority, locations)                # which profile locations a channel shows
    feeds_for_profile(profile) -> [ChannelFeed]              # the feeds of a profile's enabled sales channels

Pure: no I/O, no clock. The rules are described in ``docs/availability.md``.
"""

from omnibridge.policy.explain import Allocation
from omnibridge.policy.feeds import ChannelFeed, feeds_for_profile
from omnibridge.policy.planner import AvailabilityPlanner

__all__ = ["Allocation", "AvailabilityPlanner", "ChannelFeed", "feeds_for_profile"]
