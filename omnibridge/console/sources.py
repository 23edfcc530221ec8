"""The built-in action sources: open incidents, dead letters and orders waiting for routing.

Each action calls the same function the CLI and the HTTP API call (and so writes the same audit record, naming
the signed-in token): :func:`~omnibridge.store.incident_actions.resolve_incident`,
:func:`~omnibridge.store.deadletters.requeue` and :func:`~omnibridge.store.deadletters.discard`, and
:meth:`~omnibridge.routing.service.RoutingService.route_order` (as ``omnibridge orders route``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import quote

from omnibridge.access import Actor, audit
from omnibridge.console.actions import Action, ActionItem, ActionResult, matches, register_source
from omnibridge.console.context import ConsoleContext
from omnibridge.errors import OmnibridgeError
from omnibridge.store.deadletters import dead_letters, discard, requeue
from omnibridge.store.incident_actions import resolve_incident


def _ints(ids: Sequence[str]) -> tuple[list[int], dict[str, str]]:
    good, bad = [], {}
    for raw in ids:
        if raw.isdigit():
            good.append(int(raw))
        else:
            bad[raw] = "not an id"
    return good, bad


class Incidents:
    """Open incidents (drift, oversell, guard trips...): resolve with a note."""

    name = "incidents"
    title = "Open incidents"
    actions: tuple[Action, ...] = (Action("resolve", "Resolve", needs_reason=True),)

    def items(self, context: ConsoleContext, filters: Mapping[str, str]) -> list[ActionItem]:
        found = [
            ActionItem(
                id=str(incident.id),
                summary=incident.summary,
                channel=incident.channel,
                sku=incident.sku,
                at=incident.created_at,
                detail=incident.kind,
                link=f"/console/sku/{quote(incident.sku, safe='/')}" if incident.sku else None,
            )
            for incident in context.store.incidents(resolved=False)
        ]
        return [item for item in found if matches(item, filters)]

    def act(self, context: ConsoleContext, action: str, ids: Sequence[str], reason: str, actor: Actor) -> ActionResult:
        good, refused = _ints(ids)
        done: list[str] = []
        for incident_id in good:
            try:
                resolve_incident(context.store, incident_id, reason, actor)
                done.append(str(incident_id))
            except OmnibridgeError as exc:
                refused[str(incident_id)] = str(exc)
        return ActionResult(tuple(done), refused)


class DeadLetters:
    """Webhook deliveries that failed for good: replay (the worker applies them again) or discard with a reason."""

    name = "deadletters"
    title = "Dead letters"
    actions: tuple[Action, ...] = (Action("replay", "Replay"), Action("discard", "Discard", needs_reason=True))

    def items(self, context: ConsoleContext, filters: Mapping[str, str]) -> list[ActionItem]:
        found = [
            ActionItem(
                id=str(entry.id),
                summary=f"{entry.delivery.topic or 'delivery'}: {entry.error or 'failed'}",
                channel=entry.channel,
                at=entry.delivery.received_at,
                detail=f"{entry.attempts} attempt{'' if entry.attempts == 1 else 's'}",
            )
            for entry in dead_letters(context.store)
        ]
        return [item for item in found if matches(item, filters)]

    def act(self, context: ConsoleContext, action: str, ids: Sequence[str], reason: str, actor: Actor) -> ActionResult:
        good, refused = _ints(ids)
        if not good:
            return ActionResult((), refused)
        if action == "replay":
            result = requeue(context.store, good, actor=actor)
            if result.requeued:
                context.on_requeued()
            done, why = result.requeued, result.refused
        else:
            dropped = discard(context.store, good, reason, actor)
            done, why = dropped.discarded, dropped.refused
        refused.update({str(key): value for key, value in why.items()})
        return ActionResult(tuple(str(entry_id) for entry_id in done), refused)


class UnroutableOrders:
    """Orders whose latest routing decision left units without a location: route again (``orders route``)."""

    name = "unroutable"
    title = "Orders waiting for routing"
    actions: tuple[Action, ...] = (Action("reroute", "Re-route"),)

    def items(self, context: ConsoleContext, filters: Mapping[str, str]) -> list[ActionItem]:
        if context.routing is None:
            return []
        found = [
            ActionItem(
                id=record.order_id,
                summary=f"{record.order_id}: {record.decision.get('reason') or record.outcome}",
                channel=record.order_id.split(":", 1)[0] if ":" in record.order_id else None,
                at=record.decided_at,
                detail=f"{record.outcome}, attempt {record.attempt}",
            )
            for record in context.routing.parked()
        ]
        return [item for item in found if matches(item, filters)]

    def act(self, context: ConsoleContext, action: str, ids: Sequence[str], reason: str, actor: Actor) -> ActionResult:
        routing = context.routing
        if routing is None:
            return ActionResult((), dict.fromkeys(ids, "this profile routes no orders"))
        done: list[str] = []
        refused: dict[str, str] = {}
        for order_id in ids:
            try:
                with context.store.unit_of_work() as uow:
                    decision = routing.route_order(uow, order_id, trigger="manual")
                    after = {"outcome": decision.outcome.value, "locations": list(decision.locations)}
                    audit.record(uow, actor, "order.route", f"order:{order_id}", None, after)
                done.append(order_id)
            except OmnibridgeError as exc:
                refused[order_id] = str(exc)
        return ActionResult(tuple(done), refused)


def register_builtin_sources() -> None:
    """Register the built-in sources (idempotent)."""
    from omnibridge.console.fulfilment_sources import AwaitingReturns, LivePickups

    for source in (Incidents(), DeadLetters(), UnroutableOrders(), LivePickups(), AwaitingReturns()):
        register_source(source)
