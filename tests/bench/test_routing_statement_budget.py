"""The statements one committed routing decision costs: counted, not timed, so the budget holds on any machine.

The committed-decision figures of ``bench routing`` are bounded by the work each order does in the database; this
pins that work (statements per routed order) so a change that adds a read or a savepoint per line shows up here.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from bench import _routing_commit as commit
from bench import routing as pure
from bench._db import sqlite_url
from omnibridge.routing import RoutingRules
from omnibridge.routing.service import RoutingService
from omnibridge.store import open_store
from omnibridge.sync import EventApplier

ORDERS = 40
BUDGET_PER_ORDER = 14
BUDGET_PER_LINE = 12
"""Per order: begin, the order and its lines read, the sorted position lock, today's counts, the order saved,
the decision, its assignment and task (and their savepoints); per line: its lock, its movement (savepoint,
position, insert, backorder setting, update), what its channel shows, and the line saved."""


@contextmanager
def counted(engine: sa.Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_routed_order_stays_within_its_statement_budget() -> None:
    rng = random.Random(pure.SEED * 1000 + 10)
    states = pure.network(10, rng)
    stream = pure.orders(ORDERS, rng)
    rules = RoutingRules(max_splits=pure.RULES.max_splits, channels=frozenset({"web"}))
    with sqlite_url() as url, open_store(url) as store:
        commit._seed(store, states, pure.SKUS)
        service = RoutingService.from_rules(store, [state.location for state in states], rules)
        applier = EventApplier(store, commit._channel(), placer=service)
        applier.apply_all([commit._event(stream[0], 0)])  # reads the catalog once
        lines = 0
        with counted(store.engine) as statements:
            for index, request in enumerate(stream[1:], start=1):
                outcome = applier.apply_all([commit._event(request, index)])
                assert outcome.orders == 1
                lines += len(request.lines)
        orders = ORDERS - 1
        assert len(service.parked()) < orders  # most orders are routed, not parked
        assert len(statements) <= orders * BUDGET_PER_ORDER + lines * BUDGET_PER_LINE, (len(statements), lines)
