"""The availability policy compiled for one set of channel feeds: every rule resolved per (SKU group, channel) and
laid out per location, so computing a SKU's quantities is arithmetic on tuples.

Nothing here formats text; :mod:`omnibridge.policy.explain` turns the same numbers into sentences.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import lcm

from omnibridge.config.availability import DEFAULT_GROUP, AvailabilityPolicy
from omnibridge.policy.feeds import ChannelFeed
from omnibridge.policy.split import split

NO_CAP = 1 << 62
"""Stands for "no cap" in the arithmetic (more units than any location holds)."""

NO_THRESHOLD = -(1 << 62)
"""Stands for "no low-stock rule": no available is below it."""

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Rules:
    """One channel's rules for one SKU group, overrides applied. ``share`` is exact; ``cap`` None means none."""

    buffer: int
    share: Fraction | None
    cap: int | None
    minimum: int
    locations: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class Seat:
    """One channel fed at one location: everything needed to compute its quantity there.

    ``reduce`` is what comes off the location's pool before anything else (the ring fence, if this channel is not
    fenced, plus its buffer); ``share_num/share_den`` is its share (1/1 when it has none); ``cap`` is :data:`NO_CAP`
    when it has none; ``weight`` is its strict-mode weight among the channels of :attr:`LocationPlan.seats`.
    """

    key: Key
    channel: str
    priority: int
    rules: Rules
    fenced: bool
    reduce: int
    share_num: int
    share_den: int
    cap: int
    minimum: int
    low_excluded: bool


@dataclass(frozen=True, slots=True)
class Variant:
    """The strict-mode split at a location among the channels still shown (all, or the ones low stock spares).

    Lists are in seat order (priority, highest first, then channel id); ``fenced`` are positions in them.
    ``zero_keys`` are the channels the low-stock rule sets to 0.
    """

    seats: tuple[Seat, ...]
    keys: tuple[Key, ...]
    weights: tuple[int, ...]
    caps: tuple[int, ...]
    reduces: tuple[int, ...]
    minimums: tuple[int, ...]
    fenced: tuple[int, ...]
    fenced_weights: tuple[int, ...]
    fenced_caps: tuple[int, ...]
    zero_keys: tuple[Key, ...]


@dataclass(frozen=True, slots=True)
class LocationPlan:
    """One location for one SKU group: its safety stock, ring fence and the channels it feeds, in seat order."""

    location: str
    safety: int
    fence: int
    threshold: int
    seats: tuple[Seat, ...]
    shared_rows: tuple[tuple[Key, int, int, int, int, int, bool], ...]
    normal: Variant
    low: Variant


@dataclass(frozen=True, slots=True)
class GroupPlan:
    """Every location plan of one SKU group, plus the (channel, location) pairs that are not fed (always 0)."""

    name: str
    locations: tuple[LocationPlan, ...]
    not_fed: dict[Key, int]


def resolve_rules(policy: AvailabilityPolicy, channel: str, group: str) -> Rules:
    """The rules of ``channel`` for SKUs of ``group``: the channel's keys with the group's overrides on top."""
    configured = policy.channels.get(channel)
    if configured is None:
        return Rules(buffer=0, share=None, cap=None, minimum=0, locations=None)
    values = {"buffer": configured.buffer, "share": configured.share, "cap": configured.cap}
    values["minimum"] = configured.minimum
    override = configured.groups.get(group)
    if override is not None:
        values.update({name: getattr(override, name) for name in override.model_fields_set})
    share = values["share"]
    return Rules(
        buffer=int(values["buffer"] or 0),
        share=None if share is None else Fraction(repr(share)).limit_denominator(1_000_000),
        cap=None if values["cap"] is None else int(values["cap"]),
        minimum=int(values["minimum"] or 0),
        locations=None if configured.locations is None else frozenset(configured.locations),
    )


def safety_stock(policy: AvailabilityPolicy, location: str, group: str) -> int:
    """Units kept back at ``location`` for SKUs of ``group``: the group's own entry, else the location's entry."""
    general = 0
    for entry in policy.safety_stock:
        if entry.location != location:
            continue
        if entry.group == group:
            return entry.quantity
        if entry.group is None:
            general = entry.quantity
    return general


