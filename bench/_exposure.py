"""A discrete-event simulation of channels selling one stock while omnibridge keeps their displays up to date.

Channels (:mod:`bench._market`) each show a quantity per (SKU, location) and honour it: an order is accepted at
the feed location showing the most (at least the order's quantity), that display goes down at once, and
otherwise the order is refused. What channels are made to show comes from the real pieces of the engine: the
ledger :class:`~omnibridge.store.Store` (each accepted order becomes a commitment, recorded with
``allow_shortfall`` as the sync engine records channel orders, so an oversell is recorded, not refused) and the
:class:`~omnibridge.policy.AvailabilityPlanner`. Only the transport between them is simulated:

* periodic (``sync_every_s``): webhooks off. At every tick the engine imports the orders accepted since the last
  one and overwrites every channel's display with the planner's quantity; between ticks displays only go down
  with each channel's own sales.
* event-driven (``sync_every_s`` is None): an accepted order reaches the ledger after an ingest delay (webhook
  delivery); the engine then plans that SKU and pushes every display that differs, each landing after a push delay.
  The plan's input is the ledger's available minus the units of orders channels have accepted that the ledger has
  not recorded yet (the channels' committed counts, read before pushing). A push is a compare-and-set on the
  display the plan was made from: when the channel sold in between, it fails and the SKU is planned again. One
  round per SKU is in flight at a time; changes meanwhile are coalesced into the next round. In strict mode the
  decreases of a round land before its increases are sent, and a failed decrease cancels the increases.

Time is simulated: nothing sleeps, and every delay is in simulated seconds.
"""

from __future__ import annotations

import functools
import heapq
import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench._market import CHANNELS, DAY_S, LOCATIONS, Market, Order, Position
from omnibridge.config.availability import AvailabilityPolicy
from omnibridge.models import Location, LocationType, MovementKind, Product, StockMovement, Variant
from omnibridge.policy import AvailabilityPlanner, ChannelFeed
from omnibridge.store import Store

DAY_START = datetime(2026, 11, 2, tzinfo=UTC)
Display = tuple[str, str, str]
"""(channel, SKU, location id)."""


@dataclass(frozen=True)
class Mode:
    """How displays are kept up to date in one run."""

    name: str
    policy: AvailabilityPolicy
    sync_every_s: float | None = None
    ingest_s: tuple[float, float] = (0.1, 0.3)
    push_s: tuple[float, float] = (0.2, 0.7)

    @property
    def strict(self) -> bool:
        return self.policy.mode == "strict"


@dataclass
class Outcome:
    """The figures of one run."""

    mode: str
    orders: int = 0
    accepted_orders: int = 0
    accepted_units: int = 0
    refused_units: int = 0
    lost_sales_units: int = 0
    oversold_units: int = 0
    committed_units: int = 0
    oversold_positions: int = 0
    pushes: int = 0
    stale_pushes: int = 0
    wall_seconds: float = 0.0


@dataclass
class _Push:
    channel: str
    sku: str
    location: str
    expected: int
    target: int

    @property
    def display(self) -> Display:
        return (self.channel, self.sku, self.location)


@dataclass
class _Round:
    in_flight: bool = False
    dirty: bool = False
    outstanding: int = 0
    waiting: list[_Push] = field(default_factory=list)
    decrease_failed: bool = False


