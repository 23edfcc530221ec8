"""Amazon's default usage plans (token bucket per operation) and the buckets the emulator keeps."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["OPERATION_LIMITS", "OperationBuckets"]

OPERATION_LIMITS: Mapping[str, tuple[float, int]] = {
    # Orders v0
    "getOrders": (0.0167, 20),
    "getOrder": (0.5, 30),
    "getOrderItems": (0.5, 30),
    "getOrderAddress": (0.5, 30),
    "getOrderBuyerInfo": (0.5, 30),
    "getOrderItemsBuyerInfo": (0.5, 30),
    "updateShipmentStatus": (5.0, 15),
    "confirmShipment": (2.0, 10),
    # Orders 2026-01-01
    "getOrder2026": (0.5, 30),
    # Listings Items 2021-08-01
    "patchListingsItem": (5.0, 5),
    "putListingsItem": (5.0, 10),
    "getListingsItem": (5.0, 10),
    "deleteListingsItem": (5.0, 5),
    "searchListingsItems": (5.0, 5),
    # Feeds 2021-06-30
    "createFeedDocument": (0.5, 15),
    "createFeed": (0.0083, 15),
    "getFeed": (2.0, 15),
    "cancelFeed": (2.0, 15),
    "getFeeds": (0.0222, 10),
    "getFeedDocument": (0.0222, 10),
    # Reports 2021-06-30
    "createReport": (0.0167, 15),
    "getReport": (2.0, 15),
    "getReportDocument": (0.0167, 15),
    # Notifications v1 (every operation 1/s, burst 5)
    "getDestinations": (1.0, 5),
    "createDestination": (1.0, 5),
    "getSubscription": (1.0, 5),
    "createSubscription": (1.0, 5),
    # Tokens
    "createRestrictedDataToken": (1.0, 10),
}
"""``operationId -> (requests per second, burst)``: the default usage plans of the SP-API models."""


class _Bucket:
    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate, self.burst, self.tokens, self.stamp = rate, burst, float(burst), now

    def take(self, now: float) -> bool:
        self.tokens = min(float(self.burst), self.tokens + max(0.0, now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


class OperationBuckets:
    """One token bucket per operation; the advertised rate (``x-amzn-RateLimit-Limit``) is the unscaled one."""

    def __init__(self, scale: float = 1.0, overrides: Mapping[str, tuple[float, int]] | None = None) -> None:
        self.scale = scale
        self.limits = {**OPERATION_LIMITS, **(overrides or {})}
        self._buckets: dict[str, _Bucket] = {}

    def advertised(self, operation: str) -> str:
        """The ``x-amzn-RateLimit-Limit`` header value for ``operation`` (rps as Amazon writes it)."""
        rate, _ = self.limits[operation]
        return f"{rate:g}"

    def take(self, operation: str, now: float) -> bool:
        """Take one token from ``operation``'s bucket; False when it is empty (the request gets 429)."""
        bucket = self._buckets.get(operation)
        if bucket is None:
            rate, burst = self.limits[operation]
            bucket = self._buckets[operation] = _Bucket(rate * self.scale, burst, now)
        return bucket.take(now)
