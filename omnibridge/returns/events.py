"""A channel's :class:`~omnibridge.sdk.returns.ReturnEvent` applied to the store (called by the sync engine's
event applier, in its unit of work).

* The return is recorded once per channel and channel ref (``<channel>:return:<ref>``), then updated.
* Each return line names its order line by ``line_ref`` (or, without one, by SKU among the order's lines); an
  unknown line, or one asking back more than the order line shipped less earlier returns, is skipped with a
  message (the engine logs and counts it) and an incident; never silently.
* The state only moves forward (:data:`~omnibridge.returns.model.RANK`); an event older than the newest one
  applied changes nothing (counted as a duplicate).
* A disposition the channel reports is applied once per return line: the units come from those not received or
  held for inspection; a restock is a RETURN movement where the channel says (:mod:`omnibridge.returns.dispositions`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from omnibridge.models import OrderLineRecord
from omnibridge.returns import repository
from omnibridge.returns.dispositions import dispose
from omnibridge.returns.model import RANK, ReturnError, ReturnLine, Rma
from omnibridge.sdk.returns import Disposition, ReturnEvent, ReturnLineEvent
from omnibridge.store.unit_of_work import UnitOfWork
from omnibridge.sync import vanish
from omnibridge.sync.lines import LineBook
from omnibridge.sync.outcome import ApplyOutcome

LocationOf = Callable[[str | None], str | None]
"""The channel's location ref -> the profile's location id (None: not mapped)."""


class ReturnEvents:
    """Applies one channel's return events (``location_of`` and ``master_sku`` are the channel's mappings)."""

    def __init__(self, channel: str, location_of: LocationOf, master_sku: Callable[[str], str]) -> None:
        self.channel = channel
        self.location_of = location_of
        self.master_sku = master_sku

    def apply(self, uow: UnitOfWork, event: ReturnEvent, outcome: ApplyOutcome) -> None:
        """Record or update the return ``event`` describes and apply its dispositions (see the module docstring)."""
        return_id = repository.id_of_external(uow.session, self.channel, event.ref) or (
            f"{self.channel}:return:{event.ref}"
        )
        rma = repository.get(uow.session, return_id, lock=True)
        new = rma is None
        if rma is None:
            rma = Rma(
                id=return_id,
                order_id=f"{self.channel}:{event.order_ref}",
                channel=self.channel,
                state=event.state,
                lines=(),
                created_at=event.occurred_at,
                external_id=event.ref,
            )
        elif rma.event_at is not None and event.occurred_at < rma.event_at:
            outcome.duplicates += 1
            return
        lines = list(rma.lines)
        known = {line.channel_line_ref for line in lines}
        for item in event.lines:
            if item.return_line_ref not in known and item.quantity > 0:
                self._line(uow, rma, item, lines, outcome)
                known = {line.channel_line_ref for line in lines}
        if not lines:
            if new:
                outcome.messages.append(f"{self.channel}: return {event.ref}: no line could be matched; skipped")
            return
        state = rma.state
        if RANK[state] < 3 and RANK[event.state] >= RANK[state]:
            state = event.state
        where = self.location_of(event.location_ref) if event.location_ref else None
        rma = replace(
            rma,
            state=state,
            lines=tuple(lines),
            at_store=rma.at_store or event.at_store,
            location_id=where or rma.location_id,
            tracking_number=event.tracking_number or rma.tracking_number,
            carrier=event.carrier or rma.carrier,
            refund={"amount": event.refund, "currency": event.currency} if event.refund else rma.refund,
            event_at=event.occurred_at,
            updated_at=uow.now(),
        )
        rma = self._dispositions(uow, rma, event, outcome)
        if new:
            repository.insert(uow.session, rma)
        else:
            repository.save(uow.session, rma)

    def _line(
        self, uow: UnitOfWork, rma: Rma, item: ReturnLineEvent, lines: list[ReturnLine], outcome: ApplyOutcome
    ) -> None:
        """Match the channel's return line ``item`` to a line of the return (one omnibridge created has no
        channel ref yet: the channel's echo of it names the same order line, and takes it over), or add it to
        ``lines`` within what the order line can take back; else skip it with a message."""
        what = f"return {rma.external_id} line {item.return_line_ref}"
        order_ref = rma.order_id.removeprefix(f"{self.channel}:")
        record: OrderLineRecord | None = None
        if item.line_ref is not None:
            record = uow.line(OrderLineRecord.key(self.channel, order_ref, item.line_ref))
        elif item.sku is not None:
            sku = self.master_sku(item.sku)
            found = [line for line in uow.lines_of_order(self.channel, order_ref) if line.sku == sku]
            record = uow.line(found[0].id) if found else None
        if record is None:
            reason = f"order line {item.line_ref or item.sku!r} of order {order_ref} is not known"
            self._skip(uow, outcome, what, reason, item.sku)
            return
        for index, line in enumerate(lines):
            if line.channel_line_ref is None and line.order_line_id == record.id:
                lines[index] = replace(line, channel_line_ref=item.return_line_ref)
                return
        earlier = repository.taken_back(uow.session, record.id, besides=rma.id)
        taken = earlier + sum(line.quantity for line in lines if line.order_line_id == record.id)
        if item.quantity > record.shipped - taken:
            reason = (
                f"{item.quantity} to return but order line {record.line_ref} ({record.sku}) can take back "
                f"{max(0, record.shipped - taken)} (shipped {record.shipped}, {taken} in returns)"
            )
            self._skip(uow, outcome, what, reason, record.sku)
            return
        position = max((line.position for line in lines), default=0) + 1
        lines.append(
            ReturnLine(
                id=f"{rma.id}#{position}",
                position=position,
                order_line_id=record.id,
                sku=record.sku,
                quantity=item.quantity,
                reason=item.reason or None,
                channel_line_ref=item.return_line_ref,
            )
        )

    def _dispositions(self, uow: UnitOfWork, rma: Rma, event: ReturnEvent, outcome: ApplyOutcome) -> Rma:
        book = LineBook(uow, outcome)
        lines = list(rma.lines)
        for item in event.lines:
            if item.disposition is None:
                continue
            index = next((i for i, line in enumerate(lines) if line.channel_line_ref == item.return_line_ref), None)
            if index is None:
                continue  # skipped above, with its message
            line = lines[index]
            quantity = min(item.quantity, line.quantity)
            already = line.count(item.disposition)
            if already >= quantity:
                outcome.duplicates += 1
                continue
            wanted = quantity - already
            where = self.location_of(item.location_ref) if item.location_ref else None
            if item.location_ref and where is None:
                reason = f"location {item.location_ref!r} is not mapped (mappings.location_map)"
                self._skip(uow, outcome, f"return {rma.external_id} line {item.return_line_ref}", reason, line.sku)
                continue
            where = where or rma.location_id or _shipped_from(uow, line)
            try:
                from_pending = min(wanted, line.pending)
                line = dispose(book, rma, line, item.disposition, from_pending, location_id=where, shown=True)
                rest = wanted - from_pending
                if rest and item.disposition in (Disposition.RESTOCK, Disposition.DAMAGED):
                    line = dispose(
                        book, rma, line, item.disposition, rest, location_id=where, shown=True, from_inspect=True
                    )
                elif rest:
                    raise ReturnError(f"{rest} unit(s) already have another disposition")
            except ReturnError as exc:
                self._skip(uow, outcome, f"return {rma.external_id} line {item.return_line_ref}", str(exc), line.sku)
            lines[index] = line
        return replace(rma, lines=tuple(lines))

    def _skip(self, uow: UnitOfWork, outcome: ApplyOutcome, what: str, reason: str, sku: str | None) -> None:
        outcome.messages.append(f"{self.channel}: {what}: {reason}; skipped")
        uow.add_incident(vanish.skipped_line(self.channel, what, reason, sku, None))


def _shipped_from(uow: UnitOfWork, line: ReturnLine) -> str | None:
    record = uow.peek_line(line.order_line_id)
    return None if record is None else record.location_id
