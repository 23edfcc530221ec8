"""Stage 2: order the eligible locations by a lexicographic chain of rules.

Every rule gives a location a number (lower is better); locations are sorted by the tuple of those numbers in
the order of ``rules.ranking``, so each rule only breaks the ties the rules before it left (Shopify's model).
Rules: ``fewest_packages`` (more of the order's lines held whole), ``same_market`` (the destination is in the
location's market), ``ranked`` (the location's rank, else its group's), ``capacity_left`` (more of today's order
capacity left), ``inventory_balance`` (more units of the order's SKUs left after it ships), ``cost`` (lower cost
per package), ``carrier`` (cheapest carrier quote that keeps the promise) and ``distance`` (nearer; unknown
distance last). The profile's order of locations breaks whatever ties remain.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from omnibridge.routing.eligibility import Candidate
from omnibridge.routing.model import RouteRequest
from omnibridge.routing.rules import RoutingRules

Key = Callable[[Candidate, RouteRequest, RoutingRules], float]


def _fewest_packages(candidate: Candidate, request: RouteRequest, rules: RoutingRules) -> float:
    return -float(len(candidate.lines))


def _same_market(candidate: Candidate, request: RouteRequest, rules: RoutingRules) -> float:
    return 0.0 if rules.in_market(rules.location(candidate.id).markets, request.destination) else 1.0


def _ranked(candidate: Candidate, request: RouteRequest, rules: RoutingRules) -> float:
    own = rules.location(candidate.id)
    if own.rank is not None:
        return float(own.rank)
    if own.group is not None and own.group in rules.group_ranks:
        return float(rules.group_ranks[own.group])
    return math.inf


def _capacity_left(candidate: Candidate, request: RouteRequest, rules: RoutingRules) -> float:
    capacity = rules.location(candidate.id).daily_capacity
    return -math.inf if capacity is None else -float(capacity - candidate.state.assigned_today)


def _inventory_balance(candidate: Candidate, request: RouteRequest, rules: RoutingRules) -> float:
    wanted: dict[str, int] = {}
    for line in request.lines:
        if line.line_id in candidate.lines:
            wanted[line.sku] = wanted.get(line.sku, 0) + line.quantity
    return -float(sum(candidate.stock[sku] - quantity for sku, quantity in wanted.items()))


def _cost(candidate: Candidate, request: RouteRequest, rules: RoutingRules) -> float:
    cost = rules.location(candidate.id).cost
    return math.inf if cost is None else float(cost)


def _carrier(candidate: Candidate, request: RouteRequest, rules: RoutingRules) -> float:
    promised = rules.carrier.promised_days
    costs = [
        float(quote.cost)
        for quote in request.carrier_quotes.get(candidate.id, ())
        if quote.cost is not None and (promised is None or (quote.days is not None and quote.days <= promised))
    ]
    return min(costs, default=math.inf)


def _distance(candidate: Candidate, request: RouteRequest, rules: RoutingRules) -> float:
    km = candidate.distance_km
    return math.inf if km is None else km


KEYS: dict[str, Key] = {
    "fewest_packages": _fewest_packages,
    "same_market": _same_market,
    "ranked": _ranked,
    "capacity_left": _capacity_left,
    "inventory_balance": _inventory_balance,
    "cost": _cost,
    "carrier": _carrier,
    "distance": _distance,
}


@dataclass(frozen=True, slots=True)
class Ranked:
    """One eligible location in rank order: ``keys`` in the order of the ranking rules, ``rule`` the rule that
    decided its place (the first whose number differs from its neighbour's; ``order`` when all tie), ``reason``
    what that rule saw."""

    candidate: Candidate
    rank: int
    keys: tuple[float, ...]
    rule: str
    reason: str


def rank(candidates: Sequence[Candidate], request: RouteRequest, rules: RoutingRules) -> tuple[Ranked, ...]:
    """``candidates`` best first, each with the rule that placed it."""
    unknown = [name for name in rules.ranking if name not in KEYS]
    if unknown:
        raise ValueError(f"unknown ranking rule {unknown[0]!r}: expected one of {', '.join(KEYS)}")
    keyed = [(tuple(KEYS[name](c, request, rules) for name in rules.ranking), c) for c in candidates]
    keyed.sort(key=lambda pair: pair[0])
    ranked: list[Ranked] = []
    for index, (keys, candidate) in enumerate(keyed):
        neighbour = keyed[index - 1][0] if index else (keyed[1][0] if len(keyed) > 1 else None)
        position = _deciding(keys, neighbour)
        rule = "order" if position is None else rules.ranking[position]
        reason = _describe(rule, candidate, keys[position] if position is not None else 0.0, rules, request)
        ranked.append(Ranked(candidate, index + 1, keys, rule, reason))
    return tuple(ranked)


def _deciding(keys: tuple[float, ...], neighbour: tuple[float, ...] | None) -> int | None:
    if neighbour is None:
        return 0 if keys else None
    return next((i for i, (a, b) in enumerate(zip(keys, neighbour, strict=True)) if a != b), None)


def _describe(rule: str, candidate: Candidate, value: float, rules: RoutingRules, request: RouteRequest) -> str:
    total = len(request.lines)
    if rule == "fewest_packages":
        held = len(candidate.lines)
        return "holds every line" if held == total else f"holds {held} of {total} lines"
    if rule == "same_market":
        return "in the destination's market" if value == 0 else "outside the destination's market"
    if rule == "ranked":
        return "unranked" if math.isinf(value) else f"rank {int(value)}"
    if rule == "capacity_left":
        return "no daily capacity limit" if math.isinf(value) else f"{int(-value)} orders of capacity left today"
    if rule == "inventory_balance":
        return f"{int(-value)} units of these SKUs left after shipping"
    if rule in ("cost", "carrier"):
        what = "cost per package" if rule == "cost" else "cheapest carrier quote"
        return f"no {what}" if math.isinf(value) else f"{what} {value:.2f}"
    if rule == "distance":
        km = candidate.distance_km
        return f"{km:.0f} km away" if km is not None else str(candidate.distance)
    return "tied on every rule; profile order"
