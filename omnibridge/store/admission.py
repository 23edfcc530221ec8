"""Group commit for webhook deliveries: those that wait to be stored together are stored in one transaction.

The daemon's receiver stores each delivery on one of several threads before it answers the vendor. Every write
transaction of a SQLite store waits for the engine's write lock (:mod:`omnibridge.store.engine`), and each costs
its begin, its commit and the hand-offs of the lock and the GIL. When several deliveries wait at once, the first
of their threads to get its turn stores every one that is waiting, in one transaction, and the others find theirs
done: the same answers, fewer turns.

Contract (:meth:`DeliveryAdmission.admit`): a call returns only once its delivery is committed (or found to be a
duplicate, or kept as a dead letter), exactly as one transaction per delivery would; a call that raises has
written nothing of its delivery. A delivery that makes its group's transaction fail never fails the others: the
group is then stored again one delivery per transaction, and only the failing one's caller gets the error.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import sqlalchemy as sa

from omnibridge.errors import StoreError
from omnibridge.sdk.webhooks import WebhookDelivery
from omnibridge.store import sync_state
from omnibridge.store.engine import write_session
from omnibridge.store.sync_state import Admission


@dataclass(slots=True)
class _Ticket:
    """One caller's delivery, and what storing it did once it is settled."""

    channel: str
    delivery: WebhookDelivery
    admission: Admission | None = None
    error: Exception | None = None

    @property
    def settled(self) -> bool:
        return self.admission is not None or self.error is not None


class DeliveryAdmission:
    """Stores deliveries for any number of threads, the ones waiting together in one transaction each time."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._waiting: list[_Ticket] = []
        self._queue = threading.Lock()
        self._storing = threading.Lock()
        """Held by the caller storing a group: the others wait for it, then find their delivery stored or lead."""

    def admit(self, channel: str, delivery: WebhookDelivery) -> Admission:
        """Store ``delivery`` pending on ``channel`` (see :func:`omnibridge.store.sync_state.admit_delivery`);
        returns once it is committed. Raises :class:`StoreError` (or what storing it alone raised) when it was
        not stored."""
        ticket = _Ticket(channel, delivery)
        with self._queue:
            self._waiting.append(ticket)
        with self._storing:
            if not ticket.settled:
                self._store_group(ticket)
        if ticket.error is not None:
            raise ticket.error
        assert ticket.admission is not None  # settled: stored, or the error above
        return ticket.admission

    def _store_group(self, own: _Ticket) -> None:
        group: list[_Ticket] = []
        try:
            with write_session(self._engine) as session:
                # taken once the write turn is ours: the group holds every delivery that arrived meanwhile
                group = self._take_waiting()
                admissions = [sync_state.admit_delivery(session, t.channel, t.delivery) for t in group]
            for ticket, admission in zip(group, admissions, strict=True):
                ticket.admission = admission
        except Exception as exc:
            if not group:  # failed before its turn: nothing taken, the others stay waiting for theirs
                self._withdraw(own)
                own.error = exc
            elif len(group) == 1:
                group[0].error = exc
            else:
                for ticket in group:
                    self._store_alone(ticket)
        finally:
            for ticket in group:
                if not ticket.settled:  # interrupted (not an Exception): never leave a caller without an answer
                    ticket.error = StoreError("storing the delivery was interrupted; nothing was written")

    def _store_alone(self, ticket: _Ticket) -> None:
        try:
            with write_session(self._engine) as session:
                admission = sync_state.admit_delivery(session, ticket.channel, ticket.delivery)
        except Exception as exc:
            ticket.error = exc
        else:
            ticket.admission = admission  # only once committed

    def _take_waiting(self) -> list[_Ticket]:
        with self._queue:
            group, self._waiting = self._waiting, []
        return group

    def _withdraw(self, ticket: _Ticket) -> None:
        with self._queue:
            self._waiting = [waiting for waiting in self._waiting if waiting is not ticket]
