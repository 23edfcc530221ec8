"""The propagation benchmark's worlds: which channel shows which location, who sells where, the emulator knobs,
and each channel's floor from those knobs (:mod:`bench._floors`)."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench._floors import ChannelFloor, WritePath, channel_floor, uniform_p99_ms
from omnibridge.demo.catalog import ALL_WEB_LOCATIONS, AMAZON_LOCATIONS, CLOVER_LOCATIONS, POS_LOCATIONS, demo_products
from omnibridge.demo.world import AMAZON, CLOVER, POS, WEB

Position = tuple[str, str]

WORLDS: dict[str, dict[str, tuple[str, ...]]] = {
    "every": {WEB: ALL_WEB_LOCATIONS, POS: POS_LOCATIONS, AMAZON: AMAZON_LOCATIONS, CLOVER: CLOVER_LOCATIONS},
    "two": {WEB: POS_LOCATIONS, POS: POS_LOCATIONS},
}
"""Per world, the locations each selling channel shows (and sells from). In ``two`` the web store also ships from
the warehouse, but only store positions are sold, as the benchmark always did."""

SHOPIFY_ITEMS_PER_MUTATION = 250
"""inventorySetQuantities takes up to 250 quantities a call."""
SQUARE_CHANGES_PER_REQUEST = 100
"""BatchChangeInventory takes up to 100 changes a request."""
AMAZON_FEED_ROUND_TRIPS = 3
"""createFeedDocument, the upload and createFeed precede processing (getFeed only learns that it ended)."""


@dataclass(frozen=True)
class Knobs:
    """The emulator settings a floor is computed from (read from the run's emulators)."""

    webhook_delay_s: Mapping[str, tuple[float, float]]
    """Per selling channel, the delay before its vendor's notification is first sent."""
    latency_ms: Mapping[str, tuple[float, float]]
    """Per channel, every API request's latency."""
    shopify_restore_per_s: float
    shopify_mutation_cost: float
    square_requests_per_s: float
    amazon_patch_per_s: float
    amazon_listing_delay_s: float
    amazon_feed_processing_s: float
    clover_requests_per_s: float


def assign_positions(world: str, seed: int) -> dict[str, list[Position]]:
    """Every (SKU, location) position of the world, each given to one of the channels showing it (seeded): that
    channel alone sells it, so every other channel's level there moves only through omnibridge."""
    shown_by = WORLDS[world]
    skus = [v.sku for p in demo_products() for v in p.variants]
    locations = sorted({location for locations in shown_by.values() for location in locations})
    rng = random.Random(seed)
    assigned: dict[str, list[Position]] = {channel: [] for channel in shown_by}
    for location in locations:
        channels = [c for c in shown_by if location in shown_by[c]]
        for sku in skus:
            assigned[rng.choice(channels)].append((sku, location))
    return {channel: sorted(positions) for channel, positions in assigned.items()}


def showing(world: str, location: str, seller: str) -> list[str]:
    """The channels other than ``seller`` that show ``location``: each must show a sale there."""
    return [c for c, locations in WORLDS[world].items() if c != seller and location in locations]


def _paths(channel: str, knobs: Knobs) -> list[WritePath]:
    if channel == WEB:
        per_s = knobs.shopify_restore_per_s / knobs.shopify_mutation_cost * SHOPIFY_ITEMS_PER_MUTATION
        limit = (
            f"{knobs.shopify_restore_per_s:g} points/s / {knobs.shopify_mutation_cost:g} a call x "
            f"{SHOPIFY_ITEMS_PER_MUTATION} quantities"
        )
        return [WritePath("inventorySetQuantities", 1, 0.0, per_s, limit)]
    if channel == POS:
        per_s = knobs.square_requests_per_s * SQUARE_CHANGES_PER_REQUEST
        limit = f"{knobs.square_requests_per_s:g} requests/s x {SQUARE_CHANGES_PER_REQUEST} changes"
        return [WritePath("BatchChangeInventory", 1, 0.0, per_s, limit)]
    if channel == AMAZON:
        shown = knobs.amazon_listing_delay_s * 1000
        return [
            WritePath(
                "patchListingsItem, listing_delay_s",
                1,
                shown,
                knobs.amazon_patch_per_s,
                f"patchListingsItem {knobs.amazon_patch_per_s:g}/s, one SKU each",
            ),
            WritePath(
                "JSON_LISTINGS_FEED, feed_processing_s + listing_delay_s",
                AMAZON_FEED_ROUND_TRIPS,
                knobs.amazon_feed_processing_s * 1000 + shown,
                None,
                "every SKU in one feed; createFeed's burst of 15 covers a run",
            ),
        ]
    if channel == CLOVER:
        limit = f"{knobs.clover_requests_per_s:g} requests/s, one item each"
        return [WritePath("item_stock", 1, 0.0, knobs.clover_requests_per_s, limit)]
    raise ValueError(f"no write path known for channel {channel!r}; expected one of {WEB}, {POS}, {AMAZON}, {CLOVER}")


def floors(
    world: str, rate: float, assigned: Mapping[str, Sequence[Position]], knobs: Knobs
) -> dict[str, ChannelFloor]:
    """Each channel's floor at ``rate`` sales a second, sold in turn by every channel of ``assigned`` (equal
    shares, each at a random position of its own)."""
    sellers = [c for c in assigned if assigned[c]]
    result: dict[str, ChannelFloor] = {}
    for channel in WORLDS[world]:
        changes_per_s = 0.0
        items: set[Position] = set()
        notify: dict[str, float] = {}
        for seller in sellers:
            theirs = [p for p in assigned[seller] if channel in showing(world, p[1], seller)]
            if not theirs:
                continue
            changes_per_s += rate / len(sellers) * len(theirs) / len(assigned[seller])
            items.update(theirs)
            notify[seller] = uniform_p99_ms(
                (knobs.webhook_delay_s[seller][0] * 1000, knobs.webhook_delay_s[seller][1] * 1000)
            )
        if not notify:
            continue
        result[channel] = channel_floor(
            channel,
            notify_p99_ms=notify,
            write_p99_ms=uniform_p99_ms(knobs.latency_ms[channel]),
            paths=_paths(channel, knobs),
            changes_per_s=round(changes_per_s, 3),
            items=len(items),
        )
    return result
