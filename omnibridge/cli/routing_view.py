"""How routing decisions read on the command line: every candidate location with its verdict and the rule that
decided it, the allocations, and (for ``explain order``) the assignments and tasks that followed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from omnibridge.cli.orders import table
from omnibridge.routing.model import RoutingDecision
from omnibridge.store.routing_records import Assignment, DecisionRecord


def verdict_rows(decision: RoutingDecision) -> list[tuple[Any, ...]]:
    return [
        (
            v.location_id,
            v.kind.value,
            v.rank,
            v.rule,
            None if v.distance_km is None else f"{v.distance_km:.0f} km",
            v.reason,
        )
        for v in decision.verdicts
    ]


def render_decision(decision: RoutingDecision, line_refs: Mapping[str, str], excluded: Sequence[str] = ()) -> str:
    """The decision as text: outcome, candidates (verdict, rank, rule, distance, why) and allocations."""
    where = ", ".join(decision.locations) or "nowhere"
    head = f"outcome {decision.outcome.value} (strategy {decision.strategy}): ships from {where}"
    if decision.packages:
        head += f" ({decision.packages} package{'s' if decision.packages > 1 else ''})"
    parts = [head]
    if decision.reason:
        parts.append(f"reason  {decision.reason}")
    if excluded:
        parts.append(f"excluded {', '.join(excluded)}")
    parts.append("")
    if decision.verdicts:
        headers = ("location", "verdict", "rank", "rule", "distance", "why")
        parts.append(table(headers, verdict_rows(decision)))
    else:
        parts.append("no candidate was considered")
    if decision.allocations:
        rows = [(line_refs.get(a.line_id, a.line_id), a.sku, a.quantity, a.location_id) for a in decision.allocations]
        parts.extend(["", table(("line", "sku", "qty", "from"), rows)])
    if decision.unallocated:
        left = [(line_refs.get(line_id, line_id), units) for line_id, units in decision.unallocated.items()]
        parts.extend(["", "not allocated", table(("line", "units"), left)])
    return "\n".join(parts)


def render_history(
    records: Sequence[DecisionRecord],
    decisions: Sequence[RoutingDecision],
    assignments: Sequence[Assignment],
    tasks: Sequence[Mapping[str, Any]],
    line_refs: Mapping[str, str],
) -> str:
    """Every decision in order with its candidates, then the assignments and the tasks that carry them out."""
    parts: list[str] = []
    for record, decision in zip(records, decisions, strict=True):
        when = record.decided_at.isoformat(timespec="seconds")
        parts.append(f"Decision {record.attempt}  {when}  trigger: {record.trigger}")
        excluded = list(record.decision.get("excluded", []))
        parts.append(render_decision(decision, line_refs, excluded))
        reserved = dict(record.decision.get("reserved", {}))
        if reserved:
            parts.append("reserved " + ", ".join(f"line {line_refs.get(k, k)} at {v}" for k, v in reserved.items()))
        parts.extend(f"note    {note}" for note in record.decision.get("notes", []))
        parts.append("")
    parts.append("Assignments")
    if assignments:
        rows = [
            (
                a.id,
                a.location_id,
                a.status,
                ", ".join(f"{line.line_ref}x{line.quantity}" for line in a.lines),
                a.reason,
                a.updated_at.isoformat(timespec="seconds"),
            )
            for a in assignments
        ]
        parts.append(table(("assignment", "location", "status", "lines", "reason", "updated"), rows))
    else:
        parts.append("none")
    parts.extend(["", "Tasks"])
    if tasks:
        parts.append(
            table(
                ("task", "kind", "channel", "status"), [(t["id"], t["kind"], t["channel"], t["status"]) for t in tasks]
            )
        )
    else:
        parts.append("none")
    return "\n".join(parts)
