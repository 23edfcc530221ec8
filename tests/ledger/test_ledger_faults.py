"""Faults injected at exact points inside ``apply_movement``, on SQLite and PostgreSQL.

Each step function of :mod:`omnibridge.ledger.apply` is replaced, for one call, by a wrapper that raises at a
chosen point: after the position lock, after the movement row was inserted, between the insert and the
position update, after the update but before commit, and at commit itself. Whatever the point, the store
must be left exactly as before (no movement row, not even the key; the position unchanged, a position
created by the lock gone), and the same movement must then apply once, and only once.

The second half drops the database connection itself at those points (PostgreSQL: ``pg_terminate_backend``
from a second connection; SQLite: the store's DB-API connection closed under it): the call fails, nothing is
written, and the same store serves the next calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

import omnibridge.ledger.apply as ledger_apply
from omnibridge.errors import StoreError
from omnibridge.ledger import effects, records
from omnibridge.ledger.records import position_from_row
from omnibridge.models import InventoryPosition, MovementKind, MovementResult, MovementStatus, StockMovement
from omnibridge.store import Store, catalog, open_store
from omnibridge.store.tables import MOVEMENTS, POSITIONS

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
WH = "wh"


class InjectedFault(RuntimeError):
    """Raised by an injected fault (a bug, a timeout, a signal in the middle of a step)."""


class InjectedAbort(BaseException):
    """Like KeyboardInterrupt or a task cancellation: not an Exception, and must still roll back."""


def mv(kind: MovementKind, quantity: int, *, key: str, sku: str, at: datetime = T0) -> StockMovement:
    return StockMovement(
        idempotency_key=key, source="test", kind=kind, sku=sku, location_id=WH, quantity=quantity, occurred_at=at
    )


def buckets(position: InventoryPosition) -> tuple[int, int, int, int, int]:
    return (position.on_hand, position.committed, position.reserved, position.safety_stock, position.incoming)


def rows_with_key(store: Store, key: str) -> int:
    with store.engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).where(MOVEMENTS.c.idempotency_key == key)).scalar_one()
    return int(count)


# -- scenarios: a movement, the state it meets, and the position it must produce once applied ----------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    setup: tuple[StockMovement, ...]
    movement: StockMovement
    after: tuple[int, int, int, int, int]
    """Buckets once ``movement`` is applied."""


def scenarios(tag: str) -> list[Scenario]:
    """Three cases with their own SKUs: a brand-new position, an order against stock, and a count (whose
    delta is computed from the ledger at the count's time)."""
    new, stocked, counted = (f"{tag}-NEW", f"{tag}-STOCKED", f"{tag}-COUNTED")
    return [
        Scenario("new position", (), mv(MovementKind.RECEIPT, 5, key=f"{tag}:receipt", sku=new), (5, 0, 0, 0, 0)),
        Scenario(
            "order against stock",
            (
                mv(MovementKind.RECEIPT, 10, key=f"{tag}:s1", sku=stocked),
                mv(MovementKind.COMMITMENT, 2, key=f"{tag}:s2", sku=stocked),
            ),
            mv(MovementKind.COMMITMENT, 3, key=f"{tag}:order", sku=stocked),
            (10, 5, 0, 0, 0),
        ),
        Scenario(
            "count",
            (mv(MovementKind.RECEIPT, 10, key=f"{tag}:c1", sku=counted),),
            mv(MovementKind.COUNT, 7, key=f"{tag}:count", sku=counted, at=T0 + timedelta(hours=1)),
            (7, 0, 0, 0, 0),
        ),
    ]


# -- injection ---------------------------------------------------------------------------------------------------


@dataclass
class Injection:
    """Arms one fault for one movement (by key) and records what the transaction looked like when it fired."""

    key: str
    fault: Callable[[sa.Connection], None]
    fired: int = 0
    row_visible: bool | None = None
    """Whether the movement row was visible inside the transaction when the fault fired."""
    position_then: InventoryPosition | None = None
    """The position as the transaction saw it when the fault fired."""

    def armed_for(self, movement: StockMovement) -> bool:
        return movement.idempotency_key == self.key and self.fired == 0

    def fire(self, conn: sa.Connection, sku: str) -> None:
        """Look at the transaction through its own connection, then run the fault."""
        self.fired += 1
        key_rows = conn.execute(sa.select(MOVEMENTS.c.id).where(MOVEMENTS.c.idempotency_key == self.key))
        self.row_visible = key_rows.first() is not None
        row = conn.execute(sa.select(POSITIONS).where(POSITIONS.c.sku == sku, POSITIONS.c.location_id == WH)).first()
        self.position_then = InventoryPosition(sku=sku, location_id=WH) if row is None else position_from_row(row)
        self.fault(conn)


@dataclass(frozen=True)
class FaultPoint:
    name: str
    after_insert: bool
    """Whether the movement row exists in the transaction at this point."""
    after_update: bool
    """Whether the position update already ran in the transaction at this point."""


POINTS = [
    FaultPoint("after lock_position", after_insert=False, after_update=False),
    FaultPoint("after the insert of the movement", after_insert=True, after_update=False),
    FaultPoint("in check", after_insert=True, after_update=False),
    FaultPoint("in allows_backorder", after_insert=True, after_update=False),
    FaultPoint("in _add before the update", after_insert=True, after_update=False),
    FaultPoint("in _add after the update", after_insert=True, after_update=True),
    FaultPoint("in recorded_from_row", after_insert=True, after_update=True),
    FaultPoint("at commit", after_insert=True, after_update=True),
]


@dataclass
class Current:
    """The movement being applied (the wrappers of pure functions have no session or key of their own)."""

    movement: StockMovement | None = None
    session: Session | None = None


@contextmanager
def installed(store: Store, point: FaultPoint, injection: Injection) -> Iterator[None]:
    """Within the block, the step functions of ``omnibridge.ledger.apply`` are wrapped (passing through) so
    that ``injection`` fires at ``point`` when its movement is applied through ``store``."""
    current = Current()
    real_apply_movement = ledger_apply.apply_movement
    real_insert_movement = ledger_apply._insert_movement
    real_lock_position = ledger_apply.lock_position
    real_check = effects.check
    real_allows_backorder = catalog.allows_backorder
    real_add = ledger_apply._add
    real_recorded_from_row = records.recorded_from_row

    def armed() -> bool:
        return current.movement is not None and injection.armed_for(current.movement)

    def fire(conn: sa.Connection | None = None) -> None:
        assert current.session is not None
        assert current.movement is not None
        injection.fire(conn or current.session.connection(), current.movement.sku)

    def apply_movement(session: Session, movement: StockMovement, **kwargs: Any) -> MovementResult:
        current.movement, current.session = movement, session
        return real_apply_movement(session, movement, **kwargs)

    def insert_movement(session: Session, row: Any) -> Any:
        inserted = real_insert_movement(session, row)
        if point.name == "after the insert of the movement" and inserted is not None and armed():
            fire()
        return inserted

    def lock_position(session: Session, sku: str, location_id: str) -> InventoryPosition:
        locked = real_lock_position(session, sku, location_id)
        if point.name == "after lock_position" and armed():
            fire()
        return locked

    def check(*args: Any, **kwargs: Any) -> int:
        if point.name == "in check" and armed():
            fire()
        return real_check(*args, **kwargs)

    def allows_backorder(session: Session, sku: str) -> bool:
        if point.name == "in allows_backorder" and armed():
            fire()
        return real_allows_backorder(session, sku)

    def add(session: Session, *args: Any) -> InventoryPosition:
        if point.name == "in _add before the update" and armed():
            fire()
        updated = real_add(session, *args)
        if point.name == "in _add after the update" and armed():
            fire()
        return updated

    def recorded_from_row(row: Any) -> Any:
        if point.name == "in recorded_from_row" and armed():
            fire()
        return real_recorded_from_row(row)

    def on_commit(conn: sa.Connection) -> None:
        if armed():
            fire(conn)  # the session refuses statements while it commits; its connection does not

    listening = point.name == "at commit"
    with pytest.MonkeyPatch.context() as patch:
        # Store.apply imports apply_movement from the module at call time, so patching the attribute works.
        patch.setattr(ledger_apply, "apply_movement", apply_movement)
        patch.setattr(ledger_apply, "_insert_movement", insert_movement)
        patch.setattr(ledger_apply, "lock_position", lock_position)
        patch.setattr(ledger_apply, "check", check)
        patch.setattr(ledger_apply, "allows_backorder", allows_backorder)
        patch.setattr(ledger_apply, "_add", add)
        patch.setattr(ledger_apply, "recorded_from_row", recorded_from_row)
        if listening:
            sa.event.listen(store.engine, "commit", on_commit)
        try:
            yield
        finally:
            if listening:
                sa.event.remove(store.engine, "commit", on_commit)


def raise_(exc: BaseException) -> Callable[[sa.Connection], None]:
    def fault(_conn: sa.Connection) -> None:
        raise exc

    return fault


def assert_untouched(store: Store, scenario: Scenario, before: list[InventoryPosition], ledger_before: int) -> None:
    sku = scenario.movement.sku
    assert rows_with_key(store, scenario.movement.idempotency_key) == 0, "the key was recorded"
    assert len(store.movements(sku)) == ledger_before
    # Exactly as before, updated_at included; a position the lock created is gone with the transaction.
    assert store.positions(sku) == before


def assert_applies_once(store: Store, scenario: Scenario) -> None:
    first = store.apply(scenario.movement)
    again = store.apply(scenario.movement)
    assert first.status is MovementStatus.APPLIED
    assert again.status is MovementStatus.DUPLICATE
    assert buckets(store.position(scenario.movement.sku, WH)) == scenario.after
    assert rows_with_key(store, scenario.movement.idempotency_key) == 1


# -- exceptions at each step ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("point", POINTS, ids=[p.name.replace(" ", "-") for p in POINTS])
def test_a_fault_inside_apply_writes_nothing_and_the_movement_applies_later(store: Store, point: FaultPoint) -> None:
    for scenario in scenarios("F"):
        for setup in scenario.setup:
            store.apply(setup)
        before = store.positions(scenario.movement.sku)
        ledger_before = len(store.movements(scenario.movement.sku))
        injection = Injection(scenario.movement.idempotency_key, raise_(InjectedFault(point.name)))

        with installed(store, point, injection), pytest.raises(InjectedFault):
            store.apply(scenario.movement)

        # The fault fired once, where it was meant to: the row was (or was not yet) inserted, the position
        # was (or was not yet) updated inside the transaction.
        assert injection.fired == 1, scenario.name
        assert injection.row_visible is point.after_insert, scenario.name
        assert injection.position_then is not None
        updated_inside = buckets(injection.position_then) == scenario.after
        assert updated_inside is point.after_update, scenario.name
        assert_untouched(store, scenario, before, ledger_before)
        assert_applies_once(store, scenario)


def test_a_base_exception_between_update_and_commit_rolls_back(store: Store) -> None:
    point = next(p for p in POINTS if p.name == "in _add after the update")
    scenario = scenarios("ABORT")[1]
    for setup in scenario.setup:
        store.apply(setup)
    before = store.positions(scenario.movement.sku)
    injection = Injection(scenario.movement.idempotency_key, raise_(InjectedAbort()))

    with installed(store, point, injection), pytest.raises(InjectedAbort):
        store.apply(scenario.movement)

    assert injection.fired == 1
    assert_untouched(store, scenario, before, len(scenario.setup))
    assert_applies_once(store, scenario)


# -- the connection dropped mid-transaction ------------------------------------------------------------------------


def drop_connection(store_url: str) -> Callable[[sa.Connection], None]:
    """A fault that kills the session's own database connection, leaving the transaction half done."""
    if store_url.startswith("postgresql"):

        def terminate(conn: sa.Connection) -> None:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            admin = sa.create_engine(store_url, poolclass=sa.NullPool)
            try:
                with admin.connect() as other:
                    # Waits (up to 5 s) until the backend is gone, so the next statement surely fails.
                    stopped = other.execute(sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}).scalar()
            finally:
                admin.dispose()
            assert stopped, f"backend {pid} was not terminated"

        return terminate

    def close(conn: sa.Connection) -> None:
        # Closing a SQLite connection discards its open transaction, like a server-side disconnect.
        dbapi_connection = conn.connection.dbapi_connection
        assert dbapi_connection is not None
        dbapi_connection.close()

    return close


