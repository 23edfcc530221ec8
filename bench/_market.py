"""The seeded market of ``bench.oversell``: low-stock SKUs, four channels and one day of orders.

Every run of the benchmark replays the same :class:`Market`, so the runs differ only in how omnibridge keeps the
channels' displayed quantities up to date.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

DAY_S = 86_400.0
LOCATIONS = ("wh", "store")

Position = tuple[str, str]
"""(SKU, location id)."""


@dataclass(frozen=True)
class ChannelSpec:
    """A sales channel: its priority, the locations that feed it, and its share of the demand."""

    id: str
    priority: int
    locations: tuple[str, ...]
    demand: float


CHANNELS: tuple[ChannelSpec, ...] = (
    ChannelSpec("web", 10, ("wh", "store"), 0.4),
    ChannelSpec("marketplace", 8, ("wh",), 0.3),
    ChannelSpec("pos", 20, ("store",), 0.2),
    ChannelSpec("social", 5, ("wh", "store"), 0.1),
)


@dataclass(frozen=True)
class Order:
    """A customer wants ``quantity`` of ``sku`` on ``channel`` at ``at`` seconds into the day."""

    id: int
    at: float
    channel: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class Market:
    seed: int
    demand_factor: float
    stock: dict[Position, int]
    """Opening on-hand per position (positions without stock are absent)."""
    orders: tuple[Order, ...]

    @property
    def skus(self) -> list[str]:
        return sorted({sku for sku, _ in self.stock})

    @property
    def stock_units(self) -> int:
        return sum(self.stock.values())

    @property
    def demand_units(self) -> int:
        return sum(order.quantity for order in self.orders)


def build_market(*, skus: int, seed: int, demand_factor: float, two_unit_share: float = 0.2) -> Market:
    """``skus`` SKUs with 1-5 units at one or two locations; a Poisson stream of orders over one day whose
    expected units are ``demand_factor`` x the stock. A SKU's demand is proportional to its stock, a channel's to
    its ``demand``; an order is for 1 unit, or 2 with probability ``two_unit_share``."""
    rng = random.Random(seed)
    stock: dict[Position, int] = {}
    for index in range(skus):
        sku = f"LOW-{index:04d}"
        for location in rng.sample(LOCATIONS, rng.choice((1, 2))):
            stock[(sku, location)] = rng.randint(1, 5)
    per_sku: dict[str, int] = {}
    for (sku, _), units in stock.items():
        per_sku[sku] = per_sku.get(sku, 0) + units
    names, weights = list(per_sku), list(per_sku.values())
    rate = demand_factor * sum(weights) / (1 + two_unit_share) / DAY_S
    orders: list[Order] = []
    at = rng.expovariate(rate)
    while at < DAY_S:
        channel = rng.choices(CHANNELS, weights=[c.demand for c in CHANNELS])[0]
        sku = rng.choices(names, weights=weights)[0]
        quantity = 2 if rng.random() < two_unit_share else 1
        orders.append(Order(len(orders), at, channel.id, sku, quantity))
        at += rng.expovariate(rate)
    return Market(seed, demand_factor, stock, tuple(orders))
