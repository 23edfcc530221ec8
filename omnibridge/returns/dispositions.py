"""Give returned units a disposition, in the caller's unit of work: the only way returned stock reaches the ledger.

:func:`dispose` moves ``quantity`` units of one return line to a disposition. A restock is a RETURN movement at
the named location through the order line (:meth:`~omnibridge.sync.lines.LineBook.return_restocked`), keyed by the
return, its line and the step (``<line>:return:<return id>:<position>:restock``, then ``...:restock:2`` for a
later decision on inspected units), so the same step never restocks twice; damaged, inspect and missing units are
only counted on the return line. Units come from those not received yet, or (restock, damaged) from those held for
inspection.
"""

from __future__ import annotations

from omnibridge.returns.model import ReturnError, ReturnLine, Rma
from omnibridge.sdk.returns import Disposition
from omnibridge.sync.lines import LineBook

_FIELD = {
    Disposition.RESTOCK: "restocked",
    Disposition.DAMAGED: "damaged",
    Disposition.INSPECT: "inspect",
    Disposition.MISSING: "missing",
}


def restock_key(rma: Rma, line: ReturnLine, step: int) -> str:
    """The key of a return line's ``step``-th restock (after ``<order line>:return:``)."""
    base = f"{rma.id}:{line.position}:restock"
    return base if step <= 1 else f"{base}:{step}"


def dispose(
    book: LineBook,
    rma: Rma,
    line: ReturnLine,
    disposition: Disposition,
    quantity: int,
    *,
    location_id: str | None,
    shown: bool,
    from_inspect: bool = False,
) -> ReturnLine:
    """``quantity`` units of ``line`` get ``disposition`` (restocked at ``location_id``); the line as it is now.
    ``from_inspect``: the units are the ones held for inspection (a decision), else ones not received yet.
    ``shown``: the line's channel reported it (and restocked its own count). Raises :class:`ReturnError` when the
    line has fewer such units, or a restock names no location."""
    if quantity <= 0:
        return line
    source = "held for inspection" if from_inspect else "still to receive"
    available = line.inspect if from_inspect else line.pending
    if quantity > available:
        raise ReturnError(
            f"return {rma.id} line {line.position} ({line.sku}): {quantity} to {disposition.value} but only "
            f"{available} {source}"
        )
    changes: dict[str, object] = {_FIELD[disposition]: line.count(disposition) + quantity}
    if from_inspect:
        changes["inspect"] = line.inspect - quantity
    if disposition is Disposition.RESTOCK:
        if location_id is None:
            raise ReturnError(f"return {rma.id} line {line.position} ({line.sku}): no location to restock at")
        step = line.decisions + 1
        key = restock_key(rma, line, step)
        book.return_restocked(line.order_line_id, key, location_id, quantity, shown=shown)
        changes["decisions"] = step
        changes["location_id"] = location_id
    return line.with_counts(**changes)
