"""The return actions the CLI (``omnibridge returns``) and the admin API (``/api/returns``) share.

Every change is one unit of work with its stock movements, its write-back task (:mod:`omnibridge.returns.writeback`),
the pending pushes of the restocked SKUs to every sales channel, and its audit record (actions ``return.create``,
``return.receive``, ``return.decide``, ``return.label``). Refusals are :class:`~omnibridge.returns.model.ReturnError`:
one line naming what is wrong and what was expected, nothing changed.

* :meth:`ReturnService.create`: a return for units an order shipped, coming back by post (to the location they
  shipped from) or to a store counter; at most what each order line shipped less what earlier returns took back.
* :meth:`ReturnService.receive`: the units arrived at a location: restock N there, damaged M, inspect K, missing J.
* :meth:`ReturnService.decide`: inspected units are restocked or written off as damaged.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace

from omnibridge.access import Actor, audit
from omnibridge.cli.order_names import OrderNameError, find_named_order
from omnibridge.models import Order, OrderLineRecord
from omnibridge.returns import repository
from omnibridge.returns.dispositions import dispose
from omnibridge.returns.model import RANK, ReturnError, ReturnLine, Rma
from omnibridge.returns.writeback import return_task
from omnibridge.sdk.returns import Disposition, ReturnState
from omnibridge.store import Store
from omnibridge.store.unit_of_work import UnitOfWork
from omnibridge.sync.lines import LineBook
from omnibridge.sync.outcome import ApplyOutcome


@dataclass(frozen=True, slots=True)
class Received:
    """Units of a receipt by disposition."""

    restock: int = 0
    damaged: int = 0
    inspect: int = 0
    missing: int = 0

    @property
    def total(self) -> int:
        return self.restock + self.damaged + self.inspect + self.missing

    def items(self) -> list[tuple[Disposition, int]]:
        return [
            (Disposition.RESTOCK, self.restock),
            (Disposition.DAMAGED, self.damaged),
            (Disposition.INSPECT, self.inspect),
            (Disposition.MISSING, self.missing),
        ]


class ReturnService:
    """Return actions over ``store``; ``locations`` are the profile's location ids, ``channels`` the sales
    channels a restock is pushed to (the sync engine's writable ones)."""

    def __init__(self, store: Store, *, locations: Collection[str], channels: Collection[str]) -> None:
        self.store = store
        self.locations = frozenset(locations)
        self.channels = tuple(channels)

    # -- reading -------------------------------------------------------------------------------------------

    def list_returns(self, *, status: str | None = None, channel: str | None = None) -> list[Rma]:
        if status is not None and status not in {s.value for s in ReturnState}:
            expected = ", ".join(s.value for s in ReturnState)
            raise ReturnError(f"status {status!r} is not a return status (expected one of: {expected})", 400)
        with self.store.unit_of_work() as uow:
            return repository.list_returns(uow.session, status=status, channel=channel)

    def get(self, return_id: str) -> Rma:
        with self.store.unit_of_work() as uow:
            return self._get(uow, return_id, lock=False)

    # -- actions -------------------------------------------------------------------------------------------

    def create(
        self,
        order_name: str,
        lines: Sequence[tuple[str, int]],
        *,
        reason: str,
        at_store: str | None = None,
        by_post: bool = False,
        actor: Actor,
    ) -> Rma:
        """Raise an (approved) return of ``lines`` (SKU, units) of the order ``order_name`` names."""
        if by_post == (at_store is not None):
            raise ReturnError("say where it comes back: --by-post or --at-store LOCATION (one of them)", 400)
        if at_store is not None:
            self._known(at_store)
        if not lines or any(quantity <= 0 for _, quantity in lines):
            raise ReturnError("each line needs SKU=QTY with a quantity of at least 1 (e.g. --line TEE-M=1)", 400)
        if not reason.strip():
            raise ReturnError("--reason is empty: expected why the customer returns it, as text", 400)
        order = self._order(order_name)
        with self.store.unit_of_work() as uow:
            records = sorted(uow.lines_of_order(order.channel, order.external_id), key=lambda line: line.id)
            taken: list[ReturnLine] = []
            for sku, quantity in lines:
                taken.extend(self._take(uow, order, records, sku, quantity, reason.strip(), len(taken)))
            first = uow.peek_line(taken[0].order_line_id)
            location = at_store or (first.location_id if first is not None else None)
            if location is None:
                raise ReturnError(f"order {order.id} has no location it shipped from: use --at-store LOCATION", 400)
            return_id = f"{order.id}:r{repository.count_of_order(uow.session, order.id) + 1}"
            now = uow.now()
            rma = Rma(
                id=return_id,
                order_id=order.id,
                channel=order.channel,
                state=ReturnState.OPEN,
                lines=tuple(replace(line, id=f"{return_id}#{line.position}") for line in taken),
                created_at=now,
                location_id=location,
                at_store=at_store is not None,
                reason=reason.strip(),
                updated_at=now,
            )
            if not repository.insert(uow.session, rma):
                raise ReturnError(f"return {return_id} was raised at the same moment: run the command again")
            uow.enqueue_task(return_task(rma, ReturnState.OPEN))
            audit.record(uow, actor, "return.create", rma.id, after=rma.to_json())
        return rma

    def receive(self, return_id: str, at: str, units: Received, *, sku: str | None = None, actor: Actor) -> Rma:
        """The return's units arrived at ``at``: ``units`` say what becomes of them (restocked at ``at``)."""
        self._known(at)
        if units.total <= 0:
            raise ReturnError("nothing received: give --restock, --damaged, --inspect or --missing units", 400)
        with self.store.unit_of_work() as uow:
            rma = self._get(uow, return_id, lock=True)
            self._open(rma, "receive")
            chosen = [line for line in rma.lines if sku is None or line.sku == sku]
            if not chosen:
                raise ReturnError(f"return {rma.id} has no line with SKU {sku!r} (its SKUs: {_skus(rma)})", 400)
            pending = sum(line.pending for line in chosen)
            if units.total > pending:
                what = f" of {sku}" if sku else ""
                raise ReturnError(
                    f"return {rma.id}: {units.total} unit(s){what} received but {pending} still to receive"
                )
            book = LineBook(uow, ApplyOutcome())
            lines = {line.id: line for line in rma.lines}
            for disposition, count in units.items():
                for original in chosen:
                    line = lines[original.id]
                    take = min(count, line.pending)
                    if take:
                        lines[line.id] = dispose(book, rma, line, disposition, take, location_id=at, shown=False)
                        count -= take
            after = replace(rma, lines=tuple(lines.values()), location_id=at, updated_at=uow.now())
            after = self._settle(uow, after, ReturnState.RECEIVED, book.outcome)
            audit.record(uow, actor, "return.receive", rma.id, before=rma.to_json(), after=after.to_json())
        return after

    def decide(self, return_id: str, sku: str, *, restock: int = 0, damaged: int = 0, actor: Actor) -> Rma:
        """Units of ``sku`` held for inspection are restocked (where the return came back) or damaged."""
        if (restock > 0) == (damaged > 0) or restock < 0 or damaged < 0:
            raise ReturnError("decide one way: --restock N or --damaged N (N at least 1)", 400)
        disposition, count = (Disposition.RESTOCK, restock) if restock else (Disposition.DAMAGED, damaged)
        with self.store.unit_of_work() as uow:
            rma = self._get(uow, return_id, lock=True)
            if rma.state not in (ReturnState.RECEIVED, ReturnState.OPEN, ReturnState.REQUESTED):
                raise ReturnError(f"return {rma.id} is {rma.state.value}: no units are held for inspection")
            chosen = [line for line in rma.lines if line.sku == sku]
            if not chosen:
                raise ReturnError(f"return {rma.id} has no line with SKU {sku!r} (its SKUs: {_skus(rma)})", 400)
            held = sum(line.inspect for line in chosen)
            if count > held:
                raise ReturnError(f"return {rma.id}: {count} unit(s) of {sku} to decide but {held} held for inspection")
            book = LineBook(uow, ApplyOutcome())
            lines = {line.id: line for line in rma.lines}
            for original in chosen:
                line = lines[original.id]
                take = min(count, line.inspect)
                if take:
                    where = line.location_id or rma.location_id
                    lines[line.id] = dispose(
                        book, rma, line, disposition, take, location_id=where, shown=False, from_inspect=True
                    )
                    count -= take
            after = replace(rma, lines=tuple(lines.values()), updated_at=uow.now())
            after = self._settle(uow, after, rma.state, book.outcome)
            audit.record(uow, actor, "return.decide", rma.id, before=rma.to_json(), after=after.to_json())
        return after

    def attach_label(
        self, return_id: str, *, carrier: str, tracking_number: str, label_url: str | None, actor: Actor
    ) -> Rma:
        """Record the return label bought for the return (:mod:`omnibridge.returns.labels`)."""
        with self.store.unit_of_work() as uow:
            rma = self._get(uow, return_id, lock=True)
            after = replace(
                rma, carrier=carrier, tracking_number=tracking_number, label_url=label_url, updated_at=uow.now()
            )
            repository.save(uow.session, after)
            audit.record(
                uow, actor, "return.label", rma.id, before=rma.to_json()["label"], after=after.to_json()["label"]
            )
        return after

    # -- helpers -------------------------------------------------------------------------------------------

    def _settle(self, uow: UnitOfWork, rma: Rma, state: ReturnState, outcome: ApplyOutcome) -> Rma:
        """Save ``rma`` in ``state`` (closed once every unit has its final disposition, with the channel told);
        push the restocked SKUs to every sales channel."""
        if rma.settled:
            state = ReturnState.CLOSED
        if RANK[state] < RANK[rma.state]:
            state = rma.state
        rma = replace(rma, state=state)
        repository.save(uow.session, rma)
        if state is ReturnState.CLOSED:
            uow.enqueue_task(return_task(rma, ReturnState.CLOSED))
        if outcome.touched:
            uow.mark_work(self.channels, {sku for sku, _ in outcome.touched})
        return rma

    def _take(
        self,
        uow: UnitOfWork,
        order: Order,
        records: list[OrderLineRecord],
        sku: str,
        quantity: int,
        reason: str,
        numbered: int,
    ) -> list[ReturnLine]:
        """Return lines for ``quantity`` units of ``sku`` over the order's lines of that SKU (locked), each taking
        at most what it shipped less what earlier returns took back."""
        candidates = [record for record in records if record.sku == sku]
        if not candidates:
            skus = ", ".join(sorted({record.sku for record in records})) or "none"
            raise ReturnError(f"order {order.id} has no line with SKU {sku!r} (its SKUs: {skus})", 400)
        taken: list[ReturnLine] = []
        capacity = 0
        details: list[str] = []
        for candidate in candidates:
            record = uow.line(candidate.id) or candidate
            earlier = repository.taken_back(uow.session, record.id)
            free = max(0, record.shipped - earlier)
            capacity += free
            details.append(f"line {record.line_ref}: shipped {record.shipped}, {earlier} in earlier returns")
            take = min(free, quantity - sum(line.quantity for line in taken))
            if take > 0:
                position = numbered + len(taken) + 1
                taken.append(ReturnLine(f"#{position}", position, record.id, record.sku, take, reason))
        if capacity < quantity:
            raise ReturnError(
                f"order {order.id} {sku}: {quantity} to return but {capacity} can come back ({'; '.join(details)})"
            )
        return taken

    def _order(self, name: str) -> Order:
        try:
            return find_named_order(self.store, name)
        except OrderNameError as exc:
            raise ReturnError(str(exc), 404) from None

    def _known(self, location: str) -> None:
        if location not in self.locations:
            known = ", ".join(sorted(self.locations)) or "none"
            raise ReturnError(f"location {location!r} is not a location of the profile (expected one of: {known})", 400)

    @staticmethod
    def _get(uow: UnitOfWork, return_id: str, *, lock: bool) -> Rma:
        rma = repository.get(uow.session, return_id, lock=lock)
        if rma is None:
            raise ReturnError(f"no return {return_id!r} (see `omnibridge returns list`)", 404)
        return rma

    @staticmethod
    def _open(rma: Rma, action: str) -> None:
        if RANK[rma.state] >= 3:
            raise ReturnError(f"return {rma.id} is {rma.state.value}: nothing to {action}")


def _skus(rma: Rma) -> str:
    return ", ".join(sorted({line.sku for line in rma.lines}))
