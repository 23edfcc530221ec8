"""Each eligibility rule eliminates a location with its rule name and a reason a merchant reads."""

from __future__ import annotations

from datetime import UTC, datetime, time

from routing_support import CHICAGO, DENVER, NEW_YORK, line, order, place, state, verdict

from omnibridge.models import LocationType
from omnibridge.routing import (
    CarrierQuote,
    LocationRules,
    ProductRule,
    RouteOutcome,
    RoutingRules,
    VerdictKind,
    route,
)
from omnibridge.routing.rules import CarrierRule


def test_channel_allowed_locations_by_id_or_group() -> None:
    rules = RoutingRules(
        channel_locations={"web": frozenset({"stores"})},
        locations={"ny-store": LocationRules(group="stores")},
    )
    states = [state(place("wh", NEW_YORK), A=5), state(place("ny-store", CHICAGO, type=LocationType.STORE), A=5)]
    decision = route(order(line("1", "A")), states, rules)
    assert decision.locations == ("ny-store",)
    assert verdict(decision, "wh").rule == "channel"
    assert verdict(decision, "wh").reason == "not a location for channel web (allowed: stores)"
    assert route(order(line("1", "A"), channel="amazon"), states, rules).locations == ("wh",)


def test_region_rule_by_market_name_country_or_region_code() -> None:
    rules = RoutingRules(
        markets={"US-East": frozenset({"US-NY", "US-NJ"})},
        locations={
            "chi": LocationRules(ships_to=frozenset({"US-East"})),
            "den": LocationRules(ships_to=frozenset({"CA"})),
        },
    )
    states = [state(place("chi", CHICAGO), A=5), state(place("den", DENVER), A=5)]
    decision = route(order(line("1", "A"), region="NY"), states, rules)
    assert decision.locations == ("chi",)
    assert verdict(decision, "den").rule == "region"
    assert verdict(decision, "den").reason == "does not ship to US-NY (ships to: CA)"
    elsewhere = route(order(line("1", "A"), region="CA"), states, rules)
    assert elsewhere.outcome is RouteOutcome.UNROUTABLE


def test_product_rules_deny_and_allow_per_line_by_type_or_sku() -> None:
    rules = RoutingRules(
        products=(
            ProductRule("hazmat", product_types=frozenset({"fuel"}), never_at=frozenset({"stores"})),
            ProductRule("oversize", skus=frozenset({"KAYAK"}), only_at=frozenset({"wh"})),
        ),
        locations={"shop": LocationRules(group="stores")},
    )
    states = [
        state(place("shop", NEW_YORK, type=LocationType.STORE), GAS=5, KAYAK=5, A=5),
        state(place("wh", DENVER), GAS=5),
    ]
    decision = route(order(line("1", "GAS", product_type="fuel")), states, rules)
    assert decision.locations == ("wh",)
    assert verdict(decision, "shop").rule == "product"
    assert verdict(decision, "shop").reason == "can ship none of the lines: GAS (hazmat) never ships from here"
    kayak = route(order(line("1", "KAYAK")), states, rules)
    assert verdict(kayak, "shop").reason == "can ship none of the lines: KAYAK (oversize) ships only from wh"
    mixed = route(order(line("1", "A"), line("2", "GAS", product_type="fuel")), states, rules)
    assert {a.line_id: a.location_id for a in mixed.allocations} == {"1": "shop", "2": "wh"}
    assert "cannot ship GAS (hazmat) never ships from here" in verdict(mixed, "shop").reason


def test_a_supplier_ships_only_its_catalogue() -> None:
    rules = RoutingRules(locations={"sup": LocationRules(skus=frozenset({"A"}))})
    states = [state(place("sup", NEW_YORK, type=LocationType.SUPPLIER), A=5, B=5), state(place("wh", DENVER), B=5)]
    decision = route(order(line("1", "A"), line("2", "B")), states, rules)
    assert {a.line_id: a.location_id for a in decision.allocations} == {"1": "sup", "2": "wh"}
    only_b = route(order(line("2", "B")), states, rules)
    assert verdict(only_b, "sup").rule == "catalogue"
    assert verdict(only_b, "sup").reason == "can ship none of the lines: B is not in its catalogue"


