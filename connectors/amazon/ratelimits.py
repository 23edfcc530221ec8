"""Amazon's default usage plans and one token bucket per SP-API operation.

SP-API limits each operation separately (per seller and application) with a token bucket: ``rate`` requests per
second refilling up to ``burst``. Every response may carry ``x-amzn-RateLimit-Limit`` (the operation's current
rate), which corrects the bucket; a 429 ``QuotaExceeded`` empties it, so the next attempt waits one refill
(``1 / rate`` seconds) before going: Amazon sends no ``Retry-After``.

Each bucket has the documented plan's full burst: the HTTP client counts a request in flight from its send until
its answer (:meth:`omnibridge.sdk.Bucket.hold`), so however our clock and Amazon's differ on when a request arrived,
Amazon's bucket is never emptier than ours and no reserve token is needed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

from omnibridge.sdk import Clock, Sleeper, TokenBucket, amazon_rate_limit_header

__all__ = ["DEFAULT_LIMITS", "OperationLimits"]

DEFAULT_LIMITS: Mapping[str, tuple[float, float]] = {
    # operation: (requests per second, burst) -- the models' default usage plans (api-contracts.md section 2.2)
    "getOrders": (0.0167, 20),
    "getOrder": (0.5, 30),
    "getOrderItems": (0.5, 30),
    "confirmShipment": (2.0, 10),
    "updateShipmentStatus": (5.0, 15),  # in-store pickup status (connectors.amazon.pickup)
    "getOrder2026": (0.5, 30),  # Orders 2026-01-01 getOrder (the order's packages before a confirmShipment)
    "getListingsItem": (5.0, 10),
    "searchListingsItems": (5.0, 5),
    "patchListingsItem": (5.0, 5),
    "createFeedDocument": (0.5, 15),
    "createFeed": (0.0083, 15),
    "getFeed": (2.0, 15),
    "getFeedDocument": (0.0222, 10),
    "createReport": (0.0167, 15),  # Reports 2021-06-30: the returns report (connectors.amazon.returns)
    "getReport": (2.0, 15),
    "getReportDocument": (0.0167, 15),
}


class OperationLimits:
    """One :class:`TokenBucket` per operation, created on first use at the default (or overridden) plan.

    ``overrides`` maps an operation to ``(rate, burst)``; ``clock``/``sleep`` are shared by every bucket.
    """

    def __init__(
        self,
        overrides: Mapping[str, tuple[float, float]] | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleeper = asyncio.sleep,
    ) -> None:
        self._plans = {**DEFAULT_LIMITS, **(overrides or {})}
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, TokenBucket] = {}

    def bucket(self, operation: str) -> TokenBucket:
        """The bucket of ``operation`` (an operation without a known plan gets 1/s, burst 1)."""
        bucket = self._buckets.get(operation)
        if bucket is None:
            rate, burst = self._plans.get(operation, (1.0, 1.0))
            bucket = TokenBucket(
                rate, burst, observers=(amazon_rate_limit_header,), clock=self._clock, sleep=self._sleep
            )
            self._buckets[operation] = bucket
        return bucket

    def buckets(self) -> dict[str, TokenBucket]:
        """The buckets used so far, by operation."""
        return dict(self._buckets)