class Simulation:
    """One run of ``market`` under ``mode`` against ``store`` (empty, migrated)."""

    def __init__(self, market: Market, mode: Mode, store: Store, *, seed: int) -> None:
        self.market = market
        self.mode = mode
        self.store = store
        self.rng = random.Random(seed)
        self.planner = AvailabilityPlanner(
            mode.policy, [ChannelFeed(c.id, c.priority, frozenset(c.locations)) for c in CHANNELS]
        )
        self.channels = {c.id: c for c in CHANNELS}
        self.display: dict[Display, int] = {}
        self.pending: dict[Position, int] = {}
        self.backlog: list[tuple[Order, str]] = []
        self.rounds: dict[str, _Round] = {}
        self.outcome = Outcome(mode.name)
        self._queue: list[tuple[float, int, Callable[[float], None]]] = []
        self._seq = itertools.count()

    # -- driver ------------------------------------------------------------------------------------------

    def run(self) -> Outcome:
        started = time.perf_counter()
        self._seed_store()
        for sku in self.market.skus:
            self._overwrite(sku)
        for order in self.market.orders:
            self._at(order.at, functools.partial(self._order, order=order))
        if self.mode.sync_every_s is not None:
            ticks = int(DAY_S // self.mode.sync_every_s)
            for k in range(1, ticks + 1):
                self._at(k * self.mode.sync_every_s, self._tick)
        while self._queue:
            now, _, action = heapq.heappop(self._queue)
            action(now)
        self._import_backlog()  # the day's last orders reach the ledger (the next sync, or their webhooks)
        self._count_oversold()
        self.outcome.wall_seconds = time.perf_counter() - started
        return self.outcome

    def _at(self, when: float, action: Callable[[float], None]) -> None:
        heapq.heappush(self._queue, (when, next(self._seq), action))

    def _seed_store(self) -> None:
        for location in LOCATIONS:
            kind = LocationType.WAREHOUSE if location == "wh" else LocationType.STORE
            self.store.upsert_location(Location(id=location, name=location, type=kind))
        self.store.upsert_product(
            Product(id="low", title="Low stock", variants=[Variant(sku=s, product_id="low") for s in self.market.skus])
        )
        for (sku, location), units in sorted(self.market.stock.items()):
            self.store.apply(
                StockMovement(
                    idempotency_key=f"bench:opening:{sku}:{location}",
                    source="manual",
                    kind=MovementKind.RECEIPT,
                    sku=sku,
                    location_id=location,
                    quantity=units,
                    occurred_at=DAY_START,
                )
            )

    # -- channels ----------------------------------------------------------------------------------------

    def _order(self, now: float, order: Order) -> None:
        self.outcome.orders += 1
        spec = self.channels[order.channel]
        showing = [(self.display[(order.channel, order.sku, loc)], -i, loc) for i, loc in enumerate(spec.locations)]
        shows, _, location = max(showing)
        if shows < order.quantity:
            self.outcome.refused_units += order.quantity
            if any(self._truth(order.sku, loc) >= order.quantity for loc in spec.locations):
                self.outcome.lost_sales_units += order.quantity
            return
        self.display[(order.channel, order.sku, location)] -= order.quantity
        self.outcome.accepted_orders += 1
        self.outcome.accepted_units += order.quantity
        position = (order.sku, location)
        self.pending[position] = self.pending.get(position, 0) + order.quantity
        self.backlog.append((order, location))
        if self.mode.sync_every_s is None:
            self._at(
                now + self.rng.uniform(*self.mode.ingest_s),
                functools.partial(self._ingest, order=order, location=location),
            )

    def _truth(self, sku: str, location: str) -> int:
        """Available once every order accepted so far is counted: the ledger's, less what it has not recorded."""
        return self.store.position(sku, location).available - self.pending.get((sku, location), 0)

    # -- engine: the ledger --------------------------------------------------------------------------------

    def _record(self, order: Order, location: str) -> None:
        self.store.apply(
            StockMovement(
                idempotency_key=f"{order.channel}:order:{order.id}:1:commit",
                source=order.channel,
                kind=MovementKind.COMMITMENT,
                sku=order.sku,
                location_id=location,
                quantity=order.quantity,
                occurred_at=DAY_START + timedelta(seconds=order.at),
                reference=f"{order.channel}:order:{order.id}:1",
            ),
            allow_shortfall=True,
        )
        self.pending[(order.sku, location)] -= order.quantity
        self.backlog.remove((order, location))

    def _import_backlog(self) -> set[str]:
        skus = set()
        for order, location in list(self.backlog):
            self._record(order, location)
            skus.add(order.sku)
        return skus

    def _plan(self, sku: str) -> dict[tuple[str, str], int]:
        available = {loc: self._truth(sku, loc) for loc in LOCATIONS}
        return self.planner.quantities(sku, available)

    # -- engine: periodic full sync ------------------------------------------------------------------------

    def _tick(self, now: float) -> None:
        del now
        for sku in self._import_backlog():
            self.outcome.pushes += self._overwrite(sku)

    def _overwrite(self, sku: str) -> int:
        """Make every channel show the plan for ``sku``; returns how many displays changed."""
        changed = 0
        for (channel, location), quantity in self._plan(sku).items():
            changed += self.display.get((channel, sku, location)) != quantity
            self.display[(channel, sku, location)] = quantity
        return changed

    # -- engine: event-driven propagation --------------------------------------------------------------------

    def _ingest(self, now: float, order: Order, location: str) -> None:
        self._record(order, location)
        state = self.rounds.setdefault(order.sku, _Round())
        if state.in_flight:
            state.dirty = True
        else:
            self._start_round(now, order.sku)

    def _start_round(self, now: float, sku: str) -> None:
        state = self.rounds.setdefault(sku, _Round())
        state.in_flight, state.dirty, state.decrease_failed = True, False, False
        decreases: list[_Push] = []
        increases: list[_Push] = []
        for (channel, location), target in self._plan(sku).items():
            shows = self.display[(channel, sku, location)]
            if target < shows:
                decreases.append(_Push(channel, sku, location, shows, target))
            elif target > shows:
                increases.append(_Push(channel, sku, location, shows, target))
        if self.mode.strict and decreases:
            state.waiting = increases
            self._send(now, state, decreases)
        else:
            self._send(now, state, decreases + increases)
        if not state.outstanding:
            state.in_flight = False

    def _send(self, now: float, state: _Round, pushes: list[_Push]) -> None:
        delays = {channel: self.rng.uniform(*self.mode.push_s) for channel in {p.channel for p in pushes}}
        for push in pushes:
            state.outstanding += 1
            self.outcome.pushes += 1
            self._at(now + delays[push.channel], functools.partial(self._land, push=push))

    def _land(self, now: float, push: _Push) -> None:
        state = self.rounds[push.sku]
        state.outstanding -= 1
        if self.display[push.display] == push.expected:
            self.display[push.display] = push.target
        else:  # compare-and-set failed: the channel sold since the plan was made
            self.outcome.stale_pushes += 1
            state.dirty = True
            if push.target < push.expected:
                state.decrease_failed = True
        if state.outstanding:
            return
        waiting, state.waiting = state.waiting, []
        if waiting and not state.decrease_failed:
            self._send(now, state, waiting)
            return
        state.in_flight = False
        if state.dirty:
            self._start_round(now, push.sku)

    # -- figures -----------------------------------------------------------------------------------------

    def _count_oversold(self) -> None:
        for sku in self.market.skus:
            for location in LOCATIONS:
                position = self.store.position(sku, location)
                self.outcome.committed_units += position.committed
                over = max(0, position.committed - position.on_hand)
                self.outcome.oversold_units += over
                self.outcome.oversold_positions += 1 if over else 0


def outcome_row(outcome: Outcome, market: Market) -> dict[str, Any]:
    """The table row of one run."""
    return {
        "run": outcome.mode,
        "orders": outcome.orders,
        "accepted_units": outcome.accepted_units,
        "refused_units": outcome.refused_units,
        "lost_sales_units": outcome.lost_sales_units,
        "oversold_units": outcome.oversold_units,
        "oversold_positions": outcome.oversold_positions,
        "pushes": outcome.pushes,
        "stale_pushes": outcome.stale_pushes,
        "time_factor": round(DAY_S / outcome.wall_seconds) if outcome.wall_seconds else None,
    }
