"""Stateful property test of the ledger: random sequences of movements, re-deliveries and safety-stock changes
against a pure-python model of the documented semantics, on SQLite and (fewer examples) PostgreSQL.

One store serves a whole test; every state-machine run works on its own SKUs (a fresh prefix), so runs never
see each other's positions.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from omnibridge.errors import ConflictError, InsufficientStockError
from omnibridge.ledger import records
from omnibridge.models import (
    MOVEMENT_EFFECTS,
    InventoryPosition,
    MovementKind,
    MovementResult,
    MovementStatus,
    Product,
    StockMovement,
    Variant,
)
from omnibridge.store import Store
from omnibridge.store.engine import read_session

T0 = datetime(2026, 6, 1, tzinfo=UTC)
SKUS = ("A", "B", "BO")  # BO allows backorders
BACKORDER = "BO"
LOCATIONS = ("l1", "l2")
COUNTABLE = {kind for kind, effect in MOVEMENT_EFFECTS.items() if "on_hand" in effect} | {MovementKind.COUNT}
SIMPLE_KINDS = sorted(set(MovementKind) - {MovementKind.ADJUSTMENT, MovementKind.COUNT})


@dataclass
class ModelPosition:
    on_hand: int = 0
    committed: int = 0
    reserved: int = 0
    safety_stock: int = 0
    incoming: int = 0
    history: list[tuple[datetime, MovementKind, int]] = field(default_factory=list)
    """(occurred_at, kind, on_hand delta) of every applied movement."""

    @property
    def available(self) -> int:
        return self.on_hand - self.committed - self.reserved - self.safety_stock

    def buckets(self) -> tuple[int, int, int, int, int]:
        return (self.on_hand, self.committed, self.reserved, self.safety_stock, self.incoming)


Deltas = tuple[int, int, int, int]


def model_outcome(pos: ModelPosition, m: StockMovement, *, backorder: bool) -> Deltas | type[Exception]:
    """What the documented semantics say ``m`` does to ``pos``: its deltas, or the error that refuses it."""
    q = m.quantity
    counts = [at for at, kind, _ in pos.history if kind is MovementKind.COUNT]
    superseded = m.kind in COUNTABLE and bool(counts) and m.occurred_at < max(counts)
    if m.kind is MovementKind.COUNT:
        d_on_hand = 0 if superseded else q - sum(d for at, _, d in pos.history if at <= m.occurred_at)
    else:
        d_on_hand = 0 if superseded else MOVEMENT_EFFECTS[m.kind].get("on_hand", 0) * q
    d_committed = {MovementKind.COMMITMENT: q, MovementKind.COMMITMENT_RELEASE: -q, MovementKind.FULFILMENT: -q}.get(
        m.kind, 0
    )
    d_reserved = {MovementKind.RESERVATION: q, MovementKind.RELEASE: -q}.get(m.kind, 0)
    d_incoming = {MovementKind.EXPECTED: q, MovementKind.RECEIPT: -min(q, pos.incoming)}.get(m.kind, 0)
    if m.kind is MovementKind.RELEASE and q > pos.reserved:
        return ConflictError
    if m.kind in (MovementKind.COMMITMENT_RELEASE, MovementKind.FULFILMENT) and q > pos.committed:
        return ConflictError
    change = d_on_hand - d_committed - d_reserved
    if not backorder and change < 0 and pos.available + change < 0:
        return InsufficientStockError
    return (d_on_hand, d_committed, d_reserved, d_incoming)


class LedgerMachine(RuleBasedStateMachine):
    store: Store  # set by the test that runs the machine

    def __init__(self) -> None:
        super().__init__()
        self.run = uuid.uuid4().hex[:10]
        self.model: dict[tuple[str, str], ModelPosition] = {}
        self.accepted: list[tuple[StockMovement, MovementResult]] = []
        self.keys = 0
        self.store.upsert_product(
            Product(
                id=f"{self.run}-p",
                title="t",
                variants=[Variant(sku=self.sku(BACKORDER), product_id=f"{self.run}-p", allow_backorder=True)],
            )
        )

    def sku(self, name: str) -> str:
        return f"{self.run}-{name}"

    def submit(self, kind: MovementKind, sku: str, location: str, quantity: int, minute: int) -> None:
        self.keys += 1
        movement = StockMovement(
            idempotency_key=f"{self.run}:{self.keys}",
            source="hypothesis",
            kind=kind,
            sku=self.sku(sku),
            location_id=location,
            quantity=quantity,
            occurred_at=T0 + timedelta(minutes=minute),
        )
        pos = self.model.setdefault((sku, location), ModelPosition())
        expected = model_outcome(pos, movement, backorder=sku == BACKORDER)
        if isinstance(expected, type):
            before = self.store.position(movement.sku, location)
            try:
                self.store.apply(movement)
            except expected:
                pass
            else:
                raise AssertionError(f"{movement!r} should have raised {expected.__name__}")
            assert self.store.position(movement.sku, location) == before
            return
        result = self.store.apply(movement)
        recorded = result.recorded
        assert result.status is MovementStatus.APPLIED
        assert result.shortfall == 0
        assert (
            recorded.delta_on_hand,
            recorded.delta_committed,
            recorded.delta_reserved,
            recorded.delta_incoming,
        ) == expected
        pos.on_hand += expected[0]
        pos.committed += expected[1]
        pos.reserved += expected[2]
        pos.incoming += expected[3]
        pos.history.append((movement.occurred_at, kind, expected[0]))
        assert self._buckets(result.position) == pos.buckets()
        self.accepted.append((movement, result))

    @staticmethod
    def _buckets(position: InventoryPosition) -> tuple[int, int, int, int, int]:
        return (position.on_hand, position.committed, position.reserved, position.safety_stock, position.incoming)

    @rule(
        kind=st.sampled_from(SIMPLE_KINDS),
        sku=st.sampled_from(SKUS),
        location=st.sampled_from(LOCATIONS),
        quantity=st.integers(1, 6),
        minute=st.integers(0, 30),
    )
    def move(self, kind: MovementKind, sku: str, location: str, quantity: int, minute: int) -> None:
        self.submit(kind, sku, location, quantity, minute)

    @rule(
        sku=st.sampled_from(SKUS),
        location=st.sampled_from(LOCATIONS),
        quantity=st.integers(-4, 4).filter(bool),
        minute=st.integers(0, 30),
    )
    def adjust(self, sku: str, location: str, quantity: int, minute: int) -> None:
        self.submit(MovementKind.ADJUSTMENT, sku, location, quantity, minute)

    @rule(
        sku=st.sampled_from(SKUS),
        location=st.sampled_from(LOCATIONS),
        counted=st.integers(0, 12),
        minute=st.integers(0, 30),
    )
    def count(self, sku: str, location: str, counted: int, minute: int) -> None:
        self.submit(MovementKind.COUNT, sku, location, counted, minute)

    @rule(sku=st.sampled_from(SKUS), location=st.sampled_from(LOCATIONS), quantity=st.integers(0, 3))
    def safety_stock(self, sku: str, location: str, quantity: int) -> None:
        pos = self.model.setdefault((sku, location), ModelPosition())
        refused = sku != BACKORDER and quantity > pos.safety_stock and pos.available - (quantity - pos.safety_stock) < 0
        try:
            self.store.set_safety_stock(self.sku(sku), location, quantity)
        except InsufficientStockError:
            assert refused
        else:
            assert not refused
            pos.safety_stock = quantity

    @precondition(lambda self: bool(self.accepted))
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        """Re-deliver a prefix of what was applied: every one is a duplicate and nothing changes."""
        length = data.draw(st.integers(1, len(self.accepted)), label="prefix")
        before = self._all_positions()
        for movement, original in self.accepted[:length]:
            again = self.store.apply(movement)
            assert again.status is MovementStatus.DUPLICATE
            assert again.recorded == original.recorded
        assert self._all_positions() == before

    def _all_positions(self) -> list[InventoryPosition]:
        by_sku = self.store.positions_of([self.sku(sku) for sku in SKUS])
        return [p for sku in SKUS for p in by_sku[self.sku(sku)]]

    @invariant()
    def positions_are_the_sum_of_their_movements_and_match_the_model(self) -> None:
        # one read transaction for the whole check (a snapshot; the check runs after every step)
        with read_session(self.store.engine) as session:
            positions = records.positions_of(session, [self.sku(sku) for sku in SKUS])
            movements = {sku: records.movements(session, self.sku(sku)) for sku in SKUS}
        for sku in SKUS:
            recorded = movements[sku]
            for position in positions[self.sku(sku)]:
                mine = [r for r in recorded if r.movement.location_id == position.location_id]
                sums = (
                    sum(r.delta_on_hand for r in mine),
                    sum(r.delta_committed for r in mine),
                    sum(r.delta_reserved for r in mine),
                    sum(r.delta_incoming for r in mine),
                )
                assert (position.on_hand, position.committed, position.reserved, position.incoming) == sums
                model = self.model.get((sku, position.location_id), ModelPosition())
                assert self._buckets(position) == model.buckets()
                if sku != BACKORDER:
                    assert position.available >= 0


def run_machine(store: Store, *, max_examples: int) -> None:
    machine = type("BoundLedgerMachine", (LedgerMachine,), {"store": store})
    run_state_machine_as_test(machine, settings=settings(max_examples=max_examples))


def test_ledger_state_machine(store: Store) -> None:
    is_postgres = store.engine.dialect.name == "postgresql"
    examples = settings().max_examples
    run_machine(store, max_examples=max(10, examples // 4) if is_postgres else examples)