def test_brokering_safety_stock_is_held_back_per_location_or_by_default() -> None:
    rules = RoutingRules(safety_stock=1, locations={"den": LocationRules(safety_stock=0)})
    states = [state(place("chi", CHICAGO), A=2), state(place("den", DENVER), A=2)]
    decision = route(order(line("1", "A", 2)), states, rules)
    assert decision.locations == ("den",)
    assert verdict(decision, "chi").reason == "can ship none of the lines: A: needs 2, has 1 after safety stock 1"


def test_daily_capacity_reached_eliminates_unless_not_enforced() -> None:
    rules = RoutingRules(locations={"chi": LocationRules(daily_capacity=10)})
    states = [state(place("chi", CHICAGO), assigned_today=10, A=5), state(place("den", DENVER), A=5)]
    decision = route(order(line("1", "A")), states, rules)
    assert decision.locations == ("den",)
    assert verdict(decision, "chi").rule == "capacity"
    assert verdict(decision, "chi").reason == "daily capacity reached (10 of 10 orders today)"
    relaxed = RoutingRules(locations=rules.locations, enforce_capacity=False)
    assert route(order(line("1", "A")), states, relaxed).locations == ("chi",)


def test_cutoff_passed_eliminates_while_another_location_still_ships_today() -> None:
    rules = RoutingRules(
        timezone="America/Chicago",
        locations={
            "chi": LocationRules(cutoff=time(14, 0)),
            "den": LocationRules(cutoff=time(15, 0), timezone="America/Denver"),
        },
    )
    states = [state(place("chi", CHICAGO), A=5), state(place("den", DENVER), A=5)]
    at_1430_chicago = datetime(2026, 3, 2, 20, 30, tzinfo=UTC)  # 14:30 in Chicago, 13:30 in Denver
    decision = route(order(line("1", "A"), now=at_1430_chicago), states, rules)
    assert decision.locations == ("den",)
    assert verdict(decision, "chi").rule == "cutoff"
    assert verdict(decision, "chi").reason == (
        "past its carrier cutoff 14:00 (America/Chicago; now 14:30) while others ship today"
    )
    evening = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # every cutoff passed: nobody is left out for it
    assert route(order(line("1", "A"), now=evening), states, rules).locations == ("chi",)


def test_carrier_rule_keeps_locations_with_a_service_in_the_promised_days_and_ranks_by_cost() -> None:
    from decimal import Decimal

    rules = RoutingRules(carrier=CarrierRule(promised_days=2), ranking=("carrier", "distance"))
    quotes = {
        "chi": (CarrierQuote("ups", "ground", 4, Decimal("8")), CarrierQuote("ups", "2day", 2, Decimal("20"))),
        "den": (CarrierQuote("usps", "priority", 2, Decimal("12")),),
        "la": (CarrierQuote("usps", "ground", 5, Decimal("6")),),
    }
    states = [state(place("chi", CHICAGO), A=5), state(place("den", DENVER), A=5), state(place("la", DENVER), A=5)]
    decision = route(order(line("1", "A"), carrier_quotes=quotes), states, rules)
    assert decision.locations == ("den",)
    assert verdict(decision, "den").reason == "rank 1 by carrier: cheapest carrier quote 12.00"
    assert verdict(decision, "chi").rank == 2
    assert verdict(decision, "la").kind is VerdictKind.ELIMINATED
    assert verdict(decision, "la").reason == "no carrier service reaches US-NY within 2 days"
    without_quotes = route(order(line("1", "A")), states, rules)
    assert without_quotes.locations == ("chi",)
