"""A toy channel connector and its in-memory "vendor", with switchable flaws, to prove the kit's checks can fail.

The vendor enforces what a real one does — an auth token, a token-bucket rate limit (refusing with 429), a
compare value on writes, idempotency keys — and takes injected failures. ``ToyConnector`` is a correct client of
it; each flaw in ``ToySettings.flaws`` breaks one promise, and the test checks that the matching check fails.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, SecretStr

from omnibridge.errors import FatalConnectorError, RetriableConnectorError, WebhookError
from omnibridge.sdk import TokenBucket, WebhookDelivery, hmac_sha256_hex, verify_hmac_hex
from omnibridge.sdk.channel import (
    ChannelEvent,
    ChannelLocation,
    OrderEvent,
    OrderEventKind,
    OrderLineEvent,
    PullResult,
    PushResult,
    PushStatus,
    StockLevel,
    StockTarget,
)
from omnibridge.sdk.idempotency import derived_key
from omnibridge.sdk.metadata import Capability, ConnectorKind, ConnectorSpec
from omnibridge.testing import ConformanceHarness, ConformanceSession, EmulatorControl, MapperFixture, WebhookVector

SECRET = "toy-webhook-secret"
LOCATION = "LOC-1"
ALL_CAPABILITIES = frozenset(
    {
        Capability.INVENTORY_READ,
        Capability.INVENTORY_WRITE,
        Capability.INVENTORY_COMPARE_AND_SET,
        Capability.ORDERS_READ,
        Capability.ORDERS_CANCEL,
        Capability.WEBHOOKS,
    }
)
VENDORS: dict[str, ToyVendor] = {}
_ids = itertools.count(1)


class VendorError(Exception):
    """What the toy vendor answers instead of a result: an HTTP-like status."""

    def __init__(self, status: int) -> None:
        self.status = status
        super().__init__(f"HTTP {status}")


class ToyVendor:
    """In-memory vendor: stock per (sku, location), orders, a rate limit of ``burst`` then ``rate`` per second."""

    def __init__(self, *, rate: float = 50.0, burst: int = 5) -> None:
        self.stock: dict[tuple[str, str], int] = {}
        self.orders: dict[str, tuple[str, str, int, bool]] = {}
        self.failures: list[int] = []
        self.lose = 0
        self.refused = 0
        self.requests = 0
        self.keys: dict[str, int] = {}
        self._bucket = TokenBucket(rate, burst)

    async def call(self, *, write: bool = False) -> None:
        """Admit one request (failures, rate limit); a lost response is raised by :meth:`answered`."""
        self.requests += 1
        await asyncio.sleep(0)
        if self.failures:
            raise VendorError(self.failures.pop(0))
        if self._bucket.wait_time(1.0) > 0:
            self.refused += 1
            raise VendorError(429)
        self._bucket.available -= 1.0

    def answered(self, *, write: bool) -> None:
        """After a write was applied: raise 503 when its response is to be lost."""
        if write and self.lose > 0:
            self.lose -= 1
            raise VendorError(503)


class ToySettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    vendor: str
    api_token: SecretStr
    webhook_secret: SecretStr
    flaws: frozenset[str] = frozenset()


class PlainSecretSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    vendor: str
    api_token: str
    webhook_secret: SecretStr
    flaws: frozenset[str] = frozenset()


class ToyConnector:
    """A correct connector of the toy vendor unless ``settings.flaws`` says otherwise."""

    def __init__(self, settings: ToySettings) -> None:
        self.vendor = VENDORS[settings.vendor]
        self.flaws = settings.flaws
        self.settings = settings
        self._limiter = TokenBucket(50.0, 5)

    async def _request(self, op: str, *, write: bool = False, idempotent: bool = True) -> None:
        for attempt in range(1, 4):
            if "no_rate_limit" not in self.flaws:
                await self._limiter.acquire()
            try:
                await self.vendor.call(write=write)
                return
            except VendorError as error:
                if error.status == 401:
                    if "auth_retriable" in self.flaws:
                        raise RetriableConnectorError("HTTP 401", connector="toy", op=op) from None
                    raise FatalConnectorError("HTTP 401", connector="toy", op=op) from None
                if error.status == 400:
                    if "unclassified_400" in self.flaws:
                        raise ValueError("could not parse the vendor's answer") from None
                    raise FatalConnectorError("HTTP 400", connector="toy", op=op) from None
                if attempt == 3 or (write and not idempotent):
                    raise RetriableConnectorError(f"HTTP {error.status}", connector="toy", op=op) from None
                await asyncio.sleep(0.001)

    async def list_locations(self) -> list[ChannelLocation]:
        await self._request("list_locations")
        return [ChannelLocation(LOCATION, "Toy store")]

    async def read_levels(self, skus: Sequence[str]) -> list[StockLevel]:
        await self._request("read_levels")
        now = datetime.now(UTC)
        return [StockLevel(sku, loc, qty, now) for (sku, loc), qty in self.vendor.stock.items() if sku in skus]

    async def push_levels(self, targets: Sequence[StockTarget]) -> list[PushResult]:
        return [await self._push(target) for target in targets]

    async def _push(self, target: StockTarget) -> PushResult:
        key_of = (target.sku, target.location_ref)
        if key_of not in self.vendor.stock:
            await self._request("push_levels")
            return PushResult(target, PushStatus.UNKNOWN_SKU)
        keyed = "double_apply" not in self.flaws
        checks_compare = not self.flaws & {"blind_overwrite", "double_apply"}
        key = derived_key(target.reference, [target.sku, target.location_ref, target.quantity])
        delta: int | None = None
        for attempt in range(1, 4):
            try:
                await self._request("push_levels", write=True)
            except FatalConnectorError:
                return PushResult(target, PushStatus.FAILED, message="refused")
            current = self.vendor.stock[key_of]
            if keyed and key in self.vendor.keys:
                applied = self.vendor.keys[key]
            else:
                if delta is None:
                    compare = target.expected if target.expected is not None else current
                    if checks_compare and compare != current:
                        return PushResult(target, PushStatus.STALE, message="compare value moved")
                    delta = target.quantity - compare
                # the vendor applies a change from the compare value (like Shopify's changeFromQuantity)
                self.vendor.stock[key_of] = current + delta
                applied = self.vendor.stock[key_of]
                if keyed:
                    self.vendor.keys[key] = applied
            try:
                self.vendor.answered(write=True)
            except VendorError:
                if attempt == 3:
                    raise RetriableConnectorError("HTTP 503", connector="toy", op="push_levels") from None
                continue
            return PushResult(target, PushStatus.APPLIED, shown=applied)
        raise RetriableConnectorError("no answer", connector="toy", op="push_levels")

    async def pull_events(self, bookmark: str | None) -> PullResult:
        await self._request("pull_events")
        now = datetime.now(UTC)
        events: list[ChannelEvent] = []
        for ref, (sku, loc, qty, cancelled) in self.vendor.orders.items():
            kind = OrderEventKind.CANCELLED if cancelled else OrderEventKind.PLACED
            events.append(OrderEvent(ref, kind, now, (OrderLineEvent(f"{ref}-1", sku, qty, loc),)))
        return PullResult(events, now.isoformat())

    def verify_webhook(self, raw_body: bytes, headers: Mapping[str, str], url: str) -> WebhookDelivery:
        lower = {k.lower(): v for k, v in headers.items()}
        signature = lower.get("x-toy-signature")
        if "accept_all" in self.flaws:
            ok = True
        elif "forgery" in self.flaws:
            ok = bool(signature)
        else:
            ok = verify_hmac_hex(self.settings.webhook_secret, raw_body, signature)
        if not ok:
            raise WebhookError("toy: bad signature")
        return WebhookDelivery(
            lower.get("x-toy-delivery") or "unknown", None, "toy", raw_body, headers, datetime.now(UTC)
        )

    async def webhook_events(self, delivery: WebhookDelivery) -> list[ChannelEvent]:
        return []

    async def aclose(self) -> None:
        return None


class ToyCanceller(ToyConnector):
    async def cancel_order(self, order_ref: str, reason: str) -> None:
        await self._request("cancel_order", write=True)
        sku, loc, qty, _ = self.vendor.orders[order_ref]
        self.vendor.orders[order_ref] = (sku, loc, qty, True)


def build(settings: ToySettings) -> ToyConnector:
    if "no_cancel" in settings.flaws:
        return ToyConnector(settings)
    return ToyCanceller(settings)


class ToyControl(EmulatorControl):
    def __init__(self, vendor: ToyVendor, flaws: frozenset[str] = frozenset()) -> None:
        self.vendor = vendor
        self.flaws = flaws

    def refused_requests(self) -> int:
        return self.vendor.refused

    def api_requests(self) -> int:
        return self.vendor.requests

    def fail_next(self, status: int, *, count: int = 1) -> None:
        self.vendor.failures.extend([status] * count)

    def lose_next_response(self, *, count: int = 1) -> None:
        if "control_ignores_lose" not in self.flaws:
            self.vendor.lose += count

    def seed_stock(self, sku: str, location_ref: str, quantity: int) -> None:
        self.vendor.stock[(sku, location_ref)] = quantity

    def shown_stock(self, sku: str, location_ref: str) -> int:
        return self.vendor.stock[(sku, location_ref)]

    def place_order(self, sku: str, location_ref: str, quantity: int) -> str:
        ref = f"order-{next(_ids)}"
        self.vendor.orders[ref] = (sku, location_ref, quantity, False)
        self.vendor.stock[(sku, location_ref)] -= quantity
        return ref

    def order_cancelled(self, order_ref: str) -> bool:
        return self.vendor.orders[order_ref][3]


def _signed(body: bytes, delivery: str) -> dict[str, str]:
    return {"X-Toy-Signature": hmac_sha256_hex(SECRET, body), "X-Toy-Delivery": delivery}


class ToyHarness(ConformanceHarness):
    """The toy connector with no flaw; subclasses (see :func:`harness`) set ``flaws`` and ``capabilities``."""

    flaws: ClassVar[frozenset[str]] = frozenset()
    settings_model: ClassVar[type[BaseModel]] = ToySettings
    spec = ConnectorSpec(
        id="toy", label="Toy", kind=ConnectorKind.STOREFRONT, settings_model=ToySettings,
        capabilities=ALL_CAPABILITIES, factory=build,
    )  # fmt: skip
    rate_probe_requests = 20
    mapper_expected: ClassVar[int] = 3

    @asynccontextmanager
    async def session(self) -> AsyncIterator[ConformanceSession]:
        name = f"vendor-{next(_ids)}"
        VENDORS[name] = ToyVendor()
        settings = self.settings_model.model_validate(
            {"vendor": name, "api_token": "toy-token", "webhook_secret": SECRET, "flaws": self.flaws}
        )
        assert self.spec.factory is not None
        connector = self.spec.factory(settings)
        try:
            yield ConformanceSession(connector, settings, ToyControl(VENDORS[name], self.flaws), location_ref=LOCATION)
        finally:
            del VENDORS[name]

    def mapper_fixtures(self) -> Sequence[MapperFixture]:
        return (MapperFixture("quantity", {"qty": "3"}, lambda raw: int(raw["qty"]), self.mapper_expected),)

    def webhook_vectors(self) -> Sequence[WebhookVector]:
        body = b'{"event": "stock"}'
        return (
            WebhookVector(
                "signed", body, _signed(body, "d-1"), signature_headers=("X-Toy-Signature",), expected_delivery_id="d-1"
            ),
            WebhookVector("unsigned", body, {"X-Toy-Delivery": "d-2"}, valid=False),
        )


def harness(
    *flaws: str,
    capabilities: frozenset[Capability] = ALL_CAPABILITIES,
    settings_model: type[BaseModel] = ToySettings,
    mapper_expected: int = 3,
) -> type[ToyHarness]:
    """A harness class for the toy connector with ``flaws``, declaring ``capabilities``."""
    spec = ConnectorSpec(
        id="toy", label="Toy", kind=ConnectorKind.STOREFRONT, settings_model=settings_model,
        capabilities=capabilities, factory=build,
    )  # fmt: skip
    attributes: dict[str, Any] = {
        "flaws": frozenset(flaws),
        "spec": spec,
        "settings_model": settings_model,
        "mapper_expected": mapper_expected,
    }
    return type(f"ToyHarness_{'_'.join(flaws) or 'sound'}", (ToyHarness,), attributes)
