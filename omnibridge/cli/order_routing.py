"""``omnibridge orders route|accept|reject`` and ``omnibridge explain order``: routing decisions on the command
line (registered on :data:`omnibridge.cli.orders.orders_app`).

* ``orders route ID --dry-run [--exclude LOC]``: what routing would decide now, every candidate and the rule that
  decided; nothing is reserved or recorded. Without ``--dry-run`` the order's unassigned open lines (a parked
  order's) are routed for real: reserved, recorded and handed on.
* ``orders accept ID --at LOC`` / ``orders reject ID --at LOC --reason TEXT``: a store or warehouse takes or
  refuses its assignment; a rejection re-routes (or parks) the order at once.
* ``explain order ID``: every decision recorded for the order, with its candidates, reservations, assignments
  and the tasks that carry them out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from omnibridge.cli.order_names import find_named_order
from omnibridge.cli.orders import JsonOption, orders_app, table
from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.cli.routing_view import render_decision, render_history
from omnibridge.config import DEFAULT_PROFILE
from omnibridge.errors import OmnibridgeError
from omnibridge.models import Order
from omnibridge.routing.model import RoutingDecision
from omnibridge.routing.recording import decision_from_json
from omnibridge.routing.setup import service_for_profile
from omnibridge.store import Store

__all__ = ["explain_order", "orders_app"]

OrderArgument = Annotated[
    str, typer.Argument(metavar="ORDER", help="The order: web:1001, web:#1001, amazon:<order id> or its id.")
]
AtOption = Annotated[str, typer.Option("--at", help="The location id (as in the profile).")]


def _line_refs(store: Store, order: Order) -> dict[str, str]:
    return {record.id: record.line_ref for record in store.order_lines(order.channel, order.external_id)}


def _decision_json(decision: RoutingDecision, line_refs: dict[str, str]) -> dict[str, Any]:
    return {
        "outcome": decision.outcome.value,
        "strategy": decision.strategy,
        "reason": decision.reason,
        "locations": list(decision.locations),
        "verdicts": [
            {
                "location_id": v.location_id,
                "kind": v.kind.value,
                "rank": v.rank,
                "rule": v.rule,
                "reason": v.reason,
                "distance_km": v.distance_km,
            }
            for v in decision.verdicts
        ],
        "allocations": [
            {
                "line": line_refs.get(a.line_id, a.line_id),
                "sku": a.sku,
                "quantity": a.quantity,
                "location_id": a.location_id,
            }
            for a in decision.allocations
        ],
        "unallocated": {line_refs.get(k, k): v for k, v in decision.unallocated.items()},
    }


def _check_location(loaded_ids: set[str], location: str, option: str) -> None:
    if location not in loaded_ids:
        raise OmnibridgeError(
            f"{option} {location!r} is not a location of the profile; expected one of: {', '.join(sorted(loaded_ids))}"
        )


@orders_app.command("route")
def route_command(
    order_name: OrderArgument,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would happen; reserve and record nothing.")
    ] = False,
    exclude: Annotated[
        list[str] | None, typer.Option("--exclude", help="Leave this location out (repeat for more).")
    ] = None,
    as_json: JsonOption = False,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """Route an order: with --dry-run, show every candidate location and the rule that decided; without it,
    route its unassigned open lines (a parked order) for real."""
    excluded = sorted(set(exclude or []))
    with profile_store(profile, read_only=dry_run) as (loaded, store):
        for location in excluded:
            _check_location({loc.id for loc in loaded.locations}, location, "--exclude")
        order = find_named_order(store, order_name)
        service = service_for_profile(store, loaded)
        if dry_run:
            decision = service.preview(order.id, exclude=excluded)
        else:
            with store.unit_of_work() as uow:
                decision = service.route_order(uow, order.id, trigger="manual", exclude=excluded)
        refs = _line_refs(store, order)
    if as_json:
        body = {"order": order.id, "dry_run": dry_run, "excluded": excluded, "decision": _decision_json(decision, refs)}
        typer.echo(json.dumps(body, indent=2))
        return
    typer.echo(f"order {order.id} ({order.number or '-'})")
    typer.echo("dry run: nothing was reserved or recorded" if dry_run else "routed: reserved and recorded")
    typer.echo(render_decision(decision, refs, excluded))


@orders_app.command("accept")
def accept_command(
    order_name: OrderArgument,
    at: AtOption,
    as_json: JsonOption = False,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """Staff at a store or warehouse take the order's assignment there."""
    with profile_store(profile) as (loaded, store):
        _check_location({loc.id for loc in loaded.locations}, at, "--at")
        order = find_named_order(store, order_name)
        assignment = service_for_profile(store, loaded).accept(order.id, at)
    if as_json:
        typer.echo(json.dumps({"assignment": assignment.to_json()}, indent=2))
        return
    typer.echo(f"{order.id}: accepted at {at} (assignment {assignment.id})")


