"""Routing decisions and fulfilment assignments as the store keeps them (tables of ``0011_routing``).

Every function takes the caller's session, so a decision, its assignments, the line moves that reserve it and the
tasks that carry it out commit together (:class:`~omnibridge.store.unit_of_work.UnitOfWork` ``.session``).

Assignment statuses: ``assigned`` (a warehouse or store has it, not yet accepted), ``accepted`` (its staff took
it), ``submitted`` (handed to a supplier or 3PL by the dispatcher), ``shipped``, ``rejected`` (the location or
provider refused it; its lines were re-routed or parked), ``cancelled`` (superseded by a later decision). The first
four are *live*: they hold the order's units and count against the location's daily capacity.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from omnibridge.store.fulfilment_tasks import CANCELLED as TASK_CANCELLED
from omnibridge.store.fulfilment_tasks import PENDING as TASK_PENDING
from omnibridge.store.tables import FULFILMENT_ASSIGNMENTS, FULFILMENT_TASKS, ROUTING_DECISIONS

ASSIGNED = "assigned"
ACCEPTED = "accepted"
SUBMITTED = "submitted"
SHIPPED = "shipped"
REJECTED = "rejected"
CANCELLED = "cancelled"
LIVE = frozenset({ASSIGNED, ACCEPTED, SUBMITTED, SHIPPED})
"""Statuses that hold an order's units at the location (and count against its daily capacity)."""

_A, _D, _T = FULFILMENT_ASSIGNMENTS.c, ROUTING_DECISIONS.c, FULFILMENT_TASKS.c


@dataclass(frozen=True, slots=True)
class AssignmentLine:
    """``quantity`` units of the order line record ``line_id`` (the channel's line ``line_ref``, SKU ``sku``)."""

    line_id: str
    line_ref: str
    sku: str
    quantity: int

    def to_json(self) -> dict[str, Any]:
        return {"line_id": self.line_id, "line_ref": self.line_ref, "sku": self.sku, "quantity": self.quantity}


@dataclass(frozen=True, slots=True)
class Assignment:
    """Units of order ``order_id`` handed to ``location_id`` by decision ``attempt``. ``id`` is
    ``<order id>@<location>#<attempt>``; ``reason`` says why it was rejected or cancelled."""

    id: str
    order_id: str
    attempt: int
    location_id: str
    status: str
    lines: tuple[AssignmentLine, ...]
    created_at: datetime
    updated_at: datetime
    reason: str | None = None
    provider_ref: str | None = None

    @property
    def live(self) -> bool:
        return self.status in LIVE

    @staticmethod
    def key(order_id: str, location_id: str, attempt: int) -> str:
        return f"{order_id}@{location_id}#{attempt}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "order_id": self.order_id,
            "attempt": self.attempt,
            "location_id": self.location_id,
            "status": self.status,
            "lines": [line.to_json() for line in self.lines],
            "reason": self.reason,
            "provider_ref": self.provider_ref,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One recorded routing decision: ``decision`` holds allocations, verdicts, unallocated units, excluded
    locations, the lines routed and what was reserved (see :mod:`omnibridge.routing.service`)."""

    order_id: str
    attempt: int
    decided_at: datetime
    outcome: str
    strategy: str
    trigger: str
    decision: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "attempt": self.attempt,
            "decided_at": self.decided_at.isoformat(),
            "outcome": self.outcome,
            "strategy": self.strategy,
            "trigger": self.trigger,
            "decision": dict(self.decision),
        }


# -- decisions -------------------------------------------------------------------------------------------------


def next_attempt(session: Session, order_id: str) -> int:
    """The attempt number the order's next decision gets (1 for its first)."""
    latest = session.connection().execute(_LATEST_ATTEMPT, {"p_order": order_id}).scalar()
    return int(latest or 0) + 1


_LATEST_ATTEMPT = sa.select(sa.func.max(_D.attempt)).where(_D.order_id == sa.bindparam("p_order"))


def add_decision(session: Session, record: DecisionRecord) -> None:
    session.connection().execute(
        _ADD_DECISION,
        {
            "order_id": record.order_id,
            "attempt": record.attempt,
            "decided_at": record.decided_at,
            "outcome": record.outcome,
            "strategy": record.strategy[:64],
            "trigger": record.trigger[:255],
            "decision": dict(record.decision),
        },
    )


_ADD_DECISION = sa.insert(ROUTING_DECISIONS)
_ADD_ASSIGNMENT = sa.insert(FULFILMENT_ASSIGNMENTS)
"""The values arrive as execution parameters, so each insert is compiled once."""


def decisions(session: Session, order_id: str) -> list[DecisionRecord]:
    """The order's decisions, first attempt first."""
    rows = session.execute(sa.select(ROUTING_DECISIONS).where(_D.order_id == order_id).order_by(_D.attempt))
    return [_decision(row) for row in rows]


