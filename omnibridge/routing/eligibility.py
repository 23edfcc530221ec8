"""Stage 1: which locations may ship which lines of an order.

Each location is either eliminated (a :class:`~omnibridge.routing.model.Verdict` naming the rule and why) or a
:class:`Candidate` with the lines it can ship whole. Rules, in the order they are checked: ``excluded``,
``pinned``, ``active``, ``capability``, ``channel``, ``region``, ``capacity``, ``carrier``, then per line
``product`` (allow/deny lists), ``catalogue`` (a supplier's SKUs) and ``stock`` (available after the brokering
safety stock), and last ``cutoff`` (a location past its carrier cutoff is left out while another can still ship
today; when every one is past its cutoff, none is left out for it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from omnibridge.models import FulfilmentMethod, LocationCapability, LocationType
from omnibridge.routing.distance import DistanceSource
from omnibridge.routing.model import LocationState, RouteLine, RouteRequest, Verdict, VerdictKind
from omnibridge.routing.rules import RoutingRules

_SHIPS_BY_NATURE = frozenset({LocationType.SUPPLIER, LocationType.THIRD_PARTY_LOGISTICS})
_NEEDS = {
    FulfilmentMethod.SHIP: LocationCapability.SHIPS,
    FulfilmentMethod.SHIP_FROM_STORE: LocationCapability.SHIPS,
    FulfilmentMethod.PICKUP_IN_STORE: LocationCapability.PICKUP,
    FulfilmentMethod.CURBSIDE: LocationCapability.CURBSIDE,
}
_VERBS = {
    LocationCapability.SHIPS: "ship",
    LocationCapability.PICKUP: "offer pickup",
    LocationCapability.CURBSIDE: "offer curbside",
}


@dataclass(frozen=True, slots=True)
class Candidate:
    """An eligible location: ``stock`` is what routing may take there per SKU of the order (available minus the
    brokering safety stock), ``lines`` the ids of the lines it can ship whole, ``distance`` kilometres or why
    there is no figure, ``notes`` why it cannot ship the other lines."""

    state: LocationState
    stock: Mapping[str, int]
    lines: frozenset[str]
    distance: float | str
    notes: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.state.location.id

    @property
    def distance_km(self) -> float | None:
        return self.distance if isinstance(self.distance, float) else None


@dataclass(frozen=True, slots=True)
class Eligibility:
    candidates: tuple[Candidate, ...]
    eliminated: tuple[Verdict, ...]


def check(
    request: RouteRequest, states: Sequence[LocationState], rules: RoutingRules, distance: DistanceSource
) -> Eligibility:
    """Split ``states`` into candidates and eliminated locations for ``request`` under ``rules``."""
    candidates: list[Candidate] = []
    eliminated: list[Verdict] = []
    for state in states:
        measured = distance.measure(state.location, request.destination)
        km = measured if isinstance(measured, float) else None
        refusal = _refuse(request, state, rules)
        if refusal is None:
            candidate, refusal = _lines(request, state, rules, measured)
            if candidate is not None:
                candidates.append(candidate)
                continue
        assert refusal is not None
        rule, reason = refusal
        eliminated.append(Verdict(state.location.id, VerdictKind.ELIMINATED, rule, reason, distance_km=km))
    kept, late = _cutoff(request, candidates, rules)
    eliminated.extend(late)
    return Eligibility(tuple(kept), tuple(eliminated))


def _refuse(request: RouteRequest, state: LocationState, rules: RoutingRules) -> tuple[str, str] | None:
    location = state.location
    own = rules.location(location.id)
    if location.id in request.excluded:
        return "excluded", "excluded from this order (rejected it, or excluded by the operator)"
    if request.pinned is not None and location.id != request.pinned:
        return "pinned", f"the order is pinned to {request.pinned}"
    if not location.active:
        return "active", "inactive"
    needed = _NEEDS[request.method]
    if needed not in location.capabilities and not (
        needed is LocationCapability.SHIPS and location.type in _SHIPS_BY_NATURE
    ):
        held = _listed(c.value for c in location.capabilities)
        return "capability", f"cannot {_VERBS[needed]} (capabilities: {held})"
    allowed = rules.channel_locations.get(request.channel)
    if allowed is not None and not (rules.names(location.id) & allowed):
        return "channel", f"not a location for channel {request.channel} (allowed: {_listed(allowed)})"
    if own.ships_to is not None and not rules.in_market(own.ships_to, request.destination):
        return "region", f"does not ship to {_where(request)} (ships to: {_listed(own.ships_to)})"
    if rules.enforce_capacity and own.daily_capacity is not None and state.assigned_today >= own.daily_capacity:
        return "capacity", f"daily capacity reached ({state.assigned_today} of {own.daily_capacity} orders today)"
    promised = rules.carrier.promised_days
    if promised is not None and request.carrier_quotes:
        quotes = request.carrier_quotes.get(location.id, ())
        if not any(q.days is not None and q.days <= promised for q in quotes):
            return "carrier", f"no carrier service reaches {_where(request)} within {promised} days"
    return None


def _lines(
    request: RouteRequest, state: LocationState, rules: RoutingRules, measured: float | str
) -> tuple[Candidate | None, tuple[str, str] | None]:
    location_id = state.location.id
    names = rules.names(location_id)
    own = rules.location(location_id)
    safety = rules.safety_stock_at(location_id)
    stock = {line.sku: max(0, state.available.get(line.sku, 0) - safety) for line in request.lines}
    lines: set[str] = set()
    notes: list[tuple[str, str]] = []
    for line in request.lines:
        blocked = _product_block(line, names, rules)
        if blocked is not None:
            notes.append(("product", blocked))
        elif own.skus is not None and line.sku not in own.skus:
            notes.append(("catalogue", f"{line.sku} is not in its catalogue"))
        elif stock[line.sku] < line.quantity:
            held = f"{stock[line.sku]} after safety stock {safety}" if safety else str(stock[line.sku])
            notes.append(("stock", f"{line.sku}: needs {line.quantity}, has {held}"))
        else:
            lines.add(line.line_id)
    if lines:
        return Candidate(state, stock, frozenset(lines), measured, tuple(text for _, text in notes)), None
    kinds = {kind for kind, _ in notes}
    rule = kinds.pop() if len(kinds) == 1 else "stock"
    return None, (rule, "can ship none of the lines: " + "; ".join(text for _, text in notes))


def _product_block(line: RouteLine, names: frozenset[str], rules: RoutingRules) -> str | None:
    for product in rules.products:
        if not product.applies(line.sku, line.product_type):
            continue
        if names & product.never_at:
            return f"{line.sku} ({product.name}) never ships from here"
        if product.only_at is not None and not (names & product.only_at):
            return f"{line.sku} ({product.name}) ships only from {_listed(product.only_at)}"
    return None


def _cutoff(
    request: RouteRequest, candidates: list[Candidate], rules: RoutingRules
) -> tuple[list[Candidate], list[Verdict]]:
    if not rules.enforce_cutoff:
        return candidates, []
    late = {c.id: passed for c in candidates if (passed := _past_cutoff(request.now, c.id, rules)) is not None}
    if not late or len(late) == len(candidates):
        return candidates, []
    verdicts = [
        Verdict(c.id, VerdictKind.ELIMINATED, "cutoff", late[c.id], distance_km=c.distance_km)
        for c in candidates
        if c.id in late
    ]
    return [c for c in candidates if c.id not in late], verdicts


def _past_cutoff(now: datetime, location_id: str, rules: RoutingRules) -> str | None:
    own = rules.location(location_id)
    if own.cutoff is None:
        return None
    zone_name = own.timezone or rules.timezone
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = (now if now.tzinfo is not None else now.replace(tzinfo=UTC)).astimezone(zone)
    if local.time() < own.cutoff:
        return None
    return f"past its carrier cutoff {own.cutoff:%H:%M} ({zone_name}; now {local:%H:%M}) while others ship today"


def _where(request: RouteRequest) -> str:
    destination = request.destination
    if destination is None:
        return "an unknown destination"
    return f"{destination.country}-{destination.region}" if destination.region else str(destination.country)


def _listed(items: Iterable[object]) -> str:
    values = sorted(str(item) for item in items)
    return ", ".join(values) if values else "none"
