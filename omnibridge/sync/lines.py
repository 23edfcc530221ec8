"""Order lines through their life: every stock effect of an order line, decided on its record, in one unit of work.

Each function here locks the line (:meth:`UnitOfWork.line`), decides from its record what the fact changes, applies
the movements and saves the record, all in the caller's :class:`~omnibridge.store.unit_of_work.UnitOfWork`. The
record, not a scan of the ledger, says where the line's units are committed and how many, so:

* the same fact arriving twice changes nothing the second time (the record already says it), and a legitimate
  change is a new movement under a key carrying the line's new version (``<line>:v<version>:<action>``), never a
  vendor's last-modified time;
* shipments are keyed by the vendor's fulfilment id (``<line>:ship:<fulfilment>``) and refunds by the refund id,
  so each happens once however often it arrives;
* a line moved to another location (by its channel or by the oversell resolver) keeps its channel, and its later
  shipment or cancellation is applied where its units are committed now.

Facts that already happened on a channel (an order, a sale, a shipment) are applied with ``allow_shortfall``: the
ledger records them even when they take available below zero, and the shortfall is reported for the resolver.

====================  =====================================================================================
fact                  effect on the line ``L`` (``c`` = units committed at ``L.location_id``)
====================  =====================================================================================
placed (q at A)       new: commit q at A (routed to R: commit q at R, strictly; A stays the channel's
                      location). Known: the channel moved it (A is not the location it last named):
                      move ``c`` to A; the quantity changed: commit or release the difference.
completed             every open unit left: fulfil ``c`` at ``L.location_id``, sell the rest there.
cancelled             release ``c``; the open units are cancelled.
shipped (fulfilment)  q units left from the fulfilment's location: ``c`` moves there first if it is elsewhere;
                      fulfil what is committed, sell the rest.
refund, return        q units restocked at the refund's location (a return movement).
return, restock       q units of a return line restocked at the named location, once per return line and
                      step (:mod:`omnibridge.returns`).
refund, cancel        release up to q of ``c``; those units are cancelled.
moved (resolver)      commit ``c`` at the new location (refused if it lacks the units), release it here
                      (a re-route by the routing service is the same move).
held (resolver)       release ``c``; the line is on hold until its channel cancels or completes it.
expired (pickup)      a pickup hold ran out (or its channel cancelled the pickup): release ``c``; the open
                      units are cancelled (key ``<line>:v<version>:expire``, or ``:cancel``).
====================  =====================================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from omnibridge.errors import InsufficientStockError
from omnibridge.models import LineStatus, MovementKind, MovementStatus, OrderLineRecord, StockMovement
from omnibridge.store.unit_of_work import UnitOfWork
from omnibridge.sync.outcome import ApplyOutcome, Position

RESOLVER_SOURCE = "omnibridge:oversell"
ROUTING_SOURCE = "omnibridge:routing"
PICKUP_SOURCE = "omnibridge:pickup"
RETURNS_SOURCE = "omnibridge:returns"


@dataclass(frozen=True)
class LineFact:
    """One line of a channel fact: which line, which SKU, how many, where the channel says, and when."""

    channel: str
    order_ref: str
    line_ref: str
    sku: str
    quantity: int
    location_id: str
    occurred_at: datetime

    @property
    def line_id(self) -> str:
        return OrderLineRecord.key(self.channel, self.order_ref, self.line_ref)


class LineBook:
    """The line operations over one unit of work; every movement it applies is counted in ``outcome``."""

    def __init__(self, uow: UnitOfWork, outcome: ApplyOutcome) -> None:
        self.uow = uow
        self.outcome = outcome
        self._at = uow.now()
        """When the movements being applied occurred (the fact's time; now for omnibridge's own decisions)."""

    # -- channel facts -------------------------------------------------------------------------------------

    def placed(self, fact: LineFact, *, at: str | None = None) -> None:
        """The channel placed (or changed) the line. ``at``: where routing decided a new line ships from; its
        units are committed there (strictly: the router read what is available there under the position's lock)
        while ``channel_location_id`` keeps the location the channel named, so a later update naming it again is
        not a move. Without ``at``, or if ``at`` lacks the units after all, they are committed where the channel
        named them."""
        self._at = fact.occurred_at
        line = self.uow.line(fact.line_id)
        if line is None:
            line = self._bump(self._new(fact, LineStatus.OPEN))
            if at is not None and at != fact.location_id and self._commit_routed(line, at, fact):
                self._save(line, committed=fact.quantity, location_id=at)
                return
            self._move(line, MovementKind.COMMITMENT, fact.location_id, fact.quantity, "commit", shown=True, timed=True)
            self._save(line, committed=fact.quantity)
            return
        moved = fact.location_id != line.channel_location_id
        if line.status is LineStatus.CANCELLED or (fact.quantity == line.quantity and not moved):
            self.outcome.duplicates += 1
            return
        line = self._bump(line)
        changes: dict[str, object] = {"channel_location_id": fact.location_id}
        if moved and line.location_id != fact.location_id:
            # the channel moved the line (a fulfilment order moved to another location)
            if line.status is LineStatus.OPEN and line.committed > 0 and line.location_id is not None:
                self._relocate(line, fact.location_id, "move", shown=True)
            changes["location_id"] = fact.location_id
        if fact.quantity != line.quantity:
            wanted = max(0, fact.quantity - line.shipped - line.cancelled)
            where = str(changes.get("location_id", line.location_id or fact.location_id))
            delta = wanted - line.committed
            if line.status is not LineStatus.ON_HOLD and delta:
                kind = MovementKind.COMMITMENT if delta > 0 else MovementKind.COMMITMENT_RELEASE
                self._move(line, kind, where, abs(delta), "resize", shown=True)
                changes["committed"] = wanted
            changes["quantity"] = fact.quantity
        self._save(line, **changes)

    def completed(self, fact: LineFact) -> None:
        self._at = fact.occurred_at
        line = self.uow.line(fact.line_id)
        if line is None:
            line = self._bump(self._new(fact, LineStatus.SHIPPED))
            self._move(line, MovementKind.SALE, fact.location_id, fact.quantity, "sale", shown=True, timed=True)
            self._save(line, shipped=fact.quantity)
            return
        if line.status in (LineStatus.SHIPPED, LineStatus.RETURNED, LineStatus.CANCELLED) or line.open_quantity == 0:
            self.outcome.duplicates += 1
            return
        line = self._bump(line)
        where = line.location_id or fact.location_id
        remaining = line.open_quantity
        fulfilled = min(line.committed, remaining) if line.status is LineStatus.OPEN else 0
        if fulfilled:
            self._move(line, MovementKind.FULFILMENT, where, fulfilled, "ship", shown=True)
        if remaining - fulfilled:
            self._move(line, MovementKind.SALE, where, remaining - fulfilled, "sale", shown=True)
        self._save(line, shipped=line.shipped + remaining, committed=line.committed - fulfilled)

    def cancelled(self, fact: LineFact) -> None:
        self._at = fact.occurred_at
        line = self.uow.line(fact.line_id)
        if line is None:
            self._save(self._bump(self._new(fact, LineStatus.CANCELLED)), cancelled=fact.quantity)
            return
        if line.status not in (LineStatus.OPEN, LineStatus.ON_HOLD) or line.open_quantity == 0:
            self.outcome.duplicates += 1
            return
        line = self._bump(line)
        if line.committed and line.location_id is not None:
            self._move(line, MovementKind.COMMITMENT_RELEASE, line.location_id, line.committed, "cancel", shown=True)
        self._save(line, committed=0, cancelled=line.cancelled + line.open_quantity)

    def shipped(self, fact: LineFact, fulfilment_ref: str) -> None:
        """``fact.quantity`` units of the line left ``fact.location_id`` in the vendor's fulfilment
        ``fulfilment_ref`` (applied once per fulfilment line)."""
        self._at = fact.occurred_at
        key = f"{fact.line_id}:ship:{fulfilment_ref}"
        line = self.uow.line(fact.line_id)
        if self.uow.has_movement(key) or self.uow.has_movement(f"{key}:sale"):
            self.outcome.duplicates += 1
            return
        if line is None:
            line = self._bump(self._new(fact, LineStatus.SHIPPED))
            self._movement(line, MovementKind.SALE, fact.location_id, fact.quantity, f"{key}:sale", shown=True)
            self._save(line, shipped=fact.quantity)
            return
        line = self._bump(line)
        from_commitment = min(line.committed, fact.quantity) if line.status is LineStatus.OPEN else 0
        location = line.location_id
        if from_commitment and location is not None and location != fact.location_id:
            # shipped from elsewhere than it was allocated: the commitment follows the units that left
            self._movement(line, MovementKind.COMMITMENT_RELEASE, location, from_commitment, f"{key}:from", shown=True)
            self._movement(line, MovementKind.COMMITMENT, fact.location_id, from_commitment, f"{key}:to", shown=True)
        if from_commitment:
            self._movement(line, MovementKind.FULFILMENT, fact.location_id, from_commitment, key, shown=True)
        if fact.quantity - from_commitment:
            self._movement(
                line, MovementKind.SALE, fact.location_id, fact.quantity - from_commitment, f"{key}:sale", shown=True
            )
        shipped = line.shipped + fact.quantity
        self._save(
            line,
            shipped=shipped,
            quantity=max(line.quantity, shipped + line.cancelled),
            committed=line.committed - from_commitment,
        )

    def returned(self, fact: LineFact, refund_ref: str) -> None:
        """``fact.quantity`` units came back to ``fact.location_id`` (refund ``refund_ref``, restocked)."""
        self._at = fact.occurred_at
        key = f"{fact.channel}:refund:{refund_ref}:{fact.line_ref}:return"
        line = self.uow.line(fact.line_id)
        if self.uow.has_movement(key):
            self.outcome.duplicates += 1
            return
        known = line or self._new(fact, LineStatus.SHIPPED)
        self._movement(known, MovementKind.RETURN, fact.location_id, fact.quantity, key, shown=True)
        if line is not None:
            self._save(line, returned=line.returned + fact.quantity)

    def return_restocked(
        self,
        line_id: str,
        key: str,
        location_id: str,
        quantity: int,
        *,
        shown: bool,
        at: datetime | None = None,
    ) -> bool:
        """``quantity`` units of the line ``line_id`` came back through a return and are restocked at
        ``location_id`` (a RETURN movement under ``<line>:return:<key>``, e.g. ``<line>:return:<return id>:<return
        line>:restock``; the line counts them as ``returned``). ``shown``: the line's channel restocked them itself
        (it reported the disposition); else it is omnibridge's. False when that movement is recorded already
        (nothing changed)."""
        self._at = at or self.uow.now()
        line = self.uow.line(line_id)
        movement_key = f"{line_id}:return:{key}"
        if line is None or quantity <= 0 or self.uow.has_movement(movement_key):
            self.outcome.duplicates += 1
            return False
        self._movement(
            line,
            MovementKind.RETURN,
            location_id,
            quantity,
            movement_key,
            shown=shown,
            source=None if shown else RETURNS_SOURCE,
        )
        self._save(line, returned=line.returned + quantity)
        return True

    def refund_cancelled(self, fact: LineFact, refund_ref: str) -> None:
        """A refund that restocks by cancelling: up to ``fact.quantity`` units that never left are released."""
        self._at = fact.occurred_at
        key = f"{fact.channel}:refund:{refund_ref}:{fact.line_ref}:release"
        line = self.uow.line(fact.line_id)
        if line is None or self.uow.has_movement(key):
            self.outcome.duplicates += 1
            return
        units = min(fact.quantity, line.open_quantity)
        released = min(units, line.committed) if line.status is LineStatus.OPEN else 0
        if released and line.location_id is not None:
            self._movement(line, MovementKind.COMMITMENT_RELEASE, line.location_id, released, key, shown=True)
        if units:
            line = self._bump(line)
            self._save(line, committed=line.committed - released, cancelled=line.cancelled + units)

    # -- omnibridge's own decisions ---------------------------------------------------------------------------

    def move(self, line: OrderLineRecord, to_location: str, *, source: str = RESOLVER_SOURCE) -> None:
        """Move the line's commitment to ``to_location`` (the oversell resolver's reallocation; a re-route, with
        ``source`` :data:`ROUTING_SOURCE`). Raises :class:`~omnibridge.errors.InsufficientStockError` (nothing
        changed) when that location lacks the units."""
        self._at = self.uow.now()
        line = self._bump(line)
        self._relocate(line, to_location, "realloc", shown=False, source=source)
        self._save(line, location_id=to_location)

    def hold(self, line: OrderLineRecord, *, source: str = RESOLVER_SOURCE) -> None:
        """Release the line's commitment and put it on hold (the oversell resolver's last resort; a pickup its
        store refused, ``source`` :data:`PICKUP_SOURCE`, waiting for the pickup fallback or an operator)."""
        self._at = self.uow.now()
        line = self._bump(line)
        if line.committed and line.location_id is not None:
            self._move(
                line,
                MovementKind.COMMITMENT_RELEASE,
                line.location_id,
                line.committed,
                "hold",
                shown=False,
                source=source,
            )
        self._save(line, committed=0, status=LineStatus.ON_HOLD)

    def recommit(self, line: OrderLineRecord, at: str, *, source: str = ROUTING_SOURCE) -> None:
        """Commit a held line's open units at ``at`` and open it again there (``<line>:v<version>:recommit``; the
        pickup fallback after a store refused it). Strict: raises :class:`~omnibridge.errors.InsufficientStockError`
        (nothing changed) when ``at`` lacks the units."""
        self._at = self.uow.now()
        line = self._bump(line)
        self._move(line, MovementKind.COMMITMENT, at, line.open_quantity, "recommit", shown=False, strict=True,
                   source=source)  # fmt: skip
        self._save(line, location_id=at, committed=line.open_quantity, status=LineStatus.OPEN)

    def expired(self, line: OrderLineRecord, *, action: str = "expire") -> bool:
        """A pickup hold on ``line`` ended uncollected (``action`` ``expire``; ``cancel``: its channel cancelled it):
        release its commitment where it is (``<line>:v<version>:<action>``, omnibridge's decision) and cancel its
        open units. The caller holds the pickup's lock and has checked its state in the same unit of work, which
        makes this happen once; a line with nothing open changes nothing (False)."""
        self._at = self.uow.now()
        if line.status not in (LineStatus.OPEN, LineStatus.ON_HOLD) or line.open_quantity == 0:
            self.outcome.duplicates += 1
            return False
        line = self._bump(line)
        if line.committed and line.location_id is not None:
            self._move(
                line,
                MovementKind.COMMITMENT_RELEASE,
                line.location_id,
                line.committed,
                action,
                shown=False,
                source=PICKUP_SOURCE,
            )
        self._save(line, committed=0, cancelled=line.cancelled + line.open_quantity)
        return True

    # -- helpers -----------------------------------------------------------------------------------------

    def _commit_routed(self, line: OrderLineRecord, at: str, fact: LineFact) -> bool:
        """Commit the new line's units at the routed location ``at`` (False, nothing changed: it lacks them). The
        channel took the units off where it named them, so what it is known to show moves there."""
        try:  # the movement runs in its own savepoint: a refusal leaves nothing behind
            key = f"{line.id}:v{line.version}:commit"
            self._movement(
                line,
                MovementKind.COMMITMENT,
                at,
                fact.quantity,
                key,
                shown=False,
                strict=True,
                source=ROUTING_SOURCE,
            )
        except InsufficientStockError:
            return False
        self.uow.shift_shown(line.channel, (line.sku, fact.location_id), -fact.quantity, fact.occurred_at)
        return True

    def _new(self, fact: LineFact, status: LineStatus) -> OrderLineRecord:
        now = self.uow.now()
        return OrderLineRecord(
            id=fact.line_id,
            channel=fact.channel,
            order_ref=fact.order_ref,
            line_ref=fact.line_ref,
            sku=fact.sku,
            quantity=fact.quantity,
            location_id=fact.location_id,
            channel_location_id=fact.location_id,
            status=status,
            placed_at=fact.occurred_at,
            updated_at=now,
        )

    @staticmethod
    def _bump(line: OrderLineRecord) -> OrderLineRecord:
        return line.model_copy(update={"version": line.version + 1})

    def _relocate(
        self, line: OrderLineRecord, to_location: str, action: str, *, shown: bool, source: str | None = None
    ) -> None:
        assert line.location_id is not None
        # commit at the new place first: a refusal there (not enough stock) leaves the old commitment untouched
        self._move(
            line,
            MovementKind.COMMITMENT,
            to_location,
            line.committed,
            action,
            shown=shown,
            strict=not shown,
            source=source,
        )
        self._move(
            line,
            MovementKind.COMMITMENT_RELEASE,
            line.location_id,
            line.committed,
            f"{action}-release",
            shown=shown,
            source=source,
        )

    def _move(
        self,
        line: OrderLineRecord,
        kind: MovementKind,
        location_id: str,
        quantity: int,
        action: str,
        *,
        shown: bool,
        strict: bool = False,
        source: str | None = None,
        timed: bool = False,
    ) -> None:
        """A movement of the line's current version (key ``<line>:v<version>:<action>``)."""
        key = f"{line.id}:v{line.version}:{action}"
        self._movement(line, kind, location_id, quantity, key, shown=shown, strict=strict, source=source, timed=timed)

    def _movement(
        self,
        line: OrderLineRecord,
        kind: MovementKind,
        location_id: str,
        quantity: int,
        key: str,
        *,
        shown: bool,
        strict: bool = False,
        source: str | None = None,
        timed: bool = False,
    ) -> None:
        """Apply one movement of ``line``. ``shown``: it happened on the line's channel (its own sale, shipment,
        cancellation), so what that channel is known to show moves with it; else it is omnibridge's decision
        (``source``: whose; the oversell resolver's by default). ``timed``: the event's time is when the channel's
        number changed (a new line: the sale itself), so a read made well after it already includes it (see
        :func:`omnibridge.store.propagation.shift_known_level`); a change found on a later read of the order (a
        move, a resize) carries the order's time, not the change's, so it always moves what the channel shows."""
        if quantity <= 0:
            return
        movement = StockMovement(
            idempotency_key=key,
            source=source or (line.channel if shown else RESOLVER_SOURCE),
            kind=kind,
            sku=line.sku,
            location_id=location_id,
            quantity=quantity,
            occurred_at=self._at,
            reference=line.id,
        )
        self._apply(movement, line.channel if shown else None, strict=strict, timed=timed)

    def _apply(
        self, movement: StockMovement, shown_on: str | None, *, strict: bool = False, timed: bool = False
    ) -> None:
        shown_at = movement.occurred_at if timed else None
        result = self.uow.apply(movement, allow_shortfall=not strict, shown_on=shown_on, shown_at=shown_at)
        if result.status is MovementStatus.DUPLICATE:
            self.outcome.duplicates += 1
            return
        position: Position = (movement.sku, movement.location_id)
        self.outcome.applied += 1
        self.outcome.touched.add(position)
        if result.shortfall:
            self.outcome.shortfalls.append((position, result.shortfall))

    def _save(self, line: OrderLineRecord, **changes: object) -> None:
        updated = line.model_copy(update={**changes, "updated_at": self.uow.now()})
        updated = updated.model_copy(update={"status": _status(updated)})
        self.uow.save_line(OrderLineRecord.model_validate(updated.model_dump()))


def _status(line: OrderLineRecord) -> LineStatus:
    """The status the quantities imply (an ON_HOLD line stays on hold while units are open)."""
    if line.open_quantity > 0:
        return LineStatus.ON_HOLD if line.status is LineStatus.ON_HOLD else LineStatus.OPEN
    if line.shipped == 0:
        return LineStatus.CANCELLED
    return LineStatus.RETURNED if line.returned >= line.shipped else LineStatus.SHIPPED