def latest_decisions(session: Session, outcomes: Collection[str]) -> list[DecisionRecord]:
    """Each order's latest decision, when its outcome is one of ``outcomes`` (newest first)."""
    latest = sa.select(_D.order_id, sa.func.max(_D.attempt).label("attempt")).group_by(_D.order_id).subquery("latest")
    query = (
        sa.select(ROUTING_DECISIONS)
        .join(latest, sa.and_(_D.order_id == latest.c.order_id, _D.attempt == latest.c.attempt))
        .where(_D.outcome.in_(sorted(outcomes)))
        .order_by(_D.decided_at.desc(), _D.order_id)
    )
    return [_decision(row) for row in session.execute(query)]


def _decision(row: Any) -> DecisionRecord:
    return DecisionRecord(
        order_id=row.order_id,
        attempt=row.attempt,
        decided_at=row.decided_at,
        outcome=row.outcome,
        strategy=row.strategy,
        trigger=row.trigger,
        decision=row.decision or {},
    )


# -- assignments -----------------------------------------------------------------------------------------------


def add_assignment(session: Session, assignment: Assignment) -> None:
    session.connection().execute(
        _ADD_ASSIGNMENT,
        {
            "id": assignment.id,
            "order_id": assignment.order_id,
            "attempt": assignment.attempt,
            "location_id": assignment.location_id,
            "status": assignment.status,
            "lines": [line.to_json() for line in assignment.lines],
            "reason": assignment.reason,
            "provider_ref": assignment.provider_ref,
            "created_at": assignment.created_at,
            "updated_at": assignment.updated_at,
        },
    )


def assignments(session: Session, order_id: str, *, lock: bool = False) -> list[Assignment]:
    """The order's assignments, oldest attempt first (``lock``: locked until the transaction ends)."""
    query = sa.select(FULFILMENT_ASSIGNMENTS).where(_A.order_id == order_id).order_by(_A.attempt, _A.location_id)
    if lock:
        query = query.with_for_update()
    return [_assignment(row) for row in session.execute(query)]


def set_status(session: Session, assignment_id: str, status: str, now: datetime, *, reason: str | None = None) -> None:
    values: dict[str, Any] = {"status": status, "updated_at": now}
    if reason is not None:
        values["reason"] = reason
    session.execute(sa.update(FULFILMENT_ASSIGNMENTS).where(_A.id == assignment_id).values(**values))


def assigned_since(session: Session, location_ids: Collection[str], since: datetime) -> dict[str, int]:
    """Live assignments created at or after ``since``, per location (a location with none is left out)."""
    if not location_ids:
        return {}
    parameters = {"p_locations": sorted(location_ids), "p_since": since}
    return {location_id: int(count) for location_id, count in session.connection().execute(_ASSIGNED, parameters)}


_ASSIGNED = (
    sa.select(_A.location_id, sa.func.count())
    .where(
        _A.location_id.in_(sa.bindparam("p_locations", expanding=True)),
        _A.status.in_(sorted(LIVE)),
        _A.created_at >= sa.bindparam("p_since", type_=_A.created_at.type),
    )
    .group_by(_A.location_id)
)


def _assignment(row: Any) -> Assignment:
    lines = tuple(
        AssignmentLine(str(line["line_id"]), str(line["line_ref"]), str(line["sku"]), int(line["quantity"]))
        for line in row.lines or []
    )
    return Assignment(
        id=row.id,
        order_id=row.order_id,
        attempt=row.attempt,
        location_id=row.location_id,
        status=row.status,
        lines=lines,
        created_at=row.created_at,
        updated_at=row.updated_at,
        reason=row.reason,
        provider_ref=row.provider_ref,
    )


# -- tasks -----------------------------------------------------------------------------------------------------


def cancel_pending_tasks(
    session: Session,
    order_id: str,
    ids: Sequence[str],
    kinds: Collection[str],
    now: datetime,
    *,
    why: str = "superseded by a re-route",
) -> int:
    """Cancel the order's pending tasks whose id is in ``ids`` or whose kind is in ``kinds`` (superseded by a
    re-route); the number cancelled."""
    conditions = []
    if ids:
        conditions.append(_T.id.in_(list(ids)))
    if kinds:
        conditions.append(_T.kind.in_(sorted(kinds)))
    if not conditions:
        return 0
    result = session.execute(
        sa.update(FULFILMENT_TASKS)
        .where(_T.order_id == order_id, _T.status == TASK_PENDING, sa.or_(*conditions))
        .values(status=TASK_CANCELLED, updated_at=now, last_error=why)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def tasks_of_order(session: Session, order_id: str) -> list[dict[str, Any]]:
    """The order's fulfilment tasks (id, kind, channel, status, payload), oldest first."""
    query = (
        sa.select(_T.id, _T.kind, _T.channel, _T.status, _T.payload, _T.result, _T.created_at)
        .where(_T.order_id == order_id)
        .order_by(_T.created_at, _T.id)
    )
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "channel": r.channel,
            "status": r.status,
            "payload": r.payload or {},
            "result": r.result,
        }
        for r in session.execute(query)
    ]
