"""``drift: channel`` only where the channel's availability passes the ledger's number through unchanged.

A channel that wins a drift decision has the change it made recorded in the ledger as is (see
:mod:`omnibridge.sync.drift`). That is only right when the channel's number is the ledger's available at that
location, in the same units. Every rule of the ``availability:`` section that can change the number a channel
shows breaks that: a buffer, a share below 1, a cap, a minimum, a safety stock at a location it shows, a ring
fence it is outside of, a low-stock rule that can set it to 0, or a strict split with another channel at the same
location. A profile that combines such a rule with ``drift: channel`` is refused, naming the channel's ``drift``
line and every rule in the way (with its line).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from omnibridge.config.availability import AvailabilityPolicy, ChannelRules, RuleOverride
from omnibridge.config.context import LoadContext
from omnibridge.config.loaded import LoadedChannel
from omnibridge.config.located import FieldPath, format_path
from omnibridge.config.schema import ChannelSection
from omnibridge.config.yaml_source import YamlFile
from omnibridge.sdk.metadata import ConnectorKind

_SALES_KINDS = frozenset({ConnectorKind.STOREFRONT, ConnectorKind.MARKETPLACE, ConnectorKind.POS})


def check_drift_pass_through(
    ctx: LoadContext,
    profile: YamlFile,
    sections: Mapping[int, ChannelSection],
    channels: Sequence[LoadedChannel],
    policy: AvailabilityPolicy,
    active_locations: Collection[str],
) -> None:
    """Record a problem at ``channels[i].drift`` for every sales channel with ``drift: channel`` whose number the
    availability ``policy`` can change (see the module docstring). Channels that did not load are skipped: their
    own problems are already recorded."""
    loaded = {channel.id: channel for channel in channels}
    for index, section in sections.items():
        channel = loaded.get(section.id)
        if section.drift != "channel" or channel is None or channel.spec.kind not in _SALES_KINDS:
            continue
        changes = _what_changes(channel, policy, channels, active_locations)
        if not changes:
            continue
        listed = "; ".join(
            f"{what} ({format_path(('availability', *path))}, line {profile.lines.line_of(('availability', *path))})"
            for path, what in changes
        )
        ctx.problem(
            profile,
            ("channels", index, "drift"),
            f"channel '{section.id}' may win drift only if it shows the ledger's available unchanged, but its "
            f"availability changes it: {listed}",
            f"drift: ledger or drift: alert, or none of these rules for channel '{section.id}'",
        )


def shown_locations(channel: LoadedChannel, policy: AvailabilityPolicy, active: Collection[str]) -> frozenset[str]:
    """The active locations whose stock ``channel`` shows: as :func:`omnibridge.policy.feeds_for_profile` computes
    them (``availability.channels.<id>.locations``, else its ``location_map`` targets, else every location)."""
    rules = policy.channels.get(channel.id)
    if rules is not None and rules.locations is not None:
        wanted = set(rules.locations)
    else:
        wanted = set(channel.mappings.location_map.values()) or set(active)
    return frozenset(location for location in active if location in wanted)


def _what_changes(
    channel: LoadedChannel,
    policy: AvailabilityPolicy,
    channels: Sequence[LoadedChannel],
    active: Collection[str],
) -> list[tuple[FieldPath, str]]:
    """Each rule that can change what ``channel`` shows: (its path under ``availability``, what it is)."""
    found: list[tuple[FieldPath, str]] = []
    rules = policy.channels.get(channel.id)
    if rules is not None:
        found += _rule_changes(("channels", channel.id), rules)
        for group, override in rules.groups.items():
            found += _rule_changes(("channels", channel.id, "groups", group), override)
    here = shown_locations(channel, policy, active)
    for index, entry in enumerate(policy.safety_stock):
        if entry.quantity > 0 and entry.location in here:
            found.append((("safety_stock", index), f"safety stock {entry.quantity} at '{entry.location}'"))
    others = {
        other.id: shown_locations(other, policy, active)
        for other in channels
        if other.id != channel.id and other.enabled and other.spec.kind in _SALES_KINDS
    }
    fence = policy.ring_fence
    if fence is not None and channel.id not in fence.channels:
        fenced_at = set().union(*(others.get(fenced, frozenset()) for fenced in fence.channels))
        where = sorted(here & fenced_at & (set(fence.locations) if fence.locations is not None else fenced_at))
        if where:
            found.append((("ring_fence",), f"a ring fence of {fence.units} at '{where[0]}' that it is outside of"))
    low = policy.low_stock
    if low is not None and channel.priority < low.min_priority:
        found.append(
            (("low_stock",), f"a low-stock rule (its priority {channel.priority} is below {low.min_priority})")
        )
    if policy.mode == "strict":
        sharing = sorted((other, sorted(here & shown)[0]) for other, shown in others.items() if here & shown)
        if sharing:
            other, location = sharing[0]
            found.append((("mode",), f"a strict split with '{other}' at '{location}'"))
    return found


def _rule_changes(path: FieldPath, rules: ChannelRules | RuleOverride) -> list[tuple[FieldPath, str]]:
    found: list[tuple[FieldPath, str]] = []
    if rules.buffer:
        found.append(((*path, "buffer"), f"buffer {rules.buffer}"))
    if rules.share is not None and rules.share < 1:
        found.append(((*path, "share"), f"share {rules.share}"))
    if rules.cap is not None:
        found.append(((*path, "cap"), f"cap {rules.cap}"))
    if rules.minimum:
        found.append(((*path, "minimum"), f"minimum {rules.minimum}"))
    return found