DROP_POINTS = [
    p for p in POINTS if p.name in ("after the insert of the movement", "in _add after the update", "at commit")
]


@pytest.mark.parametrize("point", DROP_POINTS, ids=[p.name.replace(" ", "-") for p in DROP_POINTS])
def test_a_connection_dropped_mid_transaction_writes_nothing_and_the_store_recovers(
    store: Store, store_url: str, point: FaultPoint
) -> None:
    scenario = scenarios("DROP")[1]
    for setup in scenario.setup:
        store.apply(setup)
    before = store.positions(scenario.movement.sku)
    injection = Injection(scenario.movement.idempotency_key, drop_connection(store_url))

    # A server-side disconnect is a StoreError; a SQLite connection closed under the store is a programming
    # error of the test's own making and surfaces as the driver's error.
    expected: type[Exception] = StoreError if store_url.startswith("postgresql") else DBAPIError
    with installed(store, point, injection), pytest.raises(expected) as raised:
        store.apply(scenario.movement)
    if expected is StoreError:
        assert str(raised.value).startswith("database error at postgresql+psycopg://")
        assert str(raised.value).endswith("; nothing was written")

    assert injection.fired == 1
    assert injection.row_visible is True
    # Nothing was written, as seen by the same store (its pool replaced the dead connection) and by another.
    assert_untouched(store, scenario, before, len(scenario.setup))
    with open_store(store_url) as other:
        assert_untouched(other, scenario, before, len(scenario.setup))
        # No lock was left behind: another store can write (SQLite would otherwise wait out its busy timeout).
        other.apply(mv(MovementKind.RECEIPT, 1, key="DROP:other", sku="DROP-OTHER"))
    # The same store recovers: the movement applies once, and further calls work.
    assert_applies_once(store, scenario)
    assert store.apply(mv(MovementKind.RECEIPT, 1, key="DROP:next", sku=scenario.movement.sku)).status is (
        MovementStatus.APPLIED
    )
    assert store.position(scenario.movement.sku, WH).on_hand == scenario.after[0] + 1
