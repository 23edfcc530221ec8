"""Does every channel show the ledger? For test harnesses and benchmarks (``tests/reliability``, ``bench``) that run
the demo merchant on the Shopify and Square emulators, not for omnibridge itself.

:func:`disagreements` compares what each channel shows (read from its emulator by the caller's ``shows``) with the
ledger's projection at every demo SKU and every location the channel shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from omnibridge.demo.catalog import POS_LOCATIONS, WEB_LOCATIONS, demo_products
from omnibridge.demo.report import Mismatch
from omnibridge.demo.settings import POS, WEB
from omnibridge.store import Store
from omnibridge.sync import projection

__all__ = ["DEMO_SKUS", "Mismatch", "ShowsLevels", "channel_locations", "disagreements"]

DEMO_SKUS = tuple(variant.sku for product in demo_products() for variant in product.variants)


class ShowsLevels(Protocol):
    """Reads what a channel shows (its emulator's state), spending none of its rate limit."""

    def shows(self, channel: str, sku: str, location_id: str) -> int: ...


def channel_locations(channel: str) -> tuple[str, ...]:
    """The locations the demo's web store (``web``) or its POS (any other channel) shows."""
    return WEB_LOCATIONS if channel == WEB else POS_LOCATIONS


def disagreements(
    store: Store,
    emulators: ShowsLevels,
    channels: tuple[str, ...] = (WEB, POS),
    *,
    skus: Sequence[str] = DEMO_SKUS,
    first_only: bool = False,
) -> list[Mismatch]:
    """Every (channel, SKU, location) of ``channels`` where ``emulators`` shows something other than the ledger's
    projection; with ``first_only``, the first found (enough to say the channels have not converged)."""
    found: list[Mismatch] = []
    for channel in channels:
        for location_id in channel_locations(channel):
            for sku in skus:
                shows, ledger = emulators.shows(channel, sku, location_id), projection(store, sku, location_id)
                if shows != ledger:
                    found.append(Mismatch(channel, sku, location_id, shows, ledger))
                    if first_only:
                        return found
    return found
