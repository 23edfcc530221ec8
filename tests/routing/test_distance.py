"""Distance sources: haversine over coordinates, postal-code centroids, and a missing coordinate explained."""

from __future__ import annotations

import pytest
from routing_support import CHICAGO, DENVER, line, order, place, state, verdict

from omnibridge.models import Address, Location
from omnibridge.routing import RoutingRules, route
from omnibridge.routing.distance import Haversine, PostalCentroid, UnknownDistanceSource, distance_source


def test_a_location_without_coordinates_ranks_last_and_says_why() -> None:
    states = [state(place("nowhere", None), A=5), state(place("den", DENVER), A=5)]
    decision = route(order(line("1", "A")), states, RoutingRules())
    assert decision.locations == ("den",)
    nowhere = verdict(decision, "nowhere")
    assert nowhere.distance_km is None
    assert nowhere.reason == "rank 2 by distance: no coordinates for location 'nowhere'"


def test_a_destination_without_coordinates_is_explained_for_every_location() -> None:
    states = [state(place("chi", CHICAGO), A=5), state(place("den", DENVER), A=5)]
    decision = route(order(line("1", "A"), to=None, postal_code="10001"), states, RoutingRules())
    assert decision.locations == ("chi",)
    assert verdict(decision, "chi").reason == (
        "rank 1 by order: tied on every rule; profile order; no coordinates for the destination (postal code 10001)"
    )
    eliminated_far = route(order(line("1", "B"), to=None), states, RoutingRules())
    assert all(v.distance_km is None for v in eliminated_far.verdicts)


def test_no_destination_at_all_still_routes() -> None:
    request = order(line("1", "A"))
    from dataclasses import replace

    decision = route(replace(request, destination=None), [state(place("den", DENVER), A=5)], RoutingRules())
    assert decision.locations == ("den",)
    assert Haversine().measure(place("den", DENVER), None) == "no destination address"


def test_postal_source_places_a_us_zip_at_its_centroid() -> None:
    pytest.importorskip("zipcodes")
    source = PostalCentroid()
    km = source.measure(place("den", DENVER), Address(country="US", postal_code="10001"))
    assert isinstance(km, float)
    assert 2600 < km < 2650
    unknown = source.measure(place("den", DENVER), Address(country="US", postal_code="00000"))
    assert unknown == "no coordinates for the destination (postal code 00000)"
    abroad = source.measure(place("den", DENVER), Address(country="DE", postal_code="10115"))
    assert abroad == "no coordinates for the destination (postal code 10115)"


def test_postal_source_locates_a_location_by_its_address() -> None:
    pytest.importorskip("zipcodes")
    store = Location(id="s", name="s", type="store", address=Address(country="US", postal_code="80202"))
    km = PostalCentroid().measure(store, Address(country="US", postal_code="80301"))
    assert isinstance(km, float)
    assert 20 < km < 60


def test_route_with_the_postal_source_named_by_the_rules() -> None:
    pytest.importorskip("zipcodes")
    states = [state(place("chi", CHICAGO), A=5), state(place("den", DENVER), A=5)]
    decision = route(order(line("1", "A"), to=None, postal_code="80301"), states, RoutingRules(distance="postal"))
    assert decision.locations == ("den",)
    assert verdict(decision, "den").rule == "distance"


def test_an_unknown_source_is_a_one_line_error() -> None:
    with pytest.raises(
        UnknownDistanceSource, match=r"^unknown distance source 'crow': expected one of haversine, postal"
    ):
        distance_source("crow")


class _Flat:
    name = "flat"

    def measure(self, location: Location, destination: Address | None) -> float | str:
        return 5.0


def test_a_distance_source_plugin_from_the_entry_point_group(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata
    from typing import Any

    point = importlib.metadata.EntryPoint(name="flat", value=f"{__name__}:_Flat", group="omnibridge.distance_sources")
    real = importlib.metadata.entry_points

    def entry_points(**params: str) -> Any:
        if params.get("group") == "omnibridge.distance_sources":
            return importlib.metadata.EntryPoints([point] if params.get("name") in (None, "flat") else [])
        return real(**params)

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    decision = route(order(line("1", "A")), [state(place("den", DENVER), A=5)], RoutingRules(distance="flat"))
    assert decision.verdicts[0].distance_km == 5.0
