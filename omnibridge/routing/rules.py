"""The merchant's routing rules as one immutable value (:class:`RoutingRules`), built from the profile's
``routing:`` section (:mod:`omnibridge.config.routing`) or directly in code and tests.

Routing properties of a location (its daily capacity, market, rank, group, carrier cutoff, brokering safety stock,
cost per package and, for a dropship supplier, its catalogue) live here in :class:`LocationRules`, keyed by
location id, not on the canonical :class:`~omnibridge.models.Location`: they matter only to the router, and the
canonical model stays what every connector shares.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from enum import StrEnum

from omnibridge.models import Address


class SplitPolicy(StrEnum):
    NEVER = "never"
    """One location ships the whole order, or nothing is allocated."""
    FEWEST_PACKAGES = "fewest_packages"
    """Single locations first, then pairs, triples... up to ``max_splits`` extra packages (Salesforce-style)."""
    VALUE_THRESHOLD = "value_threshold"
    """Split only when both the part shipped and the part left are worth at least ``value_threshold``
    (HotWax-style)."""
    GREEDY = "greedy"
    """Each line from the best-ranked location that holds it, however many packages that makes (MSI-style)."""


RANKING_RULES: tuple[str, ...] = (
    "fewest_packages",
    "same_market",
    "ranked",
    "capacity_left",
    "inventory_balance",
    "cost",
    "carrier",
    "distance",
)
"""Every ranking rule the built-in strategy knows."""

DEFAULT_RANKING: tuple[str, ...] = ("fewest_packages", "same_market", "ranked", "distance")
"""The ranking chain when the profile names none: Shopify's order, distance last."""


@dataclass(frozen=True, slots=True)
class LocationRules:
    """What routing knows about one location beyond the canonical model.

    ``markets``: market names or ``CC`` / ``CC-REGION`` codes the location belongs to (for ``same_market``).
    ``ships_to``: when set, the only markets or codes it may ship to (the region rule). ``skus``: a dropship
    supplier's catalogue (only these master SKUs ship from it). ``cutoff`` is the local carrier cutoff in
    ``timezone`` (the merchant's when unset). ``safety_stock`` is the brokering safety stock held back from
    routing there (``None``: the routing default).
    """

    daily_capacity: int | None = None
    markets: frozenset[str] = frozenset()
    ships_to: frozenset[str] | None = None
    rank: int | None = None
    group: str | None = None
    cutoff: time | None = None
    timezone: str | None = None
    safety_stock: int | None = None
    cost: Decimal | None = None
    skus: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class ProductRule:
    """Lines whose product type is in ``product_types`` or whose SKU is in ``skus`` may ship only from
    ``only_at`` (when set) and never from ``never_at``; both name location ids or groups. ``name`` is what
    verdicts show (e.g. ``hazmat``)."""

    name: str
    product_types: frozenset[str] = frozenset()
    skus: frozenset[str] = frozenset()
    only_at: frozenset[str] | None = None
    never_at: frozenset[str] = frozenset()

    def applies(self, sku: str, product_type: str | None) -> bool:
        return sku in self.skus or (product_type is not None and product_type in self.product_types)


@dataclass(frozen=True, slots=True)
class CarrierRule:
    """The carrier rule: a location qualifies only when a quoted service reaches the destination within
    ``promised_days`` (when set); ranking by ``carrier`` prefers the cheapest qualifying quote."""

    promised_days: int | None = None


@dataclass(frozen=True, slots=True)
class RoutingRules:
    """Everything the router needs to know about the merchant's preferences.

    ``channels``: the channels whose orders are routed (``None``: all; the config fills in every storefront and
    marketplace channel). ``channel_locations``: channel id -> the locations or groups its orders may ship from
    (a channel not listed may use every location). ``markets``: market name -> ``CC`` / ``CC-REGION`` codes.
    ``group_ranks``: group -> rank, for locations without a rank of their own.
    """

    enabled: bool = True
    channels: frozenset[str] | None = None
    channel_locations: Mapping[str, frozenset[str]] = field(default_factory=dict)
    markets: Mapping[str, frozenset[str]] = field(default_factory=dict)
    locations: Mapping[str, LocationRules] = field(default_factory=dict)
    group_ranks: Mapping[str, int] = field(default_factory=dict)
    products: tuple[ProductRule, ...] = ()
    safety_stock: int = 0
    enforce_capacity: bool = True
    enforce_cutoff: bool = True
    carrier: CarrierRule = field(default_factory=CarrierRule)
    ranking: tuple[str, ...] = DEFAULT_RANKING
    split: SplitPolicy = SplitPolicy.FEWEST_PACKAGES
    max_splits: int = 2
    """Extra packages allowed: ``fewest_packages`` and ``value_threshold`` ship from at most ``max_splits + 1``
    locations."""
    value_threshold: Decimal = Decimal(0)
    max_reroutes: int = 3
    distance: str = "haversine"
    strategy: str = "default"
    timezone: str = "UTC"
    combination_budget: int = 10_000
    """At most this many location combinations are tried by ``fewest_packages`` per order."""

    def location(self, location_id: str) -> LocationRules:
        """The routing properties of ``location_id`` (the defaults when the profile gives none)."""
        return self.locations.get(location_id, _NO_RULES)

    def routes_channel(self, channel: str) -> bool:
        """Whether orders from ``channel`` are routed (else they are fulfilled where the channel put them)."""
        return self.enabled and (self.channels is None or channel in self.channels)

    def names(self, location_id: str) -> frozenset[str]:
        """The names a rule can use for ``location_id``: its id and its group."""
        group = self.location(location_id).group
        return frozenset((location_id, group)) if group else frozenset((location_id,))

    def safety_stock_at(self, location_id: str) -> int:
        own = self.location(location_id).safety_stock
        return self.safety_stock if own is None else own

    def in_market(self, codes: frozenset[str], destination: Address | None) -> bool:
        """Whether ``destination`` lies in one of ``codes`` (market names, ``CC`` or ``CC-REGION``)."""
        if destination is None:
            return False
        country = destination.country.upper()
        region = f"{country}-{destination.region.upper()}" if destination.region else None
        for code in codes:
            for member in self.markets.get(code, frozenset((code,))):
                upper = member.upper()
                if upper in (country, region):
                    return True
        return False


_NO_RULES = LocationRules()
