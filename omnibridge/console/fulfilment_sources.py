"""The action queue's pickups and returns: live pickups with their window and expiry (ready, collected, reject),
and returns waiting for a disposition (receive with counts at a location, decide inspected units).

Each action calls the service the CLI and the HTTP API call (:class:`~omnibridge.pickup.staff.PickupService`,
:class:`~omnibridge.returns.service.ReturnService`), which writes the audit record naming the signed-in token. The
console's form has one text box; a return's counts are typed in it (``restock 2 damaged 1 at boulder``;
``TENT restock 1``), and a mistyped one is refused with what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from omnibridge.access import Actor
from omnibridge.console.actions import Action, ActionItem, ActionResult, matches
from omnibridge.console.context import ConsoleContext
from omnibridge.errors import OmnibridgeError
from omnibridge.pickup.records import OPEN_STATES
from omnibridge.returns.service import Received
from omnibridge.sdk.returns import ReturnState

__all__ = ["AwaitingReturns", "LivePickups", "expiry_note", "parse_decision", "parse_receipt"]

SOON = timedelta(hours=1)
"""A pickup whose hold ends within this is flagged ``expires within the hour``."""


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def expiry_note(status: str, expires_at: datetime, now: datetime) -> str:
    """The pickup's state with a flag when its hold is past its expiry or ends within the hour."""
    left = _utc(expires_at) - _utc(now)
    if left <= timedelta(0):
        return f"{status}; EXPIRED (hold ended, release pending)"
    if left <= SOON:
        return f"{status}; EXPIRES WITHIN THE HOUR"
    return status


class LivePickups:
    """Pickups held at a store (reserved, ready, arrived): mark ready or collected, or reject with a reason."""

    name = "pickups"
    title = "Pickups waiting at stores"
    actions: tuple[Action, ...] = (
        Action("ready", "Ready"),
        Action("collected", "Collected"),
        Action("reject", "Reject", needs_reason=True),
    )

    def items(self, context: ConsoleContext, filters: Mapping[str, str]) -> list[ActionItem]:
        if context.pickups is None:
            return []
        now = context.store.now()
        found = [
            ActionItem(
                id=pickup.id,
                summary=(
                    f"{pickup.id} at {pickup.location_id}: window {_utc(pickup.window_start):%Y-%m-%d %H:%M}-"
                    f"{_utc(pickup.window_end):%H:%M} UTC, "
                    + ", ".join(f"{line['quantity']} x {line['sku']}" for line in pickup.lines)
                    + (" (curbside)" if pickup.curbside else "")
                ),
                channel=pickup.channel,
                sku=", ".join(str(line["sku"]) for line in pickup.lines) or None,
                at=_utc(pickup.expires_at),
                detail=expiry_note(pickup.status, pickup.expires_at, now),
            )
            for pickup in context.pickups.list()
            if pickup.status in {state.value for state in OPEN_STATES}
        ]
        return [item for item in found if matches(item, filters)]

    def act(self, context: ConsoleContext, action: str, ids: Sequence[str], reason: str, actor: Actor) -> ActionResult:
        service = context.pickups
        if service is None:
            return ActionResult((), dict.fromkeys(ids, "this daemon has no pickup service"))
        done: list[str] = []
        refused: dict[str, str] = {}
        for pickup_id in ids:
            try:
                if action == "ready":
                    service.ready(pickup_id, actor=actor)
                elif action == "collected":
                    service.collected(pickup_id, actor=actor)
                else:
                    service.reject(pickup_id, reason, actor=actor)
                done.append(pickup_id)
            except OmnibridgeError as exc:
                refused[pickup_id] = str(exc)
        return ActionResult(tuple(done), refused)


_RECEIPT = re.compile(r"^(?:(?:restock|damaged|inspect|missing) \d+ ?)+at \S+$")
_DECISION = re.compile(r"^(\S+) (restock|damaged) (\d+)$")


def parse_receipt(text: str) -> tuple[Received, str]:
    """``restock 2 damaged 1 at boulder`` -> the units by disposition and the location. Raises ValueError."""
    words = text.strip().lower().split()
    if not _RECEIPT.match(" ".join(words)):
        raise ValueError(f"{text!r}: expected counts then a location, e.g. 'restock 2 damaged 1 at boulder'")
    counts = dict(zip(words[:-2:2], (int(n) for n in words[1:-2:2]), strict=True))
    return Received(**counts), text.split()[-1]


def parse_decision(text: str) -> tuple[str, int, int]:
    """``TENT restock 1`` -> (SKU, restock, damaged). Raises ValueError."""
    found = _DECISION.match(" ".join(text.split()))
    if found is None:
        raise ValueError(f"{text!r}: expected a SKU, then 'restock' or 'damaged', then a count, e.g. 'TENT restock 1'")
    sku, how, count = found.group(1), found.group(2), int(found.group(3))
    return (sku, count, 0) if how == "restock" else (sku, 0, count)


class AwaitingReturns:
    """Returns with units still to receive or held for inspection: receive them (counts at a location, in the
    reason box) or decide the inspected ones."""

    name = "returns"
    title = "Returns awaiting disposition"
    actions: tuple[Action, ...] = (
        Action("receive", "Receive (e.g. 'restock 2 damaged 1 at boulder')", needs_reason=True),
        Action("decide", "Decide inspected (e.g. 'TENT restock 1')", needs_reason=True),
    )

    def items(self, context: ConsoleContext, filters: Mapping[str, str]) -> list[ActionItem]:
        if context.returns is None:
            return []
        found = []
        for rma in context.returns.list_returns():
            if rma.state not in (ReturnState.OPEN, ReturnState.RECEIVED, ReturnState.REQUESTED):
                continue
            pending = sum(line.pending for line in rma.lines)
            inspect = sum(line.inspect for line in rma.lines)
            if not pending and not inspect:
                continue
            where = f" at {rma.location_id}" if rma.location_id else ""
            found.append(
                ActionItem(
                    id=rma.id,
                    summary=(
                        f"{rma.id} ({rma.order_id}){where}: {pending} to receive, {inspect} held for inspection "
                        f"({', '.join(sorted({line.sku for line in rma.lines}))})"
                    ),
                    channel=rma.channel,
                    sku=", ".join(sorted({line.sku for line in rma.lines})),
                    at=rma.updated_at or rma.created_at,
                    detail=rma.state.value,
                )
            )
        return [item for item in found if matches(item, filters)]

    def act(self, context: ConsoleContext, action: str, ids: Sequence[str], reason: str, actor: Actor) -> ActionResult:
        service = context.returns
        if service is None:
            return ActionResult((), dict.fromkeys(ids, "this daemon has no return service"))
        done: list[str] = []
        refused: dict[str, str] = {}
        for return_id in ids:
            try:
                if action == "receive":
                    units, at = parse_receipt(reason)
                    service.receive(return_id, at, units, actor=actor)
                else:
                    sku, restock, damaged = parse_decision(reason)
                    service.decide(return_id, sku, restock=restock, damaged=damaged, actor=actor)
                done.append(return_id)
            except (OmnibridgeError, ValueError) as exc:
                refused[return_id] = str(exc)
        return ActionResult(tuple(done), refused)
