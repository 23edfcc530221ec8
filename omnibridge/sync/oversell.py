"""The oversell resolver: orders for more units than a location has.

A location is oversold when what is committed to open orders is more than what is physically there and not
held for other reasons (``committed > on_hand - reserved``; dipping into safety stock is not an oversell). The
ledger records such orders anyway — they already happened on the channel — and this resolver decides, for the
open order lines committed at that location (line records, :mod:`omnibridge.sync.lines`) ranked by channel
priority (higher first), then order time (earlier first), then line id, which lines lose: the lowest-ranked ones,
until the excess is covered. For each losing line:

1. **Reallocate** it to another location that has the units available (the one with the most): its commitment
   moves there (:meth:`LineBook.move <omnibridge.sync.lines.LineBook.move>`); its later shipment, completion or
   cancellation is applied there, and it can move again.
2. Else **backorder** it when the SKU allows backorders: the commitment stays and the incident says so.
3. Else **hold** it: its commitment is released, the line and its order are put on hold, and its channel (from the
   line record) is asked to cancel it where the connector can (``cancel_order``); otherwise the incident says who
   must.

The winners are never touched. Every decision is an incident (kind ``oversell``) recorded in the same unit of work
as its movements. Lines from sources that are not configured channels (manual commitments have no line record)
are never chosen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from omnibridge.errors import InsufficientStockError
from omnibridge.models import OrderLineRecord, OrderStatus
from omnibridge.store import Incident
from omnibridge.store.unit_of_work import UnitOfWork
from omnibridge.sync.lines import LineBook
from omnibridge.sync.outcome import ApplyOutcome


@dataclass(frozen=True)
class OversellDecision:
    line: OrderLineRecord
    """The losing line, as it was before the decision."""
    decision: str
    """``reallocated``, ``backordered`` or ``held``."""
    location_id: str
    moved_to: str | None = None


def resolve_oversell(
    uow: UnitOfWork, sku: str, location_id: str, priorities: Mapping[str, int], outcome: ApplyOutcome | None = None
) -> list[OversellDecision]:
    """Decide the oversold position ``(sku, location_id)`` inside ``uow``; nothing to do when it is not oversold.

    ``priorities`` maps channel ids to their priority. Movements are counted in ``outcome`` when given.
    """
    uow.lock_positions([(sku, location_id)])
    position = uow.position(sku, location_id)
    excess = position.committed - (position.on_hand - position.reserved)
    if excess <= 0:
        return []
    ranked = sorted(
        uow.open_lines_at(sku, location_id),
        key=lambda line: (-priorities.get(line.channel, 1 << 30), line.placed_at, line.id),
    )
    book = LineBook(uow, outcome or ApplyOutcome())
    decisions: list[OversellDecision] = []
    winners = [line.id for line in ranked]
    for candidate in reversed(ranked):
        if excess <= 0 or candidate.channel not in priorities:
            break
        line = uow.line(candidate.id)
        if line is None or line.location_id != location_id or line.committed <= 0:
            continue
        winners.remove(line.id)
        decision = _reallocate(uow, book, line, sku, location_id) or _backorder_or_hold(uow, book, line, sku)
        decisions.append(decision)
        _record(uow, decision, sku, excess, winners)
        excess -= line.committed
    return decisions


def _reallocate(
    uow: UnitOfWork, book: LineBook, line: OrderLineRecord, sku: str, location_id: str
) -> OversellDecision | None:
    others = sorted(
        (p for p in uow.positions(sku) if p.location_id != location_id and p.available >= line.committed),
        key=lambda p: (-p.available, p.location_id),
    )
    for other in others:
        try:
            with uow.savepoint():
                book.move(line, other.location_id)
        except InsufficientStockError:
            continue  # taken meanwhile: try the next location
        return OversellDecision(line, "reallocated", location_id, other.location_id)
    return None


def _backorder_or_hold(uow: UnitOfWork, book: LineBook, line: OrderLineRecord, sku: str) -> OversellDecision:
    assert line.location_id is not None
    variant = _variant_allows_backorder(uow, sku)
    if variant:
        return OversellDecision(line, "backordered", line.location_id)
    book.hold(line)
    order = uow.find_order(line.channel, line.order_ref)
    if order is not None and order.status is not OrderStatus.ON_HOLD:
        uow.save_order(order.model_copy(update={"status": OrderStatus.ON_HOLD}))
    return OversellDecision(line, "held", line.location_id)


def _variant_allows_backorder(uow: UnitOfWork, sku: str) -> bool:
    from omnibridge.store.catalog import allows_backorder

    return allows_backorder(uow.session, sku)


def _record(uow: UnitOfWork, decision: OversellDecision, sku: str, excess: int, winners: list[str]) -> None:
    line = decision.line
    what = f"{line.committed} of {sku} at {decision.location_id} for {line.channel} order {line.order_ref}"
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
    uow.add_incident(
        Incident(
            kind="oversell",
            decision=decision.decision,
            summary=summary,
            dedupe_key=f"oversell:{line.id}:v{line.version + 1}",
            channel=line.channel,
            sku=sku,
            location_id=decision.location_id,
            order_id=line.order_id,
            data={
                "quantity": line.committed,
                "excess": excess,
                "moved_to": decision.moved_to,
                "winners": winners,
                "line": line.id,
            },
        )
    )
