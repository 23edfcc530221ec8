"""Order routing: decide per order where each line ships from, reserve there, explain why.

The router is a pure function over values (:mod:`omnibridge.routing.model`); the service runs it inside the
unit of work that reserves its decision and records it. ``route(request, states, rules, distance=...)`` is the
entry point; the rules are :class:`~omnibridge.routing.rules.RoutingRules` (from the profile's ``routing:``).
"""

from omnibridge.routing.model import (
    Allocation,
    CarrierQuote,
    LocationState,
    RouteLine,
    RouteOutcome,
    RouteRequest,
    RoutingDecision,
    Verdict,
    VerdictKind,
)
from omnibridge.routing.router import route
from omnibridge.routing.rules import LocationRules, ProductRule, RoutingRules, SplitPolicy

__all__ = [
    "Allocation",
    "CarrierQuote",
    "LocationRules",
    "LocationState",
    "ProductRule",
    "RouteLine",
    "RouteOutcome",
    "RouteRequest",
    "RoutingDecision",
    "RoutingRules",
    "SplitPolicy",
    "Verdict",
    "VerdictKind",
    "route",
]
