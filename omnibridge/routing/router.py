"""``route()``: one order through the three stages of a strategy, into a :class:`RoutingDecision`."""

from __future__ import annotations

from collections.abc import Sequence

from omnibridge.routing.distance import DistanceSource, distance_source
from omnibridge.routing.model import LocationState, RouteOutcome, RouteRequest, RoutingDecision, Verdict, VerdictKind
from omnibridge.routing.ranking import Ranked
from omnibridge.routing.rules import RoutingRules
from omnibridge.routing.strategies import Strategy, strategy


def route(
    request: RouteRequest,
    states: Sequence[LocationState],
    rules: RoutingRules | None = None,
    *,
    distance: DistanceSource | None = None,
    using: Strategy | None = None,
) -> RoutingDecision:
    """Decide where each line of ``request`` ships from, given every location's ``states`` and the ``rules``.

    Pure: reads nothing but its arguments. ``distance`` defaults to the source ``rules.distance`` names and
    ``using`` to the strategy ``rules.strategy`` names. The decision has one verdict per location in ``states``:
    chosen and ranked ones in rank order, then the eliminated ones with the rule that ruled each out.
    """
    rules = rules if rules is not None else RoutingRules()
    measure = distance if distance is not None else distance_source(rules.distance)
    chosen_strategy = using if using is not None else strategy(rules.strategy)
    eligible = chosen_strategy.eligible(request, states, rules, measure)
    ranked = chosen_strategy.rank(eligible, request, rules)
    plan = chosen_strategy.allocate(ranked, request, rules)
    shipped: dict[str, list[str]] = {}
    for allocation in plan.allocations:
        shipped.setdefault(allocation.location_id, []).append(allocation.line_id)
    verdicts = tuple(_verdict(member, shipped.get(member.candidate.id, []), request) for member in ranked)
    unallocated = {line_id: units for line_id, units in plan.unallocated.items() if units > 0}
    if not unallocated:
        outcome, reason = RouteOutcome.ROUTED, ""
    elif plan.allocations:
        outcome, reason = RouteOutcome.PARTIAL, plan.reason
    else:
        outcome = RouteOutcome.UNROUTABLE
        reason = plan.reason if ranked else "no location is eligible"
    return RoutingDecision(
        order_id=request.order_id,
        outcome=outcome,
        allocations=plan.allocations,
        verdicts=verdicts + eligible.eliminated,
        strategy=chosen_strategy.name,
        reason=reason,
        unallocated=unallocated,
    )


def _verdict(member: Ranked, shipped: list[str], request: RouteRequest) -> Verdict:
    reason = f"rank {member.rank} by {member.rule}: {member.reason}"
    if member.candidate.distance_km is None and member.rule != "distance":
        reason += f"; {member.candidate.distance}"
    if shipped and len(shipped) < len(request.lines):
        reason += f"; ships line{'s' if len(shipped) > 1 else ''} {', '.join(shipped)}"
    if member.candidate.notes:
        reason += "; cannot ship " + "; ".join(member.candidate.notes)
    return Verdict(
        location_id=member.candidate.id,
        kind=VerdictKind.CHOSEN if shipped else VerdictKind.RANKED,
        rule=member.rule,
        reason=reason,
        rank=member.rank,
        distance_km=member.candidate.distance_km,
    )
