"""The oversell resolver: orders for more units than a location has.

A location is oversold when what is committed to open orders is more than what is physically there and not
held for other reasons (``committed > on_hand - reserved``; dipping into safety stock is not an oversell). The
ledger records such orders anyway — they already happened on the channel — and this resolver decides, for the
open order lines at that location ranked by channel priority (higher first), then order time (earlier first),
then reference, which lines lose: the lowest-ranked ones, until the excess is covered. For each losing line:

1. **Reallocate** it to another location that has the units available (the one with the most): the commitment
   moves (keys ``<line>:realloc-release`` and ``<line>:realloc``); the sync engine then fulfils it there.
2. Else **backorder** it when the SKU allows backorders: the commitment stays and the incident says so.
3. Else **hold** it: its commitment is released (key ``<line>:hold``), its order is put ``on_hold``, and its
   channel is asked to cancel it where the connector can (``cancel_order``); otherwise the incident says who must.

The winners are never touched. Every decision is an incident (kind ``oversell``). Decisions are made from the
ledger's state under idempotency keys derived from the order line, so running the resolver again — or two
workers running it at once — converges on the same movements, each recorded once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from omnibridge.errors import ConflictError, InsufficientStockError
from omnibridge.models import MovementKind, OrderStatus, StockMovement
from omnibridge.store import Incident, Store

Position = tuple[str, str]


@dataclass(frozen=True)
class OpenLine:
    """An order line's commitment still open at a location."""

    reference: str
    """``<channel>:order:<order ref>:<line ref>``"""
    channel: str
    quantity: int
    occurred_at: datetime

    @property
    def order_ref(self) -> str:
        return self.reference.split(":order:", 1)[1].rsplit(":", 1)[0]


@dataclass(frozen=True)
class OversellDecision:
    line: OpenLine
    decision: str
    """``reallocated``, ``backordered`` or ``held``."""
    location_id: str
    moved_to: str | None = None


def open_lines(store: Store, sku: str, location_id: str) -> list[OpenLine]:
    """Order lines with units still committed at the position (commitments minus releases and fulfilments)."""
    outstanding: dict[str, int] = {}
    first: dict[str, tuple[str, datetime]] = {}
    for recorded in store.movements(sku, location_id):
        reference = recorded.movement.reference
        if not reference or ":order:" not in reference:
            continue
        outstanding[reference] = outstanding.get(reference, 0) + recorded.delta_committed
        if recorded.movement.kind is MovementKind.COMMITMENT and reference not in first:
            first[reference] = (recorded.movement.source, recorded.movement.occurred_at)
    return [
        OpenLine(reference, first[reference][0], quantity, first[reference][1])
        for reference, quantity in outstanding.items()
        if quantity > 0 and reference in first
    ]


def resolve_oversell(store: Store, sku: str, location_id: str, priorities: Mapping[str, int]) -> list[OversellDecision]:
    """Decide the oversold position ``(sku, location_id)``; nothing to do when it is not oversold.

    ``priorities`` maps channel ids to their priority; lines from sources that are not channels (manual
    commitments) rank above every channel and are never chosen.
    """
    position = store.position(sku, location_id)
    excess = position.committed - (position.on_hand - position.reserved)
    if excess <= 0:
        return []
    ranked = sorted(
        open_lines(store, sku, location_id),
        key=lambda line: (-priorities.get(line.channel, 1 << 30), line.occurred_at, line.reference),
    )
    decisions: list[OversellDecision] = []
    winners = [line.reference for line in ranked]
    for line in reversed(ranked):
        if excess <= 0 or line.channel not in priorities:
            break
        winners.remove(line.reference)
        decision = _reallocate(store, line, sku, location_id) or _backorder_or_hold(store, line, sku, location_id)
        decisions.append(decision)
        _record(store, decision, sku, excess, winners)
        excess -= line.quantity
    return decisions


def _reallocate(store: Store, line: OpenLine, sku: str, location_id: str) -> OversellDecision | None:
    others = sorted(
        (p for p in store.positions(sku) if p.location_id != location_id and p.available >= line.quantity),
        key=lambda p: (-p.available, p.location_id),
    )
    for other in others:
        try:
            store.apply(_movement(line, MovementKind.COMMITMENT, sku, other.location_id, "realloc"))
        except InsufficientStockError:
            continue  # taken meanwhile: try the next location
        store.apply(_movement(line, MovementKind.COMMITMENT_RELEASE, sku, location_id, "realloc-release"))
        return OversellDecision(line, "reallocated", location_id, other.location_id)
    return None


def _backorder_or_hold(store: Store, line: OpenLine, sku: str, location_id: str) -> OversellDecision:
    variant = store.get_variant(sku)
    if variant is not None and variant.allow_backorder:
        return OversellDecision(line, "backordered", location_id)
    # released meanwhile (cancelled, or held by a concurrent resolver): nothing is left to release
    with contextlib.suppress(ConflictError):
        store.apply(_movement(line, MovementKind.COMMITMENT_RELEASE, sku, location_id, "hold"))
    order = store.find_order(line.channel, line.order_ref)
    if order is not None and order.status is not OrderStatus.ON_HOLD:
        store.save_order(order.model_copy(update={"status": OrderStatus.ON_HOLD}))
    return OversellDecision(line, "held", location_id)


def _movement(line: OpenLine, kind: MovementKind, sku: str, location_id: str, suffix: str) -> StockMovement:
    return StockMovement(
        idempotency_key=f"{line.reference}:{suffix}",
        source="omnibridge:oversell",
        kind=kind,
        sku=sku,
        location_id=location_id,
        quantity=line.quantity,
        occurred_at=line.occurred_at,
        reference=line.reference,
    )


def _record(store: Store, decision: OversellDecision, sku: str, excess: int, winners: list[str]) -> None:
    line = decision.line
    what = f"{line.quantity} of {sku} at {decision.location_id} for {line.channel} order {line.order_ref}"
    why = f"{excess} unit(s) more were committed than the location has"
    if decision.decision == "reallocated":
        summary = f"{why}; {what} was moved to {decision.moved_to}, which has them"
    elif decision.decision == "backordered":
        summary = f"{why}; {what} stays as a backorder (the SKU allows backorders)"
    else:
        summary = (
            f"{why}; {what} is on hold, as the lowest-ranked order (channel priority, then order time); "
            f"cancel it on {line.channel} or restock {sku} at {decision.location_id}"
        )
    store.add_incident(
        Incident(
            kind="oversell",
            decision=decision.decision,
            summary=summary,
            dedupe_key=f"oversell:{line.reference}",
            channel=line.channel,
            sku=sku,
            location_id=decision.location_id,
            order_id=f"{line.channel}:{line.order_ref}",
            data={"quantity": line.quantity, "excess": excess, "moved_to": decision.moved_to, "winners": winners},
        )
    )