@orders_app.command("reject")
def reject_command(
    order_name: OrderArgument,
    at: AtOption,
    reason: Annotated[str, typer.Option("--reason", help="Why the location cannot ship it (shown to operators).")],
    as_json: JsonOption = False,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """A store or warehouse refuses the order's assignment there: the order is re-routed without it (its
    reservation moves), or parked as unroutable when it cannot be."""
    with profile_store(profile) as (loaded, store):
        _check_location({loc.id for loc in loaded.locations}, at, "--at")
        order = find_named_order(store, order_name)
        decision = service_for_profile(store, loaded).reject(order.id, at, reason)
        refs = _line_refs(store, order)
    if as_json:
        typer.echo(
            json.dumps({"order": order.id, "rejected_at": at, "decision": _decision_json(decision, refs)}, indent=2)
        )
        return
    if decision.locations:
        typer.echo(f"{order.id}: rejected at {at}; re-routed to {', '.join(decision.locations)}")
    else:
        typer.echo(f"{order.id}: rejected at {at}; parked as {decision.outcome.value}: {decision.reason}")


def explain_order(order_name: str, profile: Path, as_json: bool) -> None:
    """``omnibridge explain order ID``: what routing did with the order, decision by decision."""
    with profile_store(profile, read_only=True) as (loaded, store):
        order = find_named_order(store, order_name)
        service = service_for_profile(store, loaded)
        records = service.decisions(order.id)
        assignments = service.assignments(order.id)
        tasks = service.tasks(order.id)
        refs = _line_refs(store, order)
    decisions = [decision_from_json(order.id, record.decision) for record in records]
    if as_json:
        body = {
            "order": order.id,
            "decisions": [record.to_json() for record in records],
            "assignments": [assignment.to_json() for assignment in assignments],
            "tasks": tasks,
        }
        typer.echo(json.dumps(body, indent=2, default=str))
        return
    typer.echo(f"order {order.id} ({order.number or '-'}), {order.status.value}")
    if not records:
        typer.echo(f"no routing decision recorded: {order.channel} orders are not routed, or it came before routing")
        return
    typer.echo("")
    typer.echo(render_history(records, decisions, assignments, tasks, refs))


def list_parked(channel: str | None, limit: int, as_json: bool, profile: Path) -> None:
    """``orders list --status unroutable``: orders whose latest routing decision left units without a location,
    newest first, with why and what triggered it."""
    with profile_store(profile, read_only=True) as (loaded, store):
        parked = service_for_profile(store, loaded).parked()
        orders = {record.order_id: store.get_order(record.order_id) for record in parked}
    rows = []
    for record in parked:
        order = orders[record.order_id]
        if channel is None or (order is not None and order.channel == channel):
            rows.append((record, order))
    rows = rows[:limit]
    if as_json:
        body = [
            {
                "order": record.order_id,
                "number": order.number if order else None,
                "order_status": order.status.value if order else None,
                "attempt": record.attempt,
                "outcome": record.outcome,
                "trigger": record.trigger,
                "reason": record.decision.get("reason", ""),
                "decided_at": record.decided_at.isoformat(),
            }
            for record, order in rows
        ]
        typer.echo(json.dumps({"orders": body}, indent=2))
        return
    if not rows:
        typer.echo("no unroutable orders" + (f" on {channel}" if channel else ""))
        return
    table_rows = [
        (
            record.order_id,
            order.number if order else None,
            record.outcome,
            record.attempt,
            record.trigger,
            record.decision.get("reason") or None,
            record.decided_at.isoformat(timespec="seconds"),
        )
        for record, order in rows
    ]
    typer.echo(table(("order", "number", "outcome", "attempt", "trigger", "why", "decided"), table_rows))
