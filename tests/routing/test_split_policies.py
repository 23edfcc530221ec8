"""The split policies: never, fewest_packages (bounded by max_splits), value_threshold and greedy."""

from __future__ import annotations

from decimal import Decimal

from routing_support import CHICAGO, DENVER, LOS_ANGELES, NEW_YORK, line, order, place, state

from omnibridge.routing import RouteOutcome, RoutingRules, SplitPolicy, route

# Three locations each holding one SKU, and a far one holding two of them.
STATES = [
    state(place("ny", NEW_YORK), A=5),
    state(place("chi", CHICAGO), B=5),
    state(place("den", DENVER), C=5),
    state(place("la", LOS_ANGELES), A=5, B=5),
]


def _where(rules: RoutingRules, *skus: str, values: str | None = None) -> dict[str, str]:
    decision = route(order(*(line(sku, sku, value=values) for sku in skus)), STATES, rules)
    return {a.line_id: a.location_id for a in decision.allocations}


def test_fewest_packages_prefers_two_packages_over_three_nearer_ones() -> None:
    assert _where(RoutingRules(), "A", "B", "C") == {"A": "la", "B": "la", "C": "den"}


def test_greedy_takes_the_best_ranked_location_per_line() -> None:
    rules = RoutingRules(split=SplitPolicy.GREEDY, ranking=("distance",))
    assert _where(rules, "A", "B", "C") == {"A": "ny", "B": "chi", "C": "den"}


def test_max_splits_bounds_the_packages_and_reports_what_is_left() -> None:
    rules = RoutingRules(max_splits=0)
    decision = route(order(line("A", "A"), line("B", "B"), line("C", "C")), STATES, rules)
    assert decision.outcome is RouteOutcome.PARTIAL
    assert decision.locations == ("la",)
    assert decision.unallocated == {"C": 1}
    assert decision.reason == "not every line fits in 1 packages (max_splits)"


def test_fewest_packages_chooses_the_pair_with_the_shortest_total_distance() -> None:
    states = [
        state(place("ny", NEW_YORK), A=5),
        state(place("la", LOS_ANGELES), A=5),
        state(place("chi", CHICAGO), B=5),
        state(place("den", DENVER), B=5),
    ]
    decision = route(order(line("A", "A"), line("B", "B")), states, RoutingRules())
    assert sorted(decision.locations) == ["chi", "ny"]


def test_a_line_nobody_holds_whole_is_left_and_the_rest_ships() -> None:
    decision = route(order(line("A", "A", 9), line("B", "B")), STATES, RoutingRules())
    assert decision.outcome is RouteOutcome.PARTIAL
    assert decision.unallocated == {"A": 9}
    assert decision.locations == ("chi",)


def test_value_threshold_splits_when_both_parts_reach_it() -> None:
    rules = RoutingRules(split=SplitPolicy.VALUE_THRESHOLD, value_threshold=Decimal(50), ranking=("distance",))
    assert _where(rules, "A", "C", values="60") == {"A": "ny", "C": "den"}


def test_value_threshold_does_not_split_cheap_parts() -> None:
    rules = RoutingRules(split=SplitPolicy.VALUE_THRESHOLD, value_threshold=Decimal(50), ranking=("distance",))
    decision = route(order(line("A", "A", value="20"), line("C", "C", value="20")), STATES, rules)
    assert decision.outcome is RouteOutcome.UNROUTABLE
    assert decision.unallocated == {"A": 1, "C": 1}
    assert decision.reason == "splitting would leave a part worth less than the value threshold 50"


def test_value_threshold_ships_from_one_location_without_splitting_when_it_can() -> None:
    rules = RoutingRules(split=SplitPolicy.VALUE_THRESHOLD, value_threshold=Decimal(50), ranking=("distance",))
    assert _where(rules, "A", "B", values="20") == {"A": "la", "B": "la"}


def test_never_ships_from_the_best_single_location() -> None:
    rules = RoutingRules(split=SplitPolicy.NEVER, ranking=("distance",))
    assert _where(rules, "A", "B") == {"A": "la", "B": "la"}


def test_a_pickup_order_is_never_split_whatever_the_policy() -> None:
    from omnibridge.models import FulfilmentMethod, Location, LocationCapability, LocationType
    from omnibridge.routing import LocationState

    def shop(location_id: str, **stock: int) -> LocationState:
        where = Location(
            id=location_id, name=location_id, type=LocationType.STORE, capabilities={LocationCapability.PICKUP}
        )
        return LocationState(where, stock)

    states = [shop("a", A=1), shop("b", B=1)]
    request = order(line("A", "A"), line("B", "B"), method=FulfilmentMethod.PICKUP_IN_STORE)
    decision = route(request, states, RoutingRules(split=SplitPolicy.GREEDY))
    assert decision.outcome is RouteOutcome.UNROUTABLE
    assert decision.reason == "no single eligible location ships every line (split policy: never)"
    assert route(request, [shop("a", A=1, B=1), *states], RoutingRules()).locations == ("a",)


def test_a_split_names_the_lines_each_location_ships() -> None:
    decision = route(order(line("A", "A"), line("B", "B"), line("C", "C")), STATES, RoutingRules())
    reasons = {v.location_id: v.reason for v in decision.verdicts}
    assert (
        reasons["la"]
        == "rank 1 by fewest_packages: holds 2 of 3 lines; ships lines A, B; cannot ship C: needs 1, has 0"
    )
    assert "; ships line C;" in reasons["den"]


def test_value_threshold_says_when_a_line_is_held_nowhere() -> None:
    rules = RoutingRules(split=SplitPolicy.VALUE_THRESHOLD, value_threshold=Decimal(50), ranking=("distance",))
    decision = route(order(line("A", "A", value="60"), line("Z", "Z", value="60")), STATES, rules)
    assert decision.outcome is RouteOutcome.PARTIAL
    assert decision.locations == ("ny",)
    assert decision.unallocated == {"Z": 1}
    assert decision.reason == "no eligible location holds it whole"
