"""Committed routing decisions per second: a web order applied through the event applier with the routing service
as its placer, so each decision locks the positions it reads, routes, commits each line where it ships and
records the decision, its assignments and tasks — one unit of work per order, timed from start to commit.

The network and the order stream are :mod:`bench.routing`'s (same seed): a warehouse, the stores, a supplier and
a 3PL with seeded stock; orders of 1-5 lines that take their units, so stock runs short and later orders are
parked as unroutable (committed where the channel named them, as without routing).

``*_baseline`` (same run, same orders): the same orders applied without routing, each committed where the
channel named it — what recording an order costs before routing adds its locks, decision and records.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

from bench import routing as pure  # the network and the order stream of the pure benchmark
from bench._db import POSTGRES_SKIPPED, postgres_base, postgres_url, sqlite_url
from bench._logs import quiet_logs
from omnibridge.config import LoadedChannel, MappingTables
from omnibridge.models import MovementKind, Product, StockMovement, Variant
from omnibridge.routing import LocationState, RouteRequest, RoutingRules
from omnibridge.routing.service import RoutingService
from omnibridge.sdk import ConnectorKind, ConnectorSpec
from omnibridge.sdk.channel import ChannelLocation, OrderEvent, OrderEventKind, OrderLineEvent, ShipTo
from omnibridge.store import Store, open_store
from omnibridge.sync import EventApplier
from omnibridge.sync.runtime import ChannelRuntime

NAMED = "W-WH"
"""Where the web store names every order (its default location): routing decides where it really ships."""


class _Settings(BaseModel):
    name: str = "bench"


class _WebStore:
    async def list_locations(self) -> list[ChannelLocation]:
        return [ChannelLocation(NAMED, "Warehouse")]


def _channel() -> ChannelRuntime:
    spec = ConnectorSpec(
        id="bench", label="Bench", kind=ConnectorKind.STOREFRONT, settings_model=_Settings, capabilities=frozenset()
    )
    loaded = LoadedChannel(
        id="web",
        connector="bench",
        spec=spec,
        settings=_Settings(),
        profile_path=Path("bench.yaml"),
        mappings=MappingTables(location_map=MappingProxyType({NAMED: "wh"})),
    )
    channel = ChannelRuntime("web", _WebStore(), loaded)  # type: ignore[arg-type]
    channel.location_ids[NAMED] = "wh"
    return channel


def _seed(store: Store, states: Sequence[LocationState], skus: Sequence[str]) -> None:
    for state in states:
        store.upsert_location(state.location)
    store.upsert_product(Product(id="P", title="Gear", variants=[Variant(sku=sku, product_id="P") for sku in skus]))
    with store.unit_of_work() as uow:
        for state in states:
            for sku, units in state.available.items():
                movement = StockMovement(
                    idempotency_key=f"bench:{sku}:{state.location.id}",
                    source="manual",
                    kind=MovementKind.RECEIPT,
                    sku=sku,
                    location_id=state.location.id,
                    quantity=units,
                    occurred_at=pure.NOW - timedelta(days=1),
                )
                uow.apply(movement)


def _event(request: RouteRequest, seconds: int) -> OrderEvent:
    lines = tuple(
        OrderLineEvent(line.line_id, line.sku, line.quantity, NAMED, unit_price=str(line.unit_value))
        for line in request.lines
    )
    where = request.destination.coordinates if request.destination else None
    ship_to = ShipTo(
        country="US", latitude=where.lat if where else None, longitude=where.lon if where else None, name="Bench"
    )
    occurred = request.now + timedelta(seconds=seconds)
    return OrderEvent(request.order_id, OrderEventKind.PLACED, occurred, lines, ship_to=ship_to)


def _measure(url: str, stores: int, count: int, *, routed: bool = True) -> dict[str, Any]:
    rng = random.Random(pure.SEED * 1000 + stores)
    states = pure.network(stores, rng)
    stream = pure.orders(count, rng)
    rules = RoutingRules(max_splits=pure.RULES.max_splits, channels=frozenset({"web"}))
    with open_store(url) as store:
        _seed(store, states, pure.SKUS)
        service = RoutingService.from_rules(store, [state.location for state in states], rules)
        applier = EventApplier(store, _channel(), placer=service if routed else None)
        timings: list[float] = []
        for index, request in enumerate(stream):
            event = _event(request, index)
            started = time.perf_counter()
            applier.apply_all([event])
            timings.append(time.perf_counter() - started)
        parked = len(service.parked())
    ordered = sorted(timings)
    return {
        "decisions_per_s": round(count / sum(timings), 1),
        "decision_p99_ms": round(ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)] * 1000, 3),
        "decision_median_ms": round(ordered[len(ordered) // 2] * 1000, 3),
        "stores": stores,
        "orders": count,
        "parked": parked,
    }


def committed_figures(*, quick: bool) -> dict[str, Any]:
    """``decisions_per_s``, ``decision_p99_ms`` (and the median) of committed decisions on SQLite, and the same
    under ``postgresql`` when PostgreSQL is configured (else ``postgresql_skipped`` says how to include it)."""
    stores, count = (10, 200) if quick else (50, 1_000)
    with quiet_logs():
        with sqlite_url() as url:
            result: dict[str, Any] = _measure(url, stores, count)
        with sqlite_url() as url:
            baseline = _measure(url, stores, count, routed=False)
        result["decisions_per_s_baseline"] = baseline["decisions_per_s"]
        result["decision_p99_ms_baseline"] = baseline["decision_p99_ms"]
        base = postgres_base()
        if base is None:
            result["postgresql_skipped"] = POSTGRES_SKIPPED
        else:
            with postgres_url(base) as url:
                result["postgresql"] = _measure(url, stores, count)
    return result
