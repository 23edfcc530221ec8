"""Routing strategies: the three stages as a plugin.

A strategy has the shape of Vendure's ``StockLocationStrategy``: ``eligible`` (stage 1), ``rank`` (stage 2) and
``allocate`` (stage 3). The built-in ``default`` strategy is the rule engine of this package; others are
registered in the ``omnibridge.routing_strategies`` entry-point group, named by strategy name and pointing at a
:class:`Strategy` object or a zero-argument callable returning one::

    [project.entry-points."omnibridge.routing_strategies"]
    nearest-only = "my_package.routing:NearestOnly"

The profile picks one with ``routing: {strategy: NAME}``.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from omnibridge.routing import allocation, eligibility, ranking
from omnibridge.routing.allocation import Plan
from omnibridge.routing.distance import DistanceSource
from omnibridge.routing.eligibility import Eligibility
from omnibridge.routing.model import LocationState, RouteRequest
from omnibridge.routing.ranking import Ranked
from omnibridge.routing.rules import RoutingRules

ENTRY_POINT_GROUP = "omnibridge.routing_strategies"


@runtime_checkable
class Strategy(Protocol):
    """The three stages of routing one order."""

    name: str

    def eligible(
        self, request: RouteRequest, states: Sequence[LocationState], rules: RoutingRules, distance: DistanceSource
    ) -> Eligibility:
        """Which locations may ship which lines; the others with the rule that ruled them out."""
        ...

    def rank(self, eligible: Eligibility, request: RouteRequest, rules: RoutingRules) -> tuple[Ranked, ...]:
        """The candidates best first, each with the rule that placed it."""
        ...

    def allocate(self, ranked: Sequence[Ranked], request: RouteRequest, rules: RoutingRules) -> Plan:
        """Which lines ship from which of the ranked locations."""
        ...


class DefaultStrategy:
    """The rule engine: :mod:`~omnibridge.routing.eligibility`, :mod:`~omnibridge.routing.ranking` and
    :mod:`~omnibridge.routing.allocation` driven by the profile's rules."""

    name = "default"

    def eligible(
        self, request: RouteRequest, states: Sequence[LocationState], rules: RoutingRules, distance: DistanceSource
    ) -> Eligibility:
        return eligibility.check(request, states, rules, distance)

    def rank(self, eligible: Eligibility, request: RouteRequest, rules: RoutingRules) -> tuple[Ranked, ...]:
        return ranking.rank(eligible.candidates, request, rules)

    def allocate(self, ranked: Sequence[Ranked], request: RouteRequest, rules: RoutingRules) -> Plan:
        return allocation.allocate(ranked, request, rules)


class UnknownStrategy(LookupError):
    """No routing strategy has that name, or its plugin did not load."""


_BUILT_IN: Mapping[str, Strategy] = {"default": DefaultStrategy()}
_registered: dict[str, Strategy] = {}


def register(strategy: Strategy) -> None:
    """Register ``strategy`` under its name for this process (tests and embedding applications)."""
    _registered[strategy.name] = strategy


def unregister(name: str) -> None:
    """Forget a strategy registered with :func:`register`."""
    _registered.pop(name, None)


def strategy(name: str) -> Strategy:
    """The strategy called ``name``: built in, registered, or from the entry-point group."""
    found = _BUILT_IN.get(name) or _registered.get(name)
    if found is not None:
        return found
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP, name=name):
        try:
            loaded = entry_point.load()
            made = loaded() if isinstance(loaded, type) or not isinstance(loaded, Strategy) else loaded
        except Exception as exc:
            raise UnknownStrategy(f"routing strategy {name!r} ({entry_point.value}) did not load: {exc}") from exc
        if not isinstance(made, Strategy):
            raise UnknownStrategy(
                f"routing strategy {name!r} ({entry_point.value}) is a {type(made).__name__}, expected a Strategy"
            )
        _registered[name] = made
        return made
    raise UnknownStrategy(f"unknown routing strategy {name!r}: expected one of {', '.join(known_strategies())}")


def known_strategies() -> list[str]:
    """Every strategy name available: built in, registered and installed."""
    installed = {entry_point.name for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}
    return sorted(set(_BUILT_IN) | set(_registered) | installed)
