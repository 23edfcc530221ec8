"""Properties of route() over random networks, orders and rules: it never allocates more than a location may
give (after brokering safety stock), never at a location it eliminated or the request excluded, and accounts for
every open unit."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import replace
from decimal import Decimal
from itertools import product

import pytest
from hypothesis import given
from hypothesis import strategies as st
from routing_support import line, order, place, state

from omnibridge.models import GeoPoint, LocationType
from omnibridge.routing import (
    LocationRules,
    LocationState,
    RouteOutcome,
    RouteRequest,
    RoutingRules,
    SplitPolicy,
    VerdictKind,
    route,
)
from omnibridge.routing.distance import Haversine
from omnibridge.routing.eligibility import check

SKUS = ("A", "B", "C")
IDS = ("l0", "l1", "l2", "l3", "l4")


@st.composite
def worlds(draw: st.DrawFn) -> tuple[RouteRequest, list[LocationState], RoutingRules]:
    states: list[LocationState] = []
    per_location: dict[str, LocationRules] = {}
    for location_id in draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=5, unique=True)):
        at = draw(st.none() | st.builds(GeoPoint, lat=st.floats(-60, 60), lon=st.floats(-170, 170)))
        kind = draw(st.sampled_from(list(LocationType)))
        where = place(location_id, at, type=kind, ships=draw(st.booleans()), active=draw(st.booleans()))
        stock = {sku: draw(st.integers(0, 6)) for sku in SKUS}
        states.append(state(where, assigned_today=draw(st.integers(0, 3)), **stock))
        per_location[location_id] = LocationRules(
            safety_stock=draw(st.none() | st.integers(0, 3)),
            daily_capacity=draw(st.none() | st.integers(0, 3)),
            skus=draw(st.none() | st.frozensets(st.sampled_from(SKUS))),
        )
    lines = [
        line(f"ln{index}", draw(st.sampled_from(SKUS)), draw(st.integers(1, 4)), value=str(draw(st.integers(0, 80))))
        for index in range(draw(st.integers(1, 5)))
    ]
    rules = RoutingRules(
        locations=per_location,
        safety_stock=draw(st.integers(0, 2)),
        split=draw(st.sampled_from(list(SplitPolicy))),
        max_splits=draw(st.integers(0, 3)),
        value_threshold=Decimal(draw(st.integers(0, 100))),
        ranking=tuple(draw(st.permutations(["fewest_packages", "ranked", "capacity_left", "distance"]))),
    )
    excluded = draw(st.frozensets(st.sampled_from(IDS), max_size=2))
    pinned = draw(st.none() | st.sampled_from(IDS))
    to = draw(st.none() | st.builds(GeoPoint, lat=st.floats(-60, 60), lon=st.floats(-170, 170)))
    return order(*lines, to=to, excluded=excluded, pinned=pinned), states, rules


@given(worlds())
def test_route_respects_stock_eligibility_and_accounts_for_every_unit(
    world: tuple[RouteRequest, list[LocationState], RoutingRules],
) -> None:
    request, states, rules = world
    decision = route(request, states, rules)
    by_id = {s.location.id: s for s in states}
    eliminated = {v.location_id for v in decision.verdicts if v.kind is VerdictKind.ELIMINATED}
    taken: dict[tuple[str, str], int] = defaultdict(int)
    for allocation in decision.allocations:
        assert allocation.location_id not in eliminated
        assert allocation.location_id not in request.excluded
        assert request.pinned in (None, allocation.location_id)
        assert by_id[allocation.location_id].location.active
        taken[(allocation.location_id, allocation.sku)] += allocation.quantity
    for (location_id, sku), quantity in taken.items():
        limit = by_id[location_id].available.get(sku, 0) - rules.safety_stock_at(location_id)
        assert quantity <= limit
    allocated: dict[str, int] = defaultdict(int)
    for allocation in decision.allocations:
        allocated[allocation.line_id] += allocation.quantity
    for open_line in request.lines:
        assert allocated[open_line.line_id] + decision.unallocated.get(open_line.line_id, 0) == open_line.quantity
    assert sorted(v.location_id for v in decision.verdicts) == sorted(by_id)
    expected = (
        RouteOutcome.ROUTED
        if not decision.unallocated
        else RouteOutcome.PARTIAL
        if decision.allocations
        else RouteOutcome.UNROUTABLE
    )
    assert decision.outcome is expected
    if rules.split is not SplitPolicy.GREEDY:
        assert decision.packages <= rules.max_splits + 1


@given(worlds())
def test_fewest_packages_finds_the_fewest_packages_and_then_the_shortest_total_distance(
    world: tuple[RouteRequest, list[LocationState], RoutingRules],
) -> None:
    request, states, rules = world
    rules = replace(rules, split=SplitPolicy.FEWEST_PACKAGES, max_splits=4, ranking=("fewest_packages", "distance"))
    decision = route(request, states, rules)
    candidates = check(request, states, rules, Haversine()).candidates
    best: tuple[int, float] | None = None
    for assignment in product(*([c for c in candidates if ln.line_id in c.lines] for ln in request.lines)):
        taken: dict[tuple[str, str], int] = defaultdict(int)
        for open_line, candidate in zip(request.lines, assignment, strict=True):
            taken[(candidate.id, open_line.sku)] += open_line.quantity
        if any(n > next(c for c in candidates if c.id == key[0]).stock[key[1]] for key, n in taken.items()):
            continue
        used = {c.id: c for c in assignment}
        km = sum(c.distance_km if c.distance_km is not None else math.inf for c in used.values())
        best = min(best, (len(used), km)) if best is not None else (len(used), km)
    if best is None:
        return
    assert decision.outcome is RouteOutcome.ROUTED
    by_id = {c.id: c for c in candidates}
    chosen = [by_id[location_id] for location_id in decision.locations]
    km = sum(c.distance_km if c.distance_km is not None else math.inf for c in chosen)
    assert decision.packages == best[0]
    assert km == pytest.approx(best[1]) or km == best[1]


def test_an_order_of_many_lines_routes() -> None:
    many = [line(f"ln{n}", f"S{n}") for n in range(40)]
    stock = {f"S{n}": 1 for n in range(40)}
    states = [
        LocationState(place("a", GeoPoint(lat=1, lon=1)), stock),
        LocationState(place("b", GeoPoint(lat=2, lon=2)), {"S0": 1}),
    ]
    decision = route(order(*many), states, RoutingRules())
    assert decision.outcome is RouteOutcome.ROUTED
    assert decision.locations == ("a",)
    partial = route(order(*many, line("x", "X")), states[1:], RoutingRules(max_splits=0))
    assert partial.unallocated == {**{f"ln{n}": 1 for n in range(1, 40)}, "x": 1}
