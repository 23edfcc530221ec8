"""The pickup decision: which stores can hand over ``quantity`` of a SKU near a customer, and in which window.

A store qualifies when it is active and not excluded, offers pickup (curbside, if asked) and has pickup hours,
lies within ``radius_km``, holds the quantity after the brokering safety stock (the router's figure,
:mod:`omnibridge.routing.eligibility`), and has a window with a free place starting at or after now + its prep
time. Each store's window is found in this order (its ``step``):

1. ``first_window``: the store's first window;
2. ``later_window_today``: a later window on the store's local today;
3. ``later_day``: a window on a later day, up to ``horizon_days`` after today.

Then the answer as a whole falls back (``fallback``): the nearest store's own step, else ``next_store`` (a
nearer store offering it was left out: no stock, closed or full, or excluded), else ``unavailable``. With
``ship_if_unavailable`` the answer only *reports* that shipping is the policy's alternative; it never books one.

:func:`decide` is pure (plain inputs); :class:`omnibridge.pickup.desk.PickupDesk` reads the store for it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from omnibridge.models import Address, GeoPoint, Location, LocationCapability
from omnibridge.pickup.rules import PickupRules
from omnibridge.pickup.windows import Window, windows
from omnibridge.routing.distance import DistanceSource, Haversine

__all__ = ["FALLBACKS", "LeftOut", "PickupOffer", "PickupOptions", "PickupRequest", "StoreStock", "decide"]

BookedKey = tuple[str, datetime]
"""(location id, window start in UTC)."""
Step = Literal["first_window", "later_window_today", "later_day"]
Fallback = Literal["first_window", "later_window_today", "later_day", "next_store", "unavailable"]
FALLBACKS: tuple[Fallback, ...] = ("first_window", "later_window_today", "later_day", "next_store", "unavailable")
_PASSED_OVER = frozenset({"excluded", "no_stock", "closed", "full"})
"""Reasons that make a farther store a fallback (the nearer one offers pickup within the radius)."""


@dataclass(frozen=True, slots=True)
class PickupRequest:
    """What the customer asks: ``quantity`` of ``sku`` near ``near``, at the kerb when ``curbside``; stores in
    ``excluded`` are left out (they rejected it, or the operator excluded them); ``now`` is aware."""

    sku: str
    quantity: int
    near: GeoPoint
    now: datetime
    curbside: bool = False
    excluded: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class StoreStock:
    """One location as the decision sees it: ``available`` units of the SKU after the brokering safety stock
    (``safety_stock``), in its ``timezone``."""

    location: Location
    available: int
    safety_stock: int = 0
    timezone: str = "UTC"


@dataclass(frozen=True, slots=True)
class PickupOffer:
    """A store that qualifies: its first window with a free place (``free`` places left) and the step found it."""

    location_id: str
    name: str
    distance_km: float
    window: Window
    timezone: str
    step: Step
    available: int
    free: int

    def to_json(self) -> dict[str, Any]:
        local = self.window.start.astimezone(ZoneInfo(self.timezone))
        return {
            "location_id": self.location_id,
            "name": self.name,
            "distance_km": round(self.distance_km, 1),
            "window_start": _iso(self.window.start),
            "window_end": _iso(self.window.end),
            "local_window": f"{local:%a %Y-%m-%d %H:%M}-{self.window.end.astimezone(local.tzinfo):%H:%M} "
            f"({self.timezone})",
            "step": self.step,
            "available": self.available,
            "free_places": self.free,
        }


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A location left out, with the rule (``excluded``, ``inactive``, ``no_pickup``, ``no_curbside``,
    ``no_coordinates``, ``too_far``, ``no_stock``, ``closed``, ``full``) and one line saying why."""

    location_id: str
    name: str
    rule: str
    reason: str
    distance_km: float | None = None

    def to_json(self) -> dict[str, Any]:
        km = None if self.distance_km is None else round(self.distance_km, 1)
        return {"location_id": self.location_id, "name": self.name, "rule": self.rule, "reason": self.reason,
                "distance_km": km}  # fmt: skip


@dataclass(frozen=True, slots=True)
class PickupOptions:
    """The answer: every qualifying store nearest first (``stores``), every other location and why
    (``left_out``), how the answer fell back, and ``alternative`` (``"ship"`` when nothing qualifies and the
    policy ships instead; reported only)."""

    request: PickupRequest
    radius_km: float
    horizon_days: int
    stores: tuple[PickupOffer, ...]
    left_out: tuple[LeftOut, ...]
    fallback: Fallback
    alternative: str | None = None
    message: str = field(default="")

    @property
    def available(self) -> bool:
        return bool(self.stores)

    def to_json(self) -> dict[str, Any]:
        request = self.request
        return {
            "sku": request.sku,
            "quantity": request.quantity,
            "near": {"lat": request.near.lat, "lon": request.near.lon},
            "curbside": request.curbside,
            "now": _iso(request.now),
            "available": self.available,
            "fallback": self.fallback,
            "message": self.message,
            "alternative": self.alternative,
            "radius_km": self.radius_km,
            "horizon_days": self.horizon_days,
            "stores": [offer.to_json() for offer in self.stores],
            "left_out": [left.to_json() for left in self.left_out],
        }


