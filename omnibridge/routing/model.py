"""What the router takes and what it answers: plain, immutable values, so routing is a pure function.

:func:`omnibridge.routing.route` maps a :class:`RouteRequest` (one order's open lines, where they go, which
locations to leave out) and the :class:`LocationState` of every location (what it holds, how busy it is today)
under the merchant's :class:`~omnibridge.routing.rules.RoutingRules` to a :class:`RoutingDecision`: which units of
which line ship from where, and for every location the verdict that explains it (the rule that ruled it out, or
its rank and the rule that broke its tie). Nothing here reads the store or the clock: the service that calls it
(:mod:`omnibridge.routing.service`) builds the request and state inside the unit of work that then reserves the
decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from omnibridge.models import Address, FulfilmentMethod, Location


@dataclass(frozen=True, slots=True)
class RouteLine:
    """An order line to route: ``quantity`` open units of master SKU ``sku``. ``line_id`` is the line record's id
    (``OrderLineRecord.id``). ``unit_value`` is its price per unit (for value-threshold splits), ``product_type``
    the catalogue's product type (for product-type rules)."""

    line_id: str
    sku: str
    quantity: int
    unit_value: Decimal | None = None
    product_type: str | None = None


@dataclass(frozen=True, slots=True)
class CarrierQuote:
    """One carrier service from a location to the order's destination, as the service priced it before routing
    (from the carrier connectors' rates): ``days`` in transit and ``cost`` in the merchant's currency."""

    carrier: str
    service: str
    days: int | None
    cost: Decimal | None = None


@dataclass(frozen=True, slots=True)
class RouteRequest:
    """One order to route.

    ``excluded``: locations that must not be chosen (a store that rejected it; what ``orders route --exclude``
    names). ``pinned``: the location the order must ship from when set (the merchant pinned it; a pickup store).
    ``now`` is the routing instant (daily capacity and carrier cutoffs are judged at it, in the location's or the
    merchant's time zone; a naive ``now`` is taken as UTC).
    """

    order_id: str
    channel: str
    lines: tuple[RouteLine, ...]
    destination: Address | None
    now: datetime
    method: FulfilmentMethod = FulfilmentMethod.SHIP
    excluded: frozenset[str] = frozenset()
    pinned: str | None = None
    carrier_quotes: Mapping[str, tuple[CarrierQuote, ...]] = field(default_factory=dict)
    """location id -> the carrier services quoted from there to the destination (for the ``carrier`` rule); the
    service fills it from the carrier connectors so routing stays pure. Empty: carrier rules are not applied."""


@dataclass(frozen=True, slots=True)
class LocationState:
    """A location as routing sees it at the routing instant: ``available`` units per master SKU (the ledger's
    available-to-promise there: on hand minus committed, never below 0; a SKU missing means 0) and how many orders
    it was assigned today (``assigned_today``, for daily capacity)."""

    location: Location
    available: Mapping[str, int]
    assigned_today: int = 0


class VerdictKind(StrEnum):
    ELIMINATED = "eliminated"
    """A rule ruled the location out; ``rule`` and ``reason`` say which and why."""
    RANKED = "ranked"
    """Eligible; ``rank`` is its place (1 = preferred) and ``rule`` the rule that decided its place."""
    CHOSEN = "chosen"
    """Eligible and allocated units (``rank`` as for RANKED)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What routing concluded about one location, in words a merchant reads in ``omnibridge explain order``."""

    location_id: str
    kind: VerdictKind
    rule: str
    reason: str
    rank: int | None = None
    distance_km: float | None = None


@dataclass(frozen=True, slots=True)
class Allocation:
    """``quantity`` units of line ``line_id`` (SKU ``sku``) ship from ``location_id``."""

    line_id: str
    sku: str
    location_id: str
    quantity: int


class RouteOutcome(StrEnum):
    ROUTED = "routed"
    """Every open unit is allocated."""
    PARTIAL = "partial"
    """Some units are allocated; ``unallocated`` says which are not (the split policy allowed no more)."""
    UNROUTABLE = "unroutable"
    """No unit could be allocated under the rules; ``reason`` says why."""


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    """The router's answer for one order. ``packages`` is the number of distinct locations it ships from;
    ``verdicts`` has one entry per location considered, in rank order (eliminated ones last); ``strategy`` names
    the strategy (plugin) that decided."""

    order_id: str
    outcome: RouteOutcome
    allocations: tuple[Allocation, ...]
    verdicts: tuple[Verdict, ...]
    strategy: str
    reason: str = ""
    unallocated: Mapping[str, int] = field(default_factory=dict)
    """line_id -> units left without a location."""

    @property
    def packages(self) -> int:
        return len({allocation.location_id for allocation in self.allocations})

    @property
    def locations(self) -> tuple[str, ...]:
        """The chosen locations, in the order of their first allocation."""
        return tuple(dict.fromkeys(allocation.location_id for allocation in self.allocations))