def compile_group(policy: AvailabilityPolicy, feeds: Sequence[ChannelFeed], group: str) -> GroupPlan:
    """The plan of one SKU group (``default`` for SKUs no glob matches)."""
    ordered = sorted(feeds, key=lambda feed: (-feed.priority, feed.channel))
    rules = {feed.channel: resolve_rules(policy, feed.channel, group) for feed in ordered}
    fence = policy.ring_fence
    fenced_channels = frozenset(fence.channels) if fence is not None else frozenset()
    low = policy.low_stock
    not_fed: dict[Key, int] = {}
    fed: dict[str, list[ChannelFeed]] = {}
    for feed in ordered:
        allowed = rules[feed.channel].locations
        for location in sorted(feed.locations):
            if allowed is not None and location not in allowed:
                not_fed[(feed.channel, location)] = 0
            else:
                fed.setdefault(location, []).append(feed)
    plans: list[LocationPlan] = []
    for location in sorted(fed):
        shown = fed[location]
        fence_units = 0
        fenced_here = any(feed.channel in fenced_channels for feed in shown)
        if fence is not None and fenced_here and (fence.locations is None or location in fence.locations):
            fence_units = fence.units
        seats = tuple(
            _seat(feed, location, rules[feed.channel], feed.channel in fenced_channels, fence_units, policy)
            for feed in shown
        )
        plans.append(
            LocationPlan(
                location=location,
                safety=safety_stock(policy, location, group),
                fence=fence_units,
                threshold=low.threshold if low is not None else NO_THRESHOLD,
                seats=seats,
                shared_rows=tuple(
                    (s.key, s.reduce, s.share_num, s.share_den, s.cap, s.minimum, s.low_excluded) for s in seats
                ),
                normal=_variant(seats, low_stock=False),
                low=_variant(seats, low_stock=True),
            )
        )
    return GroupPlan(group, tuple(plans), not_fed)


def compile_groups(policy: AvailabilityPolicy, feeds: Sequence[ChannelFeed]) -> list[GroupPlan]:
    """One plan per SKU group, ``default`` first, then in the order of ``sku_groups``."""
    return [compile_group(policy, feeds, group) for group in (DEFAULT_GROUP, *policy.sku_groups)]


def _seat(
    feed: ChannelFeed, location: str, rules: Rules, fenced: bool, fence_units: int, policy: AvailabilityPolicy
) -> Seat:
    share = rules.share if rules.share is not None else Fraction(1)
    low = policy.low_stock
    return Seat(
        key=(feed.channel, location),
        channel=feed.channel,
        priority=feed.priority,
        rules=rules,
        fenced=fenced,
        reduce=rules.buffer + (0 if fenced else fence_units),
        share_num=share.numerator,
        share_den=share.denominator,
        cap=NO_CAP if rules.cap is None else rules.cap,
        minimum=rules.minimum,
        low_excluded=low is not None and feed.priority < low.min_priority,
    )


def strict_weights(seats: Sequence[Seat]) -> list[Fraction]:
    """Each seat's weight: its share; seats without a share split what the shares leave (nothing if they reach 1)."""
    given = sum((seat.rules.share for seat in seats if seat.rules.share is not None), Fraction(0))
    without = sum(1 for seat in seats if seat.rules.share is None)
    rest = max(Fraction(0), 1 - given) / without if without else Fraction(0)
    return [seat.rules.share if seat.rules.share is not None else rest for seat in seats]


def _variant(all_seats: tuple[Seat, ...], *, low_stock: bool) -> Variant:
    seats = tuple(seat for seat in all_seats if not (low_stock and seat.low_excluded))
    zero_keys = tuple(seat.key for seat in all_seats if low_stock and seat.low_excluded)
    fractions = strict_weights(seats)
    scale = lcm(*(weight.denominator for weight in fractions)) if fractions else 1
    weights = tuple(int(weight * scale) for weight in fractions)
    fenced = tuple(position for position, seat in enumerate(seats) if seat.fenced)
    return Variant(
        seats=seats,
        keys=tuple(seat.key for seat in seats),
        weights=weights,
        caps=tuple(seat.cap for seat in seats),
        reduces=tuple(seat.reduce for seat in seats),
        minimums=tuple(seat.minimum for seat in seats),
        fenced=fenced,
        fenced_weights=tuple(weights[position] for position in fenced),
        fenced_caps=tuple(seats[position].cap for position in fenced),
        zero_keys=zero_keys,
    )


def strict_split(plan: LocationPlan, variant: Variant, pool: int) -> list[int]:
    """Strict mode: what each channel of ``variant`` is given of ``pool`` (> 0) units at ``plan``'s location, before
    its own limit (pool - fence if not fenced - buffer) and minimum are applied.

    The ring-fenced units (at most ``pool``) are split among the fenced channels first; the rest among every
    channel, each capped at its cap less what it took from the fence.
    """
    fence = plan.fence if plan.fence < pool else pool
    if not (fence and variant.fenced):
        return split(pool - fence, variant.weights, variant.caps)
    fenced_shares = split(fence, variant.fenced_weights, variant.fenced_caps)
    room = list(variant.caps)
    for position, taken in zip(variant.fenced, fenced_shares, strict=True):
        room[position] -= taken
    shares = split(pool - fence, variant.weights, room)
    for position, taken in zip(variant.fenced, fenced_shares, strict=True):
        shares[position] += taken
    return shares
