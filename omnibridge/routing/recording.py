"""A routing decision as it is recorded: the ``routing_decisions`` row's JSON, the assignments per chosen location
and the fulfilment tasks that carry it out, all written in the unit of work that reserved it.

The JSON of a decision (``routing_decisions.decision``)::

    {"outcome", "strategy", "reason",
     "lines": [{"line_id", "line_ref", "sku", "quantity"}],          # what was routed
     "allocations": [{"line_id", "sku", "location_id", "quantity"}],  # the router's answer
     "unallocated": {line_id: units},
     "verdicts": [{"location_id", "kind", "rule", "reason", "rank", "distance_km"}],
     "excluded": [location ids], "reserved": {line_id: location id},  # what the service reserved
     "notes": [...]}

The tasks (:mod:`omnibridge.store.fulfilment_tasks`), for the dispatcher:

* ``assign:<order id>#<attempt>`` (kind ``assign``, channel: the order's channel), payload ``{"order_id",
  "order_ref", "attempt", "lines": [{"line_id", "line_ref", "sku", "quantity" (open units), "location_id"}]}``:
  every open line of the order where it is committed now. A later decision cancels it while it is pending.
* ``submit:<assignment id>`` (kind ``submit``, channel: the 3PL or supplier-feed channel whose ``location_map``
  names the location), payload ``{"assignment_id", "order_id", "order_ref", "location_id", "lines": [{"line_id",
  "line_ref", "sku", "quantity"}]}``. A rejection of that assignment cancels it while it is pending.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from omnibridge.models import LineStatus, LocationType, OrderLineRecord
from omnibridge.routing.model import Allocation, RouteOutcome, RoutingDecision, Verdict, VerdictKind
from omnibridge.store import routing_records as records
from omnibridge.store.fulfilment_tasks import ASSIGN, SUBMIT, FulfilmentTask
from omnibridge.store.routing_records import Assignment, AssignmentLine, DecisionRecord
from omnibridge.store.unit_of_work import UnitOfWork

PROVIDER_TYPES = frozenset({LocationType.SUPPLIER, LocationType.THIRD_PARTY_LOGISTICS})
"""Locations whose assignments are handed over by the dispatcher (``submit`` tasks) instead of accepted by staff."""


@dataclass(frozen=True, slots=True)
class RoutedLine:
    """An order line as routing sees it: ``quantity`` open units; ``location_id`` and ``committed`` say where its
    units are committed now (None and 0 for a line not yet recorded)."""

    line_id: str
    line_ref: str
    sku: str
    quantity: int
    location_id: str | None = None
    committed: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"line_id": self.line_id, "line_ref": self.line_ref, "sku": self.sku, "quantity": self.quantity}


def whole_lines(decision: RoutingDecision, lines: Sequence[RoutedLine]) -> dict[str, str]:
    """line_id -> the one location that got every open unit of the line. A line record is committed at one place,
    so a line the router split across locations, or allocated only in part, is not reserved by this decision."""
    by_line: dict[str, dict[str, int]] = {}
    for allocation in decision.allocations:
        places = by_line.setdefault(allocation.line_id, {})
        places[allocation.location_id] = places.get(allocation.location_id, 0) + allocation.quantity
    reserved: dict[str, str] = {}
    for line in lines:
        places = by_line.get(line.line_id, {})
        if len(places) == 1:
            (location_id, units), *_ = places.items()
            if units >= line.quantity:
                reserved[line.line_id] = location_id
    return reserved


def decision_json(
    decision: RoutingDecision,
    lines: Sequence[RoutedLine],
    excluded: Sequence[str],
    reserved: Mapping[str, str],
    notes: Sequence[str],
) -> dict[str, Any]:
    return {
        "outcome": decision.outcome.value,
        "strategy": decision.strategy,
        "reason": decision.reason,
        "lines": [line.to_json() for line in lines],
        "allocations": [
            {"line_id": a.line_id, "sku": a.sku, "location_id": a.location_id, "quantity": a.quantity}
            for a in decision.allocations
        ],
        "unallocated": dict(decision.unallocated),
        "verdicts": [
            {
                "location_id": v.location_id,
                "kind": v.kind.value,
                "rule": v.rule,
                "reason": v.reason,
                "rank": v.rank,
                "distance_km": v.distance_km,
            }
            for v in decision.verdicts
        ],
        "excluded": sorted(excluded),
        "reserved": dict(reserved),
        "notes": list(notes),
    }


def decision_from_json(order_id: str, data: Mapping[str, Any]) -> RoutingDecision:
    """The router's decision back from its recorded JSON (for ``explain order`` and the HTTP API)."""
    return RoutingDecision(
        order_id=order_id,
        outcome=RouteOutcome(data.get("outcome", RouteOutcome.UNROUTABLE.value)),
        allocations=tuple(
            Allocation(str(a["line_id"]), str(a["sku"]), str(a["location_id"]), int(a["quantity"]))
            for a in data.get("allocations", [])
        ),
        verdicts=tuple(
            Verdict(
                str(v["location_id"]),
                VerdictKind(v["kind"]),
                str(v.get("rule", "")),
                str(v.get("reason", "")),
                v.get("rank"),
                v.get("distance_km"),
            )
            for v in data.get("verdicts", [])
        ),
        strategy=str(data.get("strategy", "")),
        reason=str(data.get("reason", "")),
        unallocated={str(k): int(v) for k, v in dict(data.get("unallocated", {})).items()},
    )


