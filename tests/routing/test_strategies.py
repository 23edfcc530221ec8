"""Strategy plugins: found through the ``omnibridge.routing_strategies`` entry-point group or registered."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from routing_support import CHICAGO, DENVER, line, order, place, state

from omnibridge.routing import RouteRequest, RoutingRules, route
from omnibridge.routing.allocation import Plan
from omnibridge.routing.distance import DistanceSource
from omnibridge.routing.model import Allocation
from omnibridge.routing.ranking import Ranked
from omnibridge.routing.strategies import (
    DefaultStrategy,
    UnknownStrategy,
    known_strategies,
    register,
    strategy,
    unregister,
)


class FarthestFirst(DefaultStrategy):
    """A test strategy: the default rules, but the farthest location ships everything."""

    name = "farthest"

    def allocate(self, ranked: Sequence[Ranked], request: RouteRequest, rules: RoutingRules) -> Plan:
        last = ranked[-1].candidate.id
        return Plan(tuple(Allocation(x.line_id, x.sku, last, x.quantity) for x in request.lines))


STATES = [state(place("chi", CHICAGO), A=5), state(place("den", DENVER), A=5)]


@pytest.fixture
def entry_point(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    point = importlib.metadata.EntryPoint(
        name="farthest", value=f"{__name__}:FarthestFirst", group="omnibridge.routing_strategies"
    )
    real = importlib.metadata.entry_points

    def entry_points(**params: str) -> Any:
        if params.get("group") == "omnibridge.routing_strategies":
            found = [point] if params.get("name") in (None, "farthest") else []
            return importlib.metadata.EntryPoints(found)
        return real(**params)

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    yield
    unregister("farthest")


def test_the_built_in_default_strategy_decides_by_default() -> None:
    assert route(order(line("1", "A")), STATES, RoutingRules()).strategy == "default"
    assert "default" in known_strategies()


def test_a_strategy_from_the_entry_point_group_is_used_when_the_rules_name_it(entry_point: None) -> None:
    assert "farthest" in known_strategies()
    decision = route(order(line("1", "A")), STATES, RoutingRules(strategy="farthest"))
    assert decision.strategy == "farthest"
    assert decision.locations == ("den",)
    assert isinstance(strategy("farthest"), FarthestFirst)


def test_a_registered_strategy_and_an_unknown_one() -> None:
    register(FarthestFirst())
    try:
        assert route(order(line("1", "A")), STATES, RoutingRules(strategy="farthest")).locations == ("den",)
    finally:
        unregister("farthest")
    with pytest.raises(UnknownStrategy, match=r"^unknown routing strategy 'farthest': expected one of default"):
        route(order(line("1", "A")), STATES, RoutingRules(strategy="farthest"))


def test_an_entry_point_that_is_not_a_strategy_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    point = importlib.metadata.EntryPoint(name="bad", value="decimal:Decimal", group="omnibridge.routing_strategies")
    real = importlib.metadata.entry_points

    def entry_points(**params: str) -> Any:
        if params.get("group") == "omnibridge.routing_strategies":
            return importlib.metadata.EntryPoints([point])
        return real(**params)

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    with pytest.raises(
        UnknownStrategy, match=r"^routing strategy 'bad' \(decimal:Decimal\) is a Decimal, expected a Strategy$"
    ):
        strategy("bad")


def test_a_strategy_passed_directly_with_a_custom_distance_source() -> None:
    class Flat:
        name = "flat"

        def measure(self, location: object, destination: object) -> float | str:
            return 1.0

    flat: DistanceSource = Flat()
    decision = route(order(line("1", "A")), STATES, RoutingRules(), distance=flat, using=FarthestFirst())
    assert decision.locations == ("den",)
    assert all(v.distance_km == 1.0 for v in decision.verdicts)
