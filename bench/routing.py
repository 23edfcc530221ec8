"""Routing quality against the optimum, and pure decision throughput.

A seeded network (a warehouse, 10 or 50 stores, a dropship supplier with its catalogue, a 3PL) across the United
States, and a seeded stream of web orders (1-5 lines, destinations in three regions) routed one after another;
each decision takes its units from the network's stock, so stock runs short as the stream goes on.

* Quality: for every order small enough to solve exactly (every assignment of its lines to the locations that
  hold them, at most ``EXACT_LIMIT`` assignments), the optimum is the assignment with the fewest packages, then
  the shortest total distance (the sum over packages of the distance from the location to the destination).
  ``packages_vs_optimum`` and ``distance_vs_optimum`` are the router's figures divided by the optimum's,
  averaged over those orders, with the worst case; orders the router could not route in full while the optimum
  could are counted in ``short_vs_optimum``.
* Throughput: ``route_per_s`` and ``route_p99_ms`` time ``route()`` alone (pure: no store, no reservation).
* Baseline, same run, same orders and the same eligibility: the naive router, "the first location (profile order)
  with everything, else each line from the first location that holds it".

The committed-decision figures (``decisions_per_s``, ``decision_p99_ms``: a decision with its reservations in
one unit of work, on SQLite and PostgreSQL) come from :func:`committed_figures`.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from itertools import product
from typing import Any

from omnibridge.models import Address, GeoPoint, Location, LocationCapability, LocationType
from omnibridge.routing import LocationState, RouteLine, RouteRequest, RoutingDecision, RoutingRules, route
from omnibridge.routing.distance import Haversine
from omnibridge.routing.eligibility import Candidate, check

SEED = 13
SKUS = [f"SKU-{i:03d}" for i in range(30)]
EXACT_LIMIT = 20_000
ORDERS_PER_SCALE = 150
"""The warehouse, supplier and 3PL stock grows with the stream (one unit of scale per this many orders), so a
longer run runs short about as much as a quick one."""
RULES = RoutingRules(max_splits=4)
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
REGIONS = {  # name: (lat range, lon range)
    "east": ((33.0, 44.0), (-84.0, -71.0)),
    "central": ((30.0, 46.0), (-100.0, -85.0)),
    "west": ((33.0, 47.0), (-123.0, -110.0)),
}


def _point(rng: random.Random, region: str) -> GeoPoint:
    (lat0, lat1), (lon0, lon1) = REGIONS[region]
    return GeoPoint(lat=rng.uniform(lat0, lat1), lon=rng.uniform(lon0, lon1))


def network(stores: int, rng: random.Random, scale: int = 1) -> list[LocationState]:
    """A warehouse, ``stores`` stores, a supplier and a 3PL, with seeded stock; the warehouse, supplier and 3PL
    hold ``scale`` times more (stores hold a few units of some SKUs whatever the scale)."""
    ships = {LocationCapability.SHIPS}

    def at(location_id: str, kind: LocationType, region: str, stock: dict[str, int]) -> LocationState:
        where = Location(
            id=location_id, name=location_id, type=kind, coordinates=_point(rng, region), capabilities=ships
        )
        return LocationState(where, stock)

    states = [at("wh", LocationType.WAREHOUSE, "central", {sku: rng.randint(3, 15) * scale for sku in SKUS})]
    for index in range(stores):
        held = rng.sample(SKUS, k=len(SKUS) * 2 // 5)
        states.append(
            at(
                f"store-{index:02d}",
                LocationType.STORE,
                rng.choice(list(REGIONS)),
                {s: rng.randint(1, 4) for s in held},
            )
        )
    catalogue = rng.sample(SKUS, k=8)
    states.append(at("supplier", LocationType.SUPPLIER, "east", {sku: 20 * scale for sku in catalogue}))
    states.append(
        at(
            "3pl",
            LocationType.THIRD_PARTY_LOGISTICS,
            "west",
            {s: rng.randint(2, 10) * scale for s in rng.sample(SKUS, k=18)},
        )
    )
    return states


def orders(count: int, rng: random.Random) -> list[RouteRequest]:
    """``count`` web orders of 1-5 distinct SKUs, 1 or 2 units each, to destinations in every region."""
    stream = []
    for index in range(count):
        skus = rng.sample(SKUS, k=rng.randint(1, 5))
        lines = tuple(
            RouteLine(str(n), sku, 1 if rng.random() < 0.8 else 2, Decimal(rng.randint(10, 120)))
            for n, sku in enumerate(skus)
        )
        destination = Address(country="US", coordinates=_point(rng, rng.choice(list(REGIONS))))
        stream.append(RouteRequest(f"o-{index}", "web", lines, destination, NOW))
    return stream


def _km(location: Location, destination: Address | None) -> float:
    measured = Haversine().measure(location, destination)
    return measured if isinstance(measured, float) else math.inf


def figures(request: RouteRequest, where: dict[str, str], by_id: dict[str, Location]) -> tuple[int, float]:
    """Packages and total distance (km, summed over packages) of an assignment line id -> location id."""
    used = set(where.values())
    return len(used), sum(_km(by_id[location_id], request.destination) for location_id in used)


def optimum(request: RouteRequest, candidates: Sequence[Candidate]) -> tuple[int, float] | None:
    """The fewest packages, then the shortest total distance, over every assignment of every line to a location
    that holds it whole (sharing stock); ``None`` when there is none or more than ``EXACT_LIMIT``."""
    choices = [[c for c in candidates if line.line_id in c.lines] for line in request.lines]
    if any(not options for options in choices) or math.prod(len(options) for options in choices) > EXACT_LIMIT:
        return None
    best: tuple[int, float] | None = None
    for assignment in product(*choices):
        taken: dict[tuple[str, str], int] = {}
        feasible = True
        for line, candidate in zip(request.lines, assignment, strict=True):
            key = (candidate.id, line.sku)
            taken[key] = taken.get(key, 0) + line.quantity
            if taken[key] > candidate.stock[line.sku]:
                feasible = False
                break
        if not feasible:
            continue
        used = {c.id: c for c in assignment}
        figure = (len(used), sum(_km(c.state.location, request.destination) for c in used.values()))
        if best is None or figure < best:
            best = figure
    return best


def naive(request: RouteRequest, candidates: Sequence[Candidate]) -> dict[str, str]:
    """The baseline: the first candidate holding every line, else each line from the first that holds it."""
    for candidate in candidates:
        if len(candidate.lines) == len(request.lines) and _fits(request.lines, candidate):
            return {line.line_id: candidate.id for line in request.lines}
    where: dict[str, str] = {}
    left = {c.id: dict(c.stock) for c in candidates}
    for line in request.lines:
        for candidate in candidates:
            if line.line_id in candidate.lines and left[candidate.id][line.sku] >= line.quantity:
                left[candidate.id][line.sku] -= line.quantity
                where[line.line_id] = candidate.id
                break
    return where


def _fits(lines: Sequence[RouteLine], candidate: Candidate) -> bool:
    need: dict[str, int] = {}
    for line in lines:
        need[line.sku] = need.get(line.sku, 0) + line.quantity
    return all(candidate.stock[sku] >= quantity for sku, quantity in need.items())


def _take(states: list[LocationState], decision: RoutingDecision) -> list[LocationState]:
    taken: dict[tuple[str, str], int] = {}
    for allocation in decision.allocations:
        key = (allocation.location_id, allocation.sku)
        taken[key] = taken.get(key, 0) + allocation.quantity
    shipping = set(decision.locations)
    return [
        replace(
            s,
            available={sku: n - taken.get((s.location.id, sku), 0) for sku, n in s.available.items()},
            assigned_today=s.assigned_today + (s.location.id in shipping),
        )
        for s in states
    ]


def _ratio(mine: float, best: float) -> float:
    return 1.0 if mine == best else mine / best


def measure(stores: int, count: int) -> list[dict[str, Any]]:
    """Route ``count`` seeded orders over a network with ``stores`` stores: one row for the router, one for the
    naive baseline (the same orders, against the same stock and eligibility)."""
    rng = random.Random(SEED * 1000 + stores)
    states = network(stores, rng, scale=max(1, count // ORDERS_PER_SCALE))
    stream = orders(count, rng)
    by_id = {s.location.id: s.location for s in states}
    names = ("router", "naive baseline")
    timings: dict[str, list[float]] = {name: [] for name in names}
    quality: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    short = dict.fromkeys(names, 0)
    outcomes: dict[str, dict[str, int]] = {name: {} for name in names}
    haversine = Haversine()
    for request in stream:
        started = time.perf_counter()
        decision = route(request, states, RULES, distance=haversine)
        timings["router"].append(time.perf_counter() - started)
        started = time.perf_counter()
        candidates = check(request, states, RULES, haversine).candidates
        baseline = naive(request, candidates)
        timings["naive baseline"].append(time.perf_counter() - started)
        answers = {"router": {a.line_id: a.location_id for a in decision.allocations}, "naive baseline": baseline}
        best = optimum(request, candidates)
        for name, where in answers.items():
            outcome = "routed" if len(where) == len(request.lines) else "partial" if where else "unroutable"
            outcomes[name][outcome] = outcomes[name].get(outcome, 0) + 1
            if best is None:
                continue
            if len(where) < len(request.lines):
                short[name] += 1
                continue
            packages, km = figures(request, where, by_id)
            quality[name].append((_ratio(packages, best[0]), _ratio(km, best[1])))
        states = _take(states, decision)
    return [_row(stores, name, outcomes[name], quality[name], short[name], timings[name]) for name in names]


def _row(
    stores: int,
    name: str,
    outcomes: dict[str, int],
    quality: list[tuple[float, float]],
    short: int,
    timings: list[float],
) -> dict[str, Any]:
    pairs = quality or [(math.nan, math.nan)]
    ordered = sorted(timings)
    return {
        "stores": stores,
        "router": name,
        "orders": len(timings),
        **{outcome: outcomes.get(outcome, 0) for outcome in ("routed", "partial", "unroutable")},
        "exact_instances": len(quality) + short,
        "packages_vs_optimum": round(statistics.fmean(p for p, _ in pairs), 4),
        "distance_vs_optimum": round(statistics.fmean(d for _, d in pairs), 4),
        "worst_packages_vs_optimum": round(max(p for p, _ in pairs), 4),
        "worst_distance_vs_optimum": round(max(d for _, d in pairs), 4),
        "short_vs_optimum": short,
        "route_per_s": round(len(timings) / sum(timings), 1),
        "route_p99_ms": round(ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)] * 1000, 3),
    }


def committed_figures(*, quick: bool) -> dict[str, Any]:
    """The committed-decision figures: ``decisions_per_s`` and ``decision_p99_ms`` (a decision with its
    reservations in one unit of work, SQLite) and the same under ``postgresql`` when PostgreSQL is configured.
    Measured by :mod:`bench._routing_commit` through the routing service (:mod:`omnibridge.routing.service`)."""
    from bench._routing_commit import committed_figures

    return committed_figures(quick=quick)


def run(*, quick: bool = False) -> dict[str, Any]:
    sizes, count = ([10, 50], 150) if quick else ([10, 50], 1_000)
    rows = [row for stores in sizes for row in measure(stores, count)]
    result: dict[str, Any] = {
        "title": "routing: quality against the optimum and decisions per second (pure route(), no store)",
        "rows": rows,
        "notes": [
            f"seed {SEED}; {len(SKUS)} SKUs; a warehouse, the stores, a supplier (8 SKUs) and a 3PL; orders of 1-5 "
            f"lines routed in sequence, each taking the units the router allocated, so stock runs short (the "
            f"warehouse, supplier and 3PL hold more for longer streams); rules: default ranking, fewest_packages "
            f"with max_splits {RULES.max_splits}. The naive baseline answers the same orders against the same stock "
            "and eligibility: the first location (profile order) with everything, else each line from the first "
            "location holding it; its route_per_s includes the eligibility stage it shares with the router.",
            f"quality over the orders with at most {EXACT_LIMIT:,} assignments (exact_instances): figure divided by "
            "the optimum's (fewest packages, then shortest total distance, summed over packages); short_vs_optimum: "
            "orders left partly unrouted that the optimum ships in full. Goal: packages <= 1.02x, distance <= "
            "1.10x on average.",
        ],
    }
    mine = [row for row in rows if row["router"] == "router"]
    weights = [row["exact_instances"] for row in mine]
    for key in ("packages_vs_optimum", "distance_vs_optimum"):
        total = sum(row[key] * w for row, w in zip(mine, weights, strict=True))
        result[key] = round(total / max(1, sum(weights)), 4)
        result[f"worst_{key}"] = max(row[f"worst_{key}"] for row in mine)
    result["route_per_s"] = mine[-1]["route_per_s"]
    result["route_p99_ms"] = mine[-1]["route_p99_ms"]
    result.update(committed_figures(quick=quick))
    return result