def record_decision(
    uow: UnitOfWork,
    *,
    order_id: str,
    channel: str,
    order_ref: str,
    decision: RoutingDecision,
    lines: Sequence[RoutedLine],
    excluded: Sequence[str],
    reserved: Mapping[str, str],
    trigger: str,
    location_types: Mapping[str, LocationType],
    providers: Mapping[str, str],
    notes: Sequence[str] = (),
    current: Sequence[OrderLineRecord] | None = None,
) -> int:
    """Write the decision (next attempt), one assignment per location that got lines, and the tasks: ``assign``
    (the order's channel puts every open line where it now is) when anything was reserved, and ``submit`` per
    supplier or 3PL assignment. Pending ``assign`` tasks of earlier attempts are cancelled (superseded). Returns
    the attempt number. ``current``: the order's line records as they are now, when the caller has read them."""
    session, now = uow.session, uow.now()
    attempt = records.next_attempt(session, order_id)
    notes = list(notes)
    by_location: dict[str, list[AssignmentLine]] = {}
    for line in lines:
        location_id = reserved.get(line.line_id)
        if location_id is not None:
            by_location.setdefault(location_id, []).append(
                AssignmentLine(line.line_id, line.line_ref, line.sku, line.quantity)
            )
    submits: list[FulfilmentTask] = []
    for location_id, assigned in by_location.items():
        assignment = Assignment(
            id=Assignment.key(order_id, location_id, attempt),
            order_id=order_id,
            attempt=attempt,
            location_id=location_id,
            status=records.ASSIGNED,
            lines=tuple(assigned),
            created_at=now,
            updated_at=now,
        )
        records.add_assignment(session, assignment)
        if location_types.get(location_id) in PROVIDER_TYPES:
            provider = providers.get(location_id)
            if provider is None:
                notes.append(
                    f"no channel hands orders to {location_id} (a 3pl connector or a supplier feed whose "
                    "location_map names it): nothing was submitted"
                )
                continue
            payload = {
                "assignment_id": assignment.id,
                "order_id": order_id,
                "order_ref": order_ref,
                "location_id": location_id,
                "lines": [line.to_json() for line in assigned],
            }
            submits.append(FulfilmentTask(f"submit:{assignment.id}", SUBMIT, order_id, provider, payload))
    records.add_decision(
        session,
        DecisionRecord(
            order_id=order_id,
            attempt=attempt,
            decided_at=now,
            outcome=decision.outcome.value,
            strategy=decision.strategy,
            trigger=trigger,
            decision=decision_json(decision, lines, excluded, reserved, notes),
        ),
    )
    if by_location:
        records.cancel_pending_tasks(session, order_id, (), (ASSIGN,), now)
        records_now = current if current is not None else uow.lines_of_order(channel, order_ref)
        open_now = [r for r in records_now if r.status is LineStatus.OPEN]
        uow.enqueue_task(
            FulfilmentTask(
                f"assign:{order_id}#{attempt}",
                ASSIGN,
                order_id,
                channel,
                {"order_id": order_id, "order_ref": order_ref, "attempt": attempt, "lines": _assign_lines(open_now)},
            )
        )
    for task in submits:
        uow.enqueue_task(task)
    return attempt


def _assign_lines(current: Sequence[OrderLineRecord]) -> list[dict[str, Any]]:
    return [
        {
            "line_id": record.id,
            "line_ref": record.line_ref,
            "sku": record.sku,
            "quantity": record.open_quantity,
            "location_id": record.location_id,
        }
        for record in current
    ]
