"""Properties of route() over random networks, orders and rules: it never allocates more than a location may
give (after brokering safety stock), never at a location it eliminated or the request excluded, and accounts for
every open unit."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

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