def decide(
    request: PickupRequest,
    stores: Sequence[StoreStock],
    rules: PickupRules,
    booked: Mapping[tuple[str, datetime], int],
    *,
    distance: DistanceSource | None = None,
) -> PickupOptions:
    """The pickup options for ``request`` over ``stores`` under ``rules``, with ``booked`` live pickups per
    (store, window start) (see the module docstring). ``distance``: the routing's distance source (haversine)."""
    source = distance or Haversine()
    # 'ZZ': ISO 3166's "unknown country"; the customer is known only by coordinates
    customer = Address(country="ZZ", coordinates=request.near)
    measured = sorted(
        ((_km(source.measure(s.location, customer)), s) for s in stores),
        key=lambda pair: (pair[0] is None, pair[0] or 0.0, pair[1].location.id),
    )
    offers: list[PickupOffer] = []
    left_out: list[LeftOut] = []
    passed_over: list[LeftOut] = []
    for km, stock in measured:
        found = _offer(request, stock, km, rules, booked)
        if isinstance(found, PickupOffer):
            offers.append(found)
            continue
        left_out.append(found)
        if not offers and found.rule in _PASSED_OVER:
            passed_over.append(found)
    fallback = _fallback(offers, passed_over, rules.radius_km)
    alternative = "ship" if not offers and rules.ship_if_unavailable else None
    return PickupOptions(
        request, rules.radius_km, rules.horizon_days, tuple(offers), tuple(left_out), fallback, alternative,
        _message(request, offers, fallback, rules),
    )  # fmt: skip


def _offer(
    request: PickupRequest, stock: StoreStock, km: float | None, rules: PickupRules, booked: Mapping[BookedKey, int]
) -> PickupOffer | LeftOut:
    location = stock.location

    def out(rule: str, reason: str) -> LeftOut:
        return LeftOut(location.id, location.name, rule, reason, km)

    if not location.active:
        return out("inactive", "inactive")
    needed = LocationCapability.CURBSIDE if request.curbside else LocationCapability.PICKUP
    if needed not in location.capabilities:
        rule = "no_curbside" if request.curbside else "no_pickup"
        return out(rule, f"does not offer {needed.value} (capabilities: {_listed(location.capabilities)})")
    if location.id in request.excluded:
        return out("excluded", "excluded (it rejected this pickup, or the operator excluded it)")
    if not any(hours != "closed" for hours in location.pickup_hours.values()):
        return out("no_pickup", "has no pickup_hours")
    if km is None:
        return out("no_coordinates", "has no coordinates: add 'coordinates:' (lat, lon) to measure how far it is")
    if km > rules.radius_km:
        return out("too_far", f"too far: {km:.1f} km, radius {rules.radius_km:g} km")
    if stock.available < request.quantity:
        after = f" after safety stock {stock.safety_stock}" if stock.safety_stock else ""
        return out("no_stock", f"no stock: {stock.available} available{after}, {request.quantity} asked")
    own = rules.store(location.id)
    zone = ZoneInfo(stock.timezone)
    today = request.now.astimezone(zone).date()
    first: Window | None = None
    seen = 0
    for window in windows(
        location.pickup_hours, zone, window_minutes=own.window_minutes, now=request.now,
        prep_minutes=own.prep_minutes, horizon_days=rules.horizon_days,
    ):  # fmt: skip
        seen += 1
        first = first or window
        free = own.capacity_per_window - booked.get((location.id, window.start), 0)
        if free <= 0:
            continue
        step: Step = (
            "first_window"
            if window == first
            else "later_window_today"
            if window.start.astimezone(zone).date() == today
            else "later_day"
        )
        return PickupOffer(location.id, location.name, km, window, stock.timezone, step, stock.available, free)
    horizon = _horizon(rules)
    if not seen:
        return out("closed", f"closed: no window starts after its {own.prep_minutes} min prep time ({horizon})")
    return out("full", f"full: all {seen} windows booked ({own.capacity_per_window} per window, {horizon})")


def _fallback(offers: list[PickupOffer], passed_over: list[LeftOut], radius_km: float) -> Fallback:
    if not offers:
        return "unavailable"
    nearer = (left.distance_km is not None and left.distance_km <= radius_km for left in passed_over)
    return "next_store" if any(nearer) else offers[0].step


def _message(request: PickupRequest, offers: list[PickupOffer], fallback: Fallback, rules: PickupRules) -> str:
    if offers:
        best = offers[0].to_json()
        return f"{best['name']} ({best['distance_km']} km): {best['local_window']}"
    what = "curbside pickup" if request.curbside else "pickup"
    text = (
        f"not available for {what}: no store within {rules.radius_km:g} km can hand over {request.quantity} x "
        f"{request.sku} ({_horizon(rules)})"
    )
    if rules.ship_if_unavailable:
        return text + "; the policy's alternative is shipping (pickup.ship_if_unavailable), nothing was booked"
    return text


def _horizon(rules: PickupRules) -> str:
    days = rules.horizon_days
    return "today" if days == 0 else "today and tomorrow" if days == 1 else f"today and the next {days} days"


def _km(measured: float | str) -> float | None:
    return measured if isinstance(measured, float) else None


def _listed(items: Collection[object]) -> str:
    values = sorted(str(item) for item in items)
    return ", ".join(values) if values else "none"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
