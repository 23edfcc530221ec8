"""Pure planning for Shopify fulfilment: which fulfillment order units move where, and carrier names. No I/O.

Line refs are those of :func:`~connectors.shopify.mapper.map_order`: a line item gid, or
``"<line item gid>@<location gid>"`` for a line Shopify split over several locations (then only the units at that
location are meant).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from omnibridge.sdk.fulfilment import LineAssignment

__all__ = [
    "CLOSED_STATUSES",
    "FoLine",
    "FoView",
    "Move",
    "Plan",
    "parse_fulfillment_orders",
    "plan_moves",
    "shopify_carrier",
    "split_ref",
]

CLOSED_STATUSES = frozenset({"CLOSED", "CANCELLED", "INCOMPLETE"})
"""Fulfillment order statuses with nothing left to place or ship."""

# Canonical carrier names (omnibridge's, karrio's ids, common spellings) -> the company names Shopify recognises
# for tracking links (shopify.dev FulfillmentTrackingInput.company: "UPS", "FedEx", "USPS", "DHL Express"...).
_CARRIERS = {
    "ups": "UPS",
    "fedex": "FedEx",
    "fed ex": "FedEx",
    "usps": "USPS",
    "dhl": "DHL Express",
    "dhl express": "DHL Express",
    "dhl_express": "DHL Express",
    "dhl ecommerce": "DHL eCommerce",
    "dhl_ecommerce": "DHL eCommerce",
    "canada post": "Canada Post",
    "canadapost": "Canada Post",
    "royal mail": "Royal Mail",
    "royalmail": "Royal Mail",
    "australia post": "Australia Post",
    "australiapost": "Australia Post",
    "ontrac": "OnTrac",
    "purolator": "Purolator",
}


def shopify_carrier(name: str | None) -> str | None:
    """Shopify's company name for a carrier (``ups`` → ``UPS``, ``dhl_express`` → ``DHL Express``); an unknown
    name is passed as given (Shopify then shows it without a tracking link unless a URL is sent)."""
    if name is None or not name.strip():
        return None
    return _CARRIERS.get(name.strip().lower(), name.strip())


def split_ref(line_ref: str) -> tuple[str, str | None]:
    """``(line item gid, location gid or None)`` of a line ref."""
    base, _, location = line_ref.partition("@")
    return base, location or None


@dataclass(frozen=True, slots=True)
class FoLine:
    id: str
    line_id: str
    remaining: int


@dataclass(frozen=True, slots=True)
class FoView:
    """One fulfillment order as read: its holds are ``(hold id, handle)``."""

    id: str
    status: str
    request_status: str
    actions: frozenset[str]
    location: str | None
    holds: tuple[tuple[str, str | None], ...]
    lines: tuple[FoLine, ...]

    @property
    def open(self) -> bool:
        return self.status not in CLOSED_STATUSES

    def hold_id(self, handle: str) -> str | None:
        return next((hold_id for hold_id, held in self.holds if held == handle), None)


def _nodes(connection: object) -> list[Mapping[str, Any]]:
    nodes = connection.get("nodes") if isinstance(connection, Mapping) else None
    return [n for n in nodes if isinstance(n, Mapping)] if isinstance(nodes, list) else []


def _more(connection: object) -> bool:
    info = connection.get("pageInfo") if isinstance(connection, Mapping) else None
    return isinstance(info, Mapping) and info.get("hasNextPage") is True


def parse_fulfillment_orders(order: Mapping[str, Any]) -> tuple[list[FoView], str]:
    """The fulfillment orders of an ``order`` node, and a problem ('' when none: a page cut something off)."""
    connection = order.get("fulfillmentOrders")
    if _more(connection):
        return [], "the order has more fulfillment orders than one page holds"
    views: list[FoView] = []
    for node in _nodes(connection):
        if _more(node.get("lineItems")):
            return [], f"fulfillment order {node.get('id')} has more line items than one page holds"
        assigned = node.get("assignedLocation")
        location = assigned.get("location") if isinstance(assigned, Mapping) else None
        lines = tuple(
            FoLine(str(item["id"]), str(item["lineItem"]["id"]), int(item.get("remainingQuantity") or 0))
            for item in _nodes(node.get("lineItems"))
            if isinstance(item.get("lineItem"), Mapping)
        )
        views.append(
            FoView(
                id=str(node.get("id")),
                status=str(node.get("status")),
                request_status=str(node.get("requestStatus")),
                actions=frozenset(
                    str(a.get("action")) for a in node.get("supportedActions") or () if isinstance(a, Mapping)
                ),
                location=str(location["id"]) if isinstance(location, Mapping) and location.get("id") else None,
                holds=tuple(
                    (str(h.get("id")), h.get("handle"))
                    for h in node.get("fulfillmentHolds") or ()
                    if isinstance(h, Mapping)
                ),
                lines=lines,
            )
        )
    return views, ""


@dataclass(frozen=True, slots=True)
class Move:
    """``items`` (fulfillment order line id, units) of ``fo`` to ``target``; ``refs`` the assignments behind it."""

    fo: FoView
    target: str
    items: tuple[tuple[str, int], ...]
    refs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Plan:
    moves: tuple[Move, ...]
    refused: tuple[tuple[str, str, str], ...]


def plan_moves(fos: Sequence[FoView], assignments: Sequence[LineAssignment]) -> Plan:
    """The moves that make ``assignments`` true, keeping in place every unit that already stands where assigned.

    Assignments are grouped by line ref; a ref's units are taken from its open fulfillment order lines (at the
    ref's location for a split-line ref). Units of a ref not covered by its assignments stay where they are.
    A ref asking for more units than Shopify has unfulfilled, or none, is refused.
    """
    scopes: dict[str, list[LineAssignment]] = {}
    for assignment in assignments:
        scopes.setdefault(assignment.line_ref, []).append(assignment)
    pieces: list[tuple[FoView, str, int, str, str]] = []  # fo, fo line id, units, target, ref
    refused: list[tuple[str, str, str]] = []
    for ref, asked in scopes.items():
        base, source = split_ref(ref)
        entries = [
            (fo, line)
            for fo in fos
            if fo.open and (source is None or fo.location == source)
            for line in fo.lines
            if line.line_id == base and line.remaining > 0
        ]
        total = sum(line.remaining for _, line in entries)
        wanted = sum(a.quantity for a in asked)
        if any(a.quantity <= 0 for a in asked) or wanted > total:
            reason = (
                "quantities must be positive"
                if any(a.quantity <= 0 for a in asked)
                else f"{wanted} units asked but Shopify has {total} unfulfilled"
            )
            refused.extend((a.line_ref, a.location_ref, reason) for a in asked)
            continue
        desired: dict[str, int] = {}
        for a in asked:
            desired[a.location_ref] = desired.get(a.location_ref, 0) + a.quantity
        current: dict[str | None, int] = {}
        for fo, line in entries:
            current[fo.location] = current.get(fo.location, 0) + line.remaining
        keep_left = {loc: min(n, current.get(loc, 0)) for loc, n in desired.items()}
        need = {loc: n - keep_left[loc] for loc, n in desired.items()}
        spare: list[tuple[FoView, FoLine, int]] = []
        for fo, line in entries:
            kept = min(keep_left.get(fo.location or "", 0), line.remaining)
            if fo.location in keep_left:
                keep_left[fo.location] -= kept
            if line.remaining - kept:
                spare.append((fo, line, line.remaining - kept))
        for target, units in need.items():
            while units > 0:
                fo, line, free = spare[0]
                taken = min(units, free)
                pieces.append((fo, line.id, taken, target, ref))
                units -= taken
                spare[0] = (fo, line, free - taken)
                if free == taken:
                    spare.pop(0)
    return Plan(_grouped(pieces), tuple(refused))


def _grouped(pieces: list[tuple[FoView, str, int, str, str]]) -> tuple[Move, ...]:
    grouped: dict[tuple[str, str], tuple[FoView, dict[str, int], list[str]]] = {}
    for fo, line_id, units, target, ref in pieces:
        _, items, refs = grouped.setdefault((fo.id, target), (fo, {}, []))
        items[line_id] = items.get(line_id, 0) + units
        if ref not in refs:
            refs.append(ref)
    return tuple(
        Move(fo, target, tuple(items.items()), tuple(refs)) for (_, target), (fo, items, refs) in grouped.items()
    )
