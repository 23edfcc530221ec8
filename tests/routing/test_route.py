"""route(): eligibility, distance ranking and the never / fewest_packages split policies, end to end."""

from __future__ import annotations

from routing_support import CHICAGO, DENVER, LOS_ANGELES, NEW_YORK, line, order, place, state, verdict

from omnibridge.models import LocationType
from omnibridge.routing import RouteOutcome, RoutingRules, SplitPolicy, VerdictKind, route


def test_nearest_location_with_every_line_wins() -> None:
    states = [state(place("den", DENVER), A=5, B=5), state(place("chi", CHICAGO), A=5, B=5)]
    decision = route(order(line("1", "A"), line("2", "B")), states, RoutingRules())
    assert decision.outcome is RouteOutcome.ROUTED
    assert decision.locations == ("chi",)
    assert [a.line_id for a in decision.allocations] == ["1", "2"]
    chosen, other = decision.verdicts
    assert (chosen.location_id, chosen.kind, chosen.rank, chosen.rule) == ("chi", VerdictKind.CHOSEN, 1, "distance")
    assert (other.location_id, other.kind, other.rank, other.rule) == ("den", VerdictKind.RANKED, 2, "distance")
    assert chosen.distance_km is not None
    assert 1100 < chosen.distance_km < 1200
    assert "km away" in other.reason


def test_a_location_with_every_line_beats_a_nearer_one_with_some() -> None:
    states = [state(place("chi", CHICAGO), A=5), state(place("den", DENVER), A=5, B=5)]
    decision = route(order(line("1", "A"), line("2", "B")), states, RoutingRules())
    assert decision.locations == ("den",)
    assert verdict(decision, "den").rule == "fewest_packages"
    assert "holds every line" in verdict(decision, "den").reason


def test_inactive_pickup_only_excluded_and_not_pinned_locations_are_eliminated_with_their_rule() -> None:
    states = [
        state(place("off", NEW_YORK, active=False), A=5),
        state(place("shop", NEW_YORK, type=LocationType.STORE, ships=False), A=5),
        state(place("gone", NEW_YORK), A=5),
        state(place("den", DENVER), A=5),
        state(place("la", LOS_ANGELES), A=5),
    ]
    decision = route(order(line("1", "A"), excluded=frozenset({"gone"}), pinned="la"), states, RoutingRules())
    assert decision.locations == ("la",)
    rules = {v.location_id: (v.kind, v.rule) for v in decision.verdicts}
    assert rules["gone"] == (VerdictKind.ELIMINATED, "excluded")
    assert rules["off"] == (VerdictKind.ELIMINATED, "pinned")
    assert rules["den"] == (VerdictKind.ELIMINATED, "pinned")
    unpinned = route(order(line("1", "A")), states, RoutingRules())
    assert verdict(unpinned, "off").rule == "active"
    assert verdict(unpinned, "shop").rule == "capability"
    assert verdict(unpinned, "shop").reason == "cannot ship (capabilities: pickup)"


def test_supplier_and_3pl_ship_without_a_declared_capability() -> None:
    states = [
        state(place("sup", DENVER, type=LocationType.SUPPLIER, ships=False), A=5),
        state(place("tpl", CHICAGO, type=LocationType.THIRD_PARTY_LOGISTICS, ships=False), A=5),
    ]
    decision = route(order(line("1", "A")), states, RoutingRules())
    assert decision.locations == ("tpl",)
    assert verdict(decision, "sup").kind is VerdictKind.RANKED


def test_a_location_without_enough_stock_for_any_line_is_eliminated_by_stock() -> None:
    states = [state(place("chi", CHICAGO), A=1), state(place("den", DENVER), A=3)]
    decision = route(order(line("1", "A", 2)), states, RoutingRules())
    assert decision.locations == ("den",)
    assert verdict(decision, "chi").rule == "stock"
    assert verdict(decision, "chi").reason == "can ship none of the lines: A: needs 2, has 1"


def test_nothing_anywhere_is_unroutable_with_every_unit_reported() -> None:
    decision = route(order(line("1", "A", 2), line("2", "B")), [state(place("den", DENVER))], RoutingRules())
    assert decision.outcome is RouteOutcome.UNROUTABLE
    assert decision.unallocated == {"1": 2, "2": 1}
    assert decision.reason == "no location is eligible"


def test_fewest_packages_splits_across_the_nearest_pair() -> None:
    states = [
        state(place("la", LOS_ANGELES), A=5),
        state(place("chi", CHICAGO), A=5),
        state(place("den", DENVER), B=5),
    ]
    decision = route(order(line("1", "A"), line("2", "B")), states, RoutingRules())
    assert decision.outcome is RouteOutcome.ROUTED
    assert sorted(decision.locations) == ["chi", "den"]
    assert decision.packages == 2


def test_never_split_leaves_the_order_unallocated_when_no_single_location_has_everything() -> None:
    states = [state(place("chi", CHICAGO), A=5), state(place("den", DENVER), B=5)]
    decision = route(order(line("1", "A"), line("2", "B")), states, RoutingRules(split=SplitPolicy.NEVER))
    assert decision.outcome is RouteOutcome.UNROUTABLE
    assert decision.allocations == ()
    assert decision.unallocated == {"1": 1, "2": 1}
    assert "split policy: never" in decision.reason


def test_two_lines_of_one_sku_share_a_locations_stock() -> None:
    states = [state(place("chi", CHICAGO), A=3), state(place("den", DENVER), A=3)]
    decision = route(order(line("1", "A", 2), line("2", "A", 2)), states, RoutingRules())
    assert decision.packages == 2
    assert {a.line_id: a.location_id for a in decision.allocations} == {"1": "chi", "2": "den"}
