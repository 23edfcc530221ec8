"""The profile's routing section across entries: every name it uses must exist (:func:`check_routing`), and the
section plus the locations' routing keys become the router's :class:`RoutingRules` (:func:`build_rules`)."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Sequence
from datetime import time
from decimal import Decimal

from omnibridge.config.context import LoadContext
from omnibridge.config.loaded import LoadedChannel
from omnibridge.config.located import FieldPath
from omnibridge.config.routing import RoutingSection, code_shaped
from omnibridge.config.schema import LocationSection
from omnibridge.config.yaml_source import YamlFile
from omnibridge.models import LocationType
from omnibridge.routing.distance import known_sources
from omnibridge.routing.rules import (
    DEFAULT_RANKING,
    CarrierRule,
    LocationRules,
    ProductRule,
    RoutingRules,
    SplitPolicy,
)
from omnibridge.routing.strategies import known_strategies
from omnibridge.sdk.metadata import ConnectorKind

_ROUTED_KINDS = frozenset({ConnectorKind.STOREFRONT, ConnectorKind.MARKETPLACE})
MARKET_HELP = "a market from 'routing.markets', an ISO country code (US) or a country-region code (US-CA)"


def check_routing(
    ctx: LoadContext,
    profile: YamlFile,
    routing: RoutingSection,
    locations: Sequence[tuple[int, LocationSection]],
    channel_ids: Collection[str],
) -> None:
    """Record a problem for every location, group, channel, market, strategy or distance source that the
    routing section (or a location's routing keys) names but the profile or the installation does not have."""
    location_ids = {location.id for _, location in locations}
    groups = {location.group for _, location in locations if location.group}

    def known(path: FieldPath, kind: str, value: str, valid: Collection[str], expected: str) -> None:
        if value in valid:
            return
        options = sorted(valid)
        close = difflib.get_close_matches(value, options, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        listed = ", ".join(options) if options else "(none)"
        ctx.problem(profile, path, f"unknown {kind} '{value}'{hint}", f"{expected}: {listed}")

    def place(path: FieldPath, name: str, extra: Collection[str] = ()) -> None:
        valid = location_ids | groups | set(extra)
        known(path, "location or group", name, valid, "a location id or a group of the profile's locations")

    def markets(path: FieldPath, codes: Sequence[str]) -> None:
        for index, code in enumerate(codes):
            if code not in routing.markets and not code_shaped(code):
                known((*path, index), "market", code, set(routing.markets), MARKET_HELP)

    base: FieldPath = ("routing",)
    for index, channel_id in enumerate(routing.channels or []):
        known((*base, "channels", index), "channel", channel_id, channel_ids, "a channel id from the profile")
    for channel_id, names in routing.locations.items():
        known((*base, "locations", channel_id), "channel", channel_id, channel_ids, "a channel id from the profile")
        for index, name in enumerate(names):
            place((*base, "locations", channel_id, index), name)
    for name, codes in routing.markets.items():
        for index, code in enumerate(codes):
            if not code_shaped(code):
                ctx.problem(
                    profile,
                    (*base, "markets", name, index),
                    f"invalid code '{code}'",
                    "an ISO country code (US) or a country-region code (US-CA)",
                )
    for group in routing.groups:
        known((*base, "groups", group), "group", group, groups, "a group named by a location's 'group'")
    eligibility = routing.eligibility
    for name, codes in eligibility.ships_to.items():
        place((*base, "eligibility", "ships_to", name), name)
        markets((*base, "eligibility", "ships_to", name), codes)
    for index, product in enumerate(eligibility.products):
        path = (*base, "eligibility", "products", index)
        for key, names in (("only_at", product.only_at or []), ("never_at", product.never_at)):
            for position, name in enumerate(names):
                place((*path, key, position), name)
        if not product.product_types and not product.skus:
            ctx.problem(profile, path, "the rule picks no lines", "'product_types' or 'skus'")
    for name in eligibility.safety_stock:
        place((*base, "eligibility", "safety_stock", name), name, extra=("default",))
    if routing.split.policy is SplitPolicy.VALUE_THRESHOLD and routing.split.value_threshold is None:
        ctx.problem(profile, (*base, "split"), "policy value_threshold needs a value", "a 'value_threshold' amount")
    known((*base, "strategy"), "routing strategy", routing.strategy, known_strategies(), "one of")
    known((*base, "distance"), "distance source", routing.distance, known_sources(), "one of")
    for index, location in locations:
        markets(("locations", index, "market"), location.market)
        if location.skus is not None and location.type is not LocationType.SUPPLIER:
            ctx.problem(
                profile,
                ("locations", index, "skus"),
                f"a catalogue is set but location '{location.id}' is a {location.type.value}",
                "'skus' only on a location of type supplier",
            )


def build_rules(
    routing: RoutingSection,
    locations: Sequence[LocationSection],
    channels: Sequence[LoadedChannel],
    timezone: str,
) -> RoutingRules:
    """The router's rules for a profile whose routing section passed :func:`check_routing`."""
    eligibility = routing.eligibility
    safety = eligibility.safety_stock
    ships_to = eligibility.ships_to
    per_location: dict[str, LocationRules] = {}
    for location in locations:
        names = [location.id] + ([location.group] if location.group else [])
        own_safety = next((safety[name] for name in names if name in safety), None)
        own_ships_to = next((frozenset(ships_to[name]) for name in names if name in ships_to), None)
        per_location[location.id] = LocationRules(
            daily_capacity=location.daily_capacity,
            markets=frozenset(location.market),
            ships_to=own_ships_to,
            rank=location.rank,
            group=location.group,
            cutoff=time.fromisoformat(location.cutoff) if location.cutoff else None,
            timezone=location.timezone,
            safety_stock=own_safety,
            cost=location.cost_per_package,
            skus=frozenset(location.skus) if location.skus is not None else None,
        )
    routed = (
        frozenset(routing.channels)
        if routing.channels is not None
        else frozenset(channel.id for channel in channels if channel.spec.kind in _ROUTED_KINDS)
    )
    return RoutingRules(
        enabled=routing.enabled,
        channels=routed,
        channel_locations={channel: frozenset(names) for channel, names in routing.locations.items()},
        markets={name: frozenset(codes) for name, codes in routing.markets.items()},
        locations=per_location,
        group_ranks=dict(routing.groups),
        products=tuple(
            ProductRule(
                name=product.name,
                product_types=frozenset(product.product_types),
                skus=frozenset(product.skus),
                only_at=frozenset(product.only_at) if product.only_at is not None else None,
                never_at=frozenset(product.never_at),
            )
            for product in eligibility.products
        ),
        safety_stock=safety.get("default", 0),
        enforce_capacity=eligibility.capacity,
        enforce_cutoff=eligibility.cutoff,
        carrier=CarrierRule(promised_days=eligibility.carrier.promised_days),
        ranking=tuple(routing.ranking) if routing.ranking is not None else DEFAULT_RANKING,
        split=routing.split.policy,
        max_splits=routing.split.max_splits,
        value_threshold=routing.split.value_threshold or Decimal(0),
        max_reroutes=routing.max_reroutes,
        distance=routing.distance,
        strategy=routing.strategy,
        timezone=timezone,
    )
