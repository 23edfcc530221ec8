"""A unit of work: one decision that changes several rows, committed as one transaction.

Moving an order line (release here, commit there), applying a webhook delivery and marking it done, recording
what a channel is known to show together with the write: each is one :class:`UnitOfWork`, so a failure or a
crash part-way leaves none of it. Positions are locked in a fixed order (sorted by SKU, then location) before
anything is read under them, so two units of work touching the same positions queue instead of deadlocking.

Inside a unit of work each movement runs in a savepoint: a refused movement (``InsufficientStockError``,
``ConflictError``) is rolled back alone and the caller decides what to do next (try another location); anything
the caller lets escape rolls back the whole unit.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlmodel import Session

from omnibridge.models import InventoryPosition, MovementResult, MovementStatus, Order, OrderLineRecord, StockMovement
from omnibridge.store import catalog, fulfilment_tasks, order_lines, orders, pending_work, propagation, sync_state
from omnibridge.store.propagation import Incident

Position = tuple[str, str]


class UnitOfWork:
    """The repositories a decision needs, all in one write transaction (see the module docstring).

    Obtained from :meth:`omnibridge.store.Store.unit_of_work`; valid only inside its ``with`` block.
    """

    def __init__(self, session: Session, clock: Callable[[], datetime]) -> None:
        self.session = session
        self._clock = clock
        self._locked: set[Position] = set()
        self._savepoints = itertools.count(1)

    def now(self) -> datetime:
        return self._clock()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A part of the unit that is undone alone if it raises (the exception still propagates).

        Plain ``SAVEPOINT`` statements on the unit's connection (everything here is Core, nothing the ORM session
        would have to flush or expire): SQLAlchemy's ``begin_nested`` compiles a statement for every savepoint
        name, which cost more than the work inside a line's savepoint."""
        connection = self.session.connection()
        name = f"ob_{next(self._savepoints)}"
        connection.exec_driver_sql(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            try:
                connection.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {name}")
                connection.exec_driver_sql(f"RELEASE SAVEPOINT {name}")
            except Exception:  # noqa: S110 - the connection is gone: the whole unit rolls back with the original error
                pass
            raise
        connection.exec_driver_sql(f"RELEASE SAVEPOINT {name}")

    # -- ledger ------------------------------------------------------------------------------------------

    def lock_positions(self, positions: Iterable[Position]) -> None:
        """Lock ``positions`` (creating missing ones) in the fixed order; already locked ones are skipped."""
        from omnibridge.ledger.apply import lock_position

        for sku, location_id in sorted(set(positions) - self._locked):
            lock_position(self.session, sku, location_id)
            self._locked.add((sku, location_id))

    def lock_and_read(self, positions: Iterable[Position]) -> dict[Position, InventoryPosition]:
        """Lock ``positions`` (creating missing ones) in the fixed order, in a few statements however many they
        are (:func:`omnibridge.ledger.bulk.lock_many`); their state under the lock."""
        from omnibridge.ledger.bulk import lock_many

        found = lock_many(self.session, set(positions))
        self._locked.update(found)
        return found

    def read_positions(self, positions: Iterable[Position]) -> dict[Position, InventoryPosition]:
        """The state of ``positions`` that exist, without locking them (a missing one is all zeros)."""
        from omnibridge.ledger.bulk import read_many

        return read_many(self.session, set(positions))

    def apply(
        self,
        movement: StockMovement,
        *,
        allow_shortfall: bool = False,
        shown_on: str | None = None,
        shown_at: datetime | None = None,
    ) -> MovementResult:
        """:meth:`Store.apply <omnibridge.store.Store.apply>` inside this unit (a refusal undoes only itself)."""
        from omnibridge.ledger.apply import apply_movement

        locked = (movement.sku, movement.location_id) in self._locked
        with self.savepoint():
            result = apply_movement(
                self.session, movement, allow_shortfall=allow_shortfall, now=self._clock(), locked=locked
            )
            if shown_on is not None and result.status is MovementStatus.APPLIED:
                recorded = result.recorded
                delta = recorded.delta_on_hand - recorded.delta_committed - recorded.delta_reserved
                propagation.shift_known_level(
                    self.session,
                    shown_on,
                    (movement.sku, movement.location_id),
                    delta,
                    self._clock(),
                    occurred_at=shown_at,
                )
        self._locked.add((movement.sku, movement.location_id))
        return result

    def shift_shown(self, channel: str, key: Position, delta: int, occurred_at: datetime | None = None) -> None:
        """Move what ``channel`` is known to show at ``key`` by ``delta`` (a sale the channel took off there at
        ``occurred_at`` while the ledger committed it elsewhere: a routed order; see
        :func:`omnibridge.store.propagation.shift_known_level`)."""
        propagation.shift_known_level(self.session, channel, key, delta, self._clock(), occurred_at=occurred_at)

    def known_skus(self, skus: Iterable[str]) -> set[str]:
        """Those of ``skus`` that are in the catalog."""
        return catalog.known_skus(self.session, skus)

    def has_movement(self, idempotency_key: str) -> bool:
        """Whether a movement is recorded under ``idempotency_key``."""
        from omnibridge.ledger import records

        return records.by_key(self.session, idempotency_key) is not None

    def position(self, sku: str, location_id: str) -> InventoryPosition:
        from omnibridge.ledger import records

        return records.position(self.session, sku, location_id)

    def positions(self, sku: str) -> list[InventoryPosition]:
        from omnibridge.ledger import records

        return records.positions(self.session, sku)

    # -- order lines and orders ----------------------------------------------------------------------------

    def line(self, line_id: str) -> OrderLineRecord | None:
        """The line ``line_id``, locked until this unit ends (None: not recorded yet)."""
        return order_lines.lock_line(self.session, line_id)

    def peek_line(self, line_id: str) -> OrderLineRecord | None:
        """The line ``line_id`` as it is, without locking it."""
        return order_lines.get_line(self.session, line_id)

    def save_line(self, line: OrderLineRecord) -> None:
        order_lines.save_line(self.session, line)

    def lines_of_order(self, channel: str, order_ref: str) -> list[OrderLineRecord]:
        return order_lines.lines_of_order(self.session, channel, order_ref)

    def open_lines_at(self, sku: str, location_id: str) -> list[OrderLineRecord]:
        return order_lines.open_lines_at(self.session, sku, location_id)

    def find_order(self, channel: str, external_id: str) -> Order | None:
        return orders.find_order(self.session, channel, external_id)

    def save_order(self, order: Order) -> Order:
        return orders.save_order(self.session, order)

    # -- engine state ----------------------------------------------------------------------------------------

    def observe_level(self, channel: str, key: Position, shown: int, observed_at: datetime) -> bool:
        """:meth:`Store.observe_level <omnibridge.store.Store.observe_level>` inside this unit."""
        return propagation.observe_level(self.session, channel, key, shown, observed_at, self._clock())

    def add_incident(self, incident: Incident) -> bool:
        return propagation.add_incident(self.session, incident, self._clock())

    def take_delivery(self, entry_id: int) -> bool:
        """Claim a pending inbox entry for this unit and mark it done, committed with the rest of the unit (a row
        lock until it ends); False when it is no longer pending, applied or dead-lettered by another process
        meanwhile (see :func:`omnibridge.store.sync_state.take`)."""
        return sync_state.take(self.session, entry_id, self._clock())

    def set_bookmark(self, channel: str, value: str) -> None:
        sync_state.set_bookmark(self.session, channel, value, self._clock())

    def mark_work(self, channels: Iterable[str], skus: Iterable[str]) -> None:
        """Record that ``skus`` must be reconciled on ``channels`` (durable with the rest of this unit)."""
        pending_work.mark_work(self.session, channels, pending_work.PUSH, skus, self._clock())

    # -- fulfilment ----------------------------------------------------------------------------------------

    def enqueue_task(self, task: fulfilment_tasks.FulfilmentTask) -> bool:
        """Record a vendor call that carries this unit's decision out (see :mod:`omnibridge.store.fulfilment_tasks`);
        False when a task with its id is already recorded."""
        return fulfilment_tasks.enqueue(self.session, task, self.now())
