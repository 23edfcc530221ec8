"""Each ranking rule, and the chain: a later rule only breaks the ties an earlier one left."""

from __future__ import annotations

from decimal import Decimal

from routing_support import CHICAGO, DENVER, LOS_ANGELES, NEW_YORK, line, order, place, state, verdict

from omnibridge.routing import LocationRules, RoutingRules, VerdictKind, route


def _ranks(rules: RoutingRules, *states_: object, **lines: int) -> list[tuple[str, int | None, str]]:
    decision = route(order(*(line(sku, sku, n) for sku, n in lines.items())), list(states_), rules)  # type: ignore[arg-type]
    return [(v.location_id, v.rank, v.rule) for v in decision.verdicts]


def test_same_market_beats_distance() -> None:
    rules = RoutingRules(
        ranking=("same_market", "distance"),
        markets={"East": frozenset({"US-NY"})},
        locations={"la": LocationRules(markets=frozenset({"East"}))},
    )
    states = [state(place("chi", CHICAGO), A=5), state(place("la", LOS_ANGELES), A=5)]
    assert _ranks(rules, *states, A=1) == [("la", 1, "same_market"), ("chi", 2, "same_market")]


def test_ranked_by_location_rank_then_group_rank_then_unranked() -> None:
    rules = RoutingRules(
        ranking=("ranked", "distance"),
        group_ranks={"stores": 2},
        locations={"la": LocationRules(rank=1), "den": LocationRules(group="stores")},
    )
    states = [state(place("chi", CHICAGO), A=5), state(place("den", DENVER), A=5), state(place("la", LOS_ANGELES), A=5)]
    assert _ranks(rules, *states, A=1) == [("la", 1, "ranked"), ("den", 2, "ranked"), ("chi", 3, "ranked")]
    decision = route(order(line("A", "A")), states, rules)
    assert verdict(decision, "chi").reason == "rank 3 by ranked: unranked"
    assert verdict(decision, "den").reason == "rank 2 by ranked: rank 2"


def test_capacity_left_prefers_the_least_busy_and_unlimited_first() -> None:
    rules = RoutingRules(
        ranking=("capacity_left", "distance"),
        locations={"chi": LocationRules(daily_capacity=10), "la": LocationRules(daily_capacity=50)},
    )
    states = [
        state(place("chi", CHICAGO), assigned_today=2, A=5),
        state(place("la", LOS_ANGELES), assigned_today=30, A=5),
        state(place("den", DENVER), A=5),
    ]
    assert _ranks(rules, *states, A=1) == [
        ("den", 1, "capacity_left"),
        ("la", 2, "capacity_left"),
        ("chi", 3, "capacity_left"),
    ]


def test_inventory_balance_prefers_the_location_with_most_left() -> None:
    rules = RoutingRules(ranking=("inventory_balance", "distance"))
    states = [state(place("chi", CHICAGO), A=2), state(place("la", LOS_ANGELES), A=9)]
    decision = route(order(line("1", "A")), states, rules)
    assert decision.locations == ("la",)
    assert verdict(decision, "la").reason == "rank 1 by inventory_balance: 8 units of these SKUs left after shipping"


def test_cost_per_package_then_distance_breaks_the_tie() -> None:
    rules = RoutingRules(
        ranking=("cost", "distance"),
        locations={
            "chi": LocationRules(cost=Decimal("7")),
            "la": LocationRules(cost=Decimal("5")),
            "den": LocationRules(cost=Decimal("5")),
        },
    )
    states = [state(place("chi", CHICAGO), A=5), state(place("la", LOS_ANGELES), A=5), state(place("den", DENVER), A=5)]
    assert _ranks(rules, *states, A=1) == [("den", 1, "distance"), ("la", 2, "distance"), ("chi", 3, "cost")]


def test_all_tied_falls_back_to_the_profile_order() -> None:
    rules = RoutingRules(ranking=("ranked",))
    states = [state(place("b", CHICAGO), A=5), state(place("a", DENVER), A=5)]
    decision = route(order(line("1", "A")), states, rules)
    assert [(v.location_id, v.rule) for v in decision.verdicts] == [("b", "order"), ("a", "order")]
    assert decision.verdicts[0].reason == "rank 1 by order: tied on every rule; profile order"


def test_eliminated_locations_come_after_the_ranked_ones_with_their_distance() -> None:
    states = [state(place("ny", NEW_YORK), A=0), state(place("den", DENVER), A=5)]
    decision = route(order(line("1", "A")), states, RoutingRules())
    assert [(v.location_id, v.kind) for v in decision.verdicts] == [
        ("den", VerdictKind.CHOSEN),
        ("ny", VerdictKind.ELIMINATED),
    ]
    assert decision.verdicts[1].distance_km is not None
    assert decision.verdicts[1].distance_km < 1
