"""SP-API I/O behind the channel contract: LWA auth, per-operation rate limits, retries, error mapping.

:class:`AmazonApi` moves bytes (one call = one SP-API operation); :class:`AmazonConnector` is the
:class:`~omnibridge.sdk.channel.ChannelConnector` and :class:`~omnibridge.sdk.listings.ListingWriter`, built from
the pieces in :mod:`~connectors.amazon.orders`, :mod:`~connectors.amazon.listings`, :mod:`~connectors.amazon.feeds`
and :mod:`~connectors.amazon.notifications`. Mapping is in :mod:`connectors.amazon.mapper`.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from connectors.amazon import mapper
from connectors.amazon.auth import LwaTokenProvider
from connectors.amazon.feed_subscription import GRANTLESS_NOTIFICATIONS_SCOPE, FeedSubscription
from connectors.amazon.feeds import FeedSubmitter
from connectors.amazon.listings import Listings
from connectors.amazon.notifications import (
    FEED_PROCESSING_FINISHED,
    MFN_QUANTITY_CHANGE,
    ORDER_CHANGE,
    feed_finished_of,
    order_id_of,
    parse_payload,
    stock_observed,
    verify_delivery,
)
from connectors.amazon.orders import OrdersPoller
from connectors.amazon.pickup import PickupStatusUpdater
from connectors.amazon.ratelimits import OperationLimits
from connectors.amazon.returns import ReturnsPoller
from connectors.amazon.settings import AmazonSettings
from connectors.amazon.shipments import ShipmentConfirmer
from omnibridge.sdk import (
    Clock,
    ConnectorError,
    ConnectorHttpClient,
    FatalConnectorError,
    HttpFatalError,
    MapMessage,
    RetryPolicy,
    SkippableRecordError,
    Sleeper,
    WebhookDelivery,
    get_logger,
)
from omnibridge.sdk.channel import (
    ChannelEvent,
    ChannelLocation,
    PullResult,
    PushResult,
    PushStatus,
    StockLevel,
    StockTarget,
)
from omnibridge.sdk.fulfilment import ConfirmationResult, ShipmentConfirmation
from omnibridge.sdk.listings import ListingResult, ListingUpdate
from omnibridge.sdk.mapping import MapLevel
from omnibridge.sdk.memory import ChannelMemory
from omnibridge.sdk.pickup import PickupState, PickupUpdate, PickupUpdateResult

CONNECTOR_ID = "amazon"
USER_AGENT = "omnibridge/0.1 (Language=Python)"
# Statuses whose SP-API error body we read ourselves instead of letting the HTTP client raise with an excerpt.
_CLIENT_ERRORS = frozenset({400, 401, 403, 404, 409, 413, 415, 422})


def _utcnow() -> datetime:
    return datetime.now(UTC)


class AmazonApi:
    """One SP-API seller authorization: ``call`` sends one operation with a live LWA token and that operation's
    token bucket; ``upload``/``download`` reach the pre-signed feed document URLs (no SP-API token on those).

    Every SP-API operation used here is safe to repeat (reads, absolute ``replace`` patches, creating another
    feed document or feed), so transient failures and 429s are retried by the HTTP client; a 429 empties the
    operation's bucket, so the retry waits at least one refill (``1 / rate``). A 403 (Amazon's ``Unauthorized``:
    expired or revoked token) refreshes the token once and repeats; a second 403 is fatal.
    """

    def __init__(
        self,
        settings: AmazonSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_policy: RetryPolicy | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleeper = asyncio.sleep,
    ) -> None:
        self.settings = settings
        overrides = {op: (plan.rate, plan.burst) for op, plan in settings.rate_limits.items()}
        self.limits = OperationLimits(overrides, clock=clock, sleep=sleep)
        policy = retry_policy or RetryPolicy(max_attempts=settings.max_attempts, max_elapsed=settings.max_retry_seconds)
        common: dict[str, Any] = {
            "retry_policy": policy,
            "transport": transport,
            "timeout": settings.timeout_seconds,
            "clock": clock,
            "sleep": sleep,
        }
        self.http = ConnectorHttpClient(
            CONNECTOR_ID,
            str(settings.endpoint).rstrip("/"),
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            **common,
        )
        self.files = ConnectorHttpClient(CONNECTOR_ID, "", **common)
        self._lwa_http = ConnectorHttpClient(CONNECTOR_ID, "", headers={"Accept": "application/json"}, **common)
        self.tokens = LwaTokenProvider(
            self._lwa_http,
            token_url=str(settings.lwa_endpoint),
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            refresh_token=settings.refresh_token,
            refresh_margin=settings.lwa_refresh_margin_seconds,
            clock=clock,
        )
        self.grantless_tokens = LwaTokenProvider(
            self._lwa_http,
            token_url=str(settings.lwa_endpoint),
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            refresh_token=settings.refresh_token,
            refresh_margin=settings.lwa_refresh_margin_seconds,
            clock=clock,
            scope=GRANTLESS_NOTIFICATIONS_SCOPE,
        )
        self.calls: dict[str, int] = {}
        """Logical requests by operation, plus ``uploadFeedDocument``/``downloadFeedDocument`` to the pre-signed
        URLs (a request re-sent after a 403 counts twice; the HTTP client's own 429/5xx retries are not counted)."""

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.files.aclose()
        await self._lwa_http.aclose()

    async def call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        expected: Collection[int] = (),
        restricted_token: str | None = None,
    ) -> tuple[int, Any]:
        """Send ``operation``; returns ``(status, parsed JSON body)`` for a 2xx or a status in ``expected``.

        ``restricted_token``: send this Restricted Data Token instead of the LWA token (see
        :mod:`connectors.amazon.rdt`); a 403 then is fatal at once (a fresh LWA token cannot help).

        Other 4xx raise :class:`HttpFatalError` with Amazon's ``errors`` described; retries exhausted raise
        :class:`~omnibridge.sdk.HttpRetriableError`; LWA refusing the credentials raises
        :class:`FatalConnectorError`.
        """
        for attempt in (1, 2):
            token = restricted_token or await self.tokens.token()
            self.calls[operation] = self.calls.get(operation, 0) + 1
            response = await self.http.request(
                method,
                path,
                op=operation,
                params=params,
                json=json,
                headers={"x-amz-access-token": token},
                idempotent=True,
                rate_limiter=self.limits.bucket(operation),
                expected_statuses=_CLIENT_ERRORS,
            )
            status = response.status_code
            body = _json(response)
            if status == 403 and attempt == 1 and restricted_token is None:
                self.tokens.invalidate(token)
                continue
            if status in expected or status < 400:
                return status, body
            detail = mapper.describe_errors(mapper.amazon_errors(body))
            if status == 403:
                raise FatalConnectorError(
                    f"SP-API refused a freshly issued access token, HTTP 403 {detail} (check that the seller "
                    "authorized this application for this region and the app has the role the operation needs)",
                    connector=CONNECTOR_ID,
                    op=operation,
                )
            raise HttpFatalError(
                f"HTTP {status} {detail}",
                connector=CONNECTOR_ID,
                op=operation,
                status_code=status,
                body_excerpt=detail[:300],
            )
        raise AssertionError("unreachable")  # pragma: no cover

    async def upload(self, url: str, content: bytes, content_type: str) -> None:
        """PUT a feed document to its pre-signed URL with exactly the declared ``Content-Type``."""
        self.calls["uploadFeedDocument"] = self.calls.get("uploadFeedDocument", 0) + 1
        await self.files.put(url, op="uploadFeedDocument", content=content, headers={"Content-Type": content_type})

    async def download(self, url: str, compression: str | None) -> bytes:
        """GET a result document from its pre-signed URL, gunzipped when ``compression`` is ``GZIP``."""
        self.calls["downloadFeedDocument"] = self.calls.get("downloadFeedDocument", 0) + 1
        response = await self.files.get(url, op="downloadFeedDocument")
        data = response.content
        if compression == "GZIP":
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError) as exc:
                raise FatalConnectorError(
                    f"result document is not valid GZIP: {exc}", connector=CONNECTOR_ID, op="downloadFeedDocument"
                ) from None
        return data


def _bookmark_part(bookmark: str | None, key: str) -> Any:
    try:
        data = json.loads(bookmark) if bookmark else None
    except ValueError:
        return None
    return data.get(key) if isinstance(data, dict) else None


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError:
        return {}


class AmazonConnector:
    """A :class:`~omnibridge.sdk.channel.ChannelConnector` and :class:`~omnibridge.sdk.listings.ListingWriter`
    for one seller's merchant-fulfilled stock in one marketplace.

    * One location, ``DEFAULT`` ("Amazon (merchant fulfilled)"): Amazon-fulfilled (FBA) stock is Amazon's.
    * ``read_levels``: ``searchListingsItems`` for 20 SKUs a call (``identifiersType=SKU``); a lone SKU through
      ``getListingsItem`` (see :mod:`connectors.amazon.listings`).
    * ``push_levels`` / ``push_listings``: absolute ``replace`` patches, one ``patchListingsItem`` per SKU below
      ``feed_threshold`` targets, otherwise ``JSON_LISTINGS_FEED`` feeds (see :mod:`connectors.amazon.feeds`).
      Amazon has no compare-and-set (``expected`` is ignored, ``STALE``/``UNCHANGED`` never returned) and no
      reference on a write.
    * Amazon's stock-change signal, ``LISTINGS_ITEM_MFN_QUANTITY_CHANGE``, carries no reference to tell our writes
      from others, so it becomes a :class:`StockObservedEvent` (a level to re-read and reconcile), never a
      :class:`StockChangeEvent` (a movement).
    * ``confirm_shipment``: a :class:`~omnibridge.sdk.fulfilment.ShipmentConfirmer` (Orders v0 ``confirmShipment``,
      see :mod:`connectors.amazon.shipments`).
    * ``update_pickup``: a :class:`~omnibridge.sdk.pickup.PickupStatusWriter` for in-store pickup (ISPU) orders
      (Orders v0 ``updateShipmentStatus``, see :mod:`connectors.amazon.pickup`).
    * ``pull_events``: Orders v0 (see :mod:`connectors.amazon.orders`); webhooks: ``ORDER_CHANGE`` and
      ``LISTINGS_ITEM_MFN_QUANTITY_CHANGE`` through a signing forwarder (see :mod:`connectors.amazon.notifications`).

    ``transport``, ``retry_policy``, ``clock``/``sleep`` (monotonic, for limits, retries and feed polling) and
    ``now`` (wall clock) are injectable for tests.
    """

    def __init__(
        self,
        settings: AmazonSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_policy: RetryPolicy | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleeper = asyncio.sleep,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.settings = settings
        self._now = now
        self._log = get_logger("connectors.amazon")
        self.api = AmazonApi(settings, transport=transport, retry_policy=retry_policy, clock=clock, sleep=sleep)
        self.feed_subscription = FeedSubscription(self.api, settings)
        self.feeds = FeedSubmitter(
            self.api, settings, clock=clock, sleep=sleep, before_first=self.feed_subscription.ensure
        )
        self.listings = Listings(self.api, settings, self.feeds, now=now)
        self.orders = OrdersPoller(self.api, settings, now=now)
        self.shipments = ShipmentConfirmer(self.api, settings.marketplace_id)
        self.pickups = PickupStatusUpdater(self.api, self.orders, settings.marketplace_id)
        self.returns = ReturnsPoller(self.api, settings, now=now, clock=clock, sleep=sleep)
        self.pickup_states: frozenset[PickupState] = self.pickups.pickup_states

    async def aclose(self) -> None:
        """Close the connection pools."""
        await self.api.aclose()

    def attach_memory(self, memory: ChannelMemory) -> None:
        """Keep feeds awaiting their result in ``memory`` (see :mod:`connectors.amazon.feeds`), so a restart
        resumes them instead of sending them again."""
        self.feeds.memory = memory

    # --- stock --------------------------------------------------------------------------------------------

    async def list_locations(self) -> list[ChannelLocation]:
        """The one merchant-fulfilled location, ``DEFAULT``."""
        return [ChannelLocation(mapper.MFN_CHANNEL, mapper.LOCATION_NAME)]

    async def read_levels(self, skus: Sequence[str]) -> list[StockLevel]:
        """The merchant-fulfilled quantity of each SKU; SKUs without a listing (or without an MFN offer) are
        left out. For ``listing_visibility_seconds`` after Amazon accepted a quantity from this connector, that
        quantity is reported instead of the older one Amazon still shows (it shows accepted changes minutes
        later; see :mod:`connectors.amazon.listings`)."""
        return await self.listings.read_levels(skus)

    async def push_levels(self, targets: Sequence[StockTarget]) -> list[PushResult]:
        """Set each target's merchant-fulfilled quantity; one result per target, in order.

        A location other than ``DEFAULT`` or a negative quantity is ``FAILED`` without a call. ``APPLIED`` means
        Amazon accepted the write (it shows it within minutes); an ERROR issue for the SKU is ``FAILED``, or
        ``UNKNOWN_SKU`` when Amazon has no listing with it. A call that fails after another write of the batch
        landed is ``UNKNOWN`` (``FAILED`` when refused); when none landed the batch raises.
        """
        results: list[PushResult | None] = [None] * len(targets)
        writes: list[tuple[int, str, list[dict[str, Any]]]] = []
        for index, target in enumerate(targets):
            if target.location_ref != mapper.MFN_CHANNEL:
                message = f"Amazon merchant-fulfilled stock has one location, {mapper.MFN_CHANNEL!r}"
                results[index] = PushResult(target, PushStatus.FAILED, message=message)
            elif target.quantity < 0:
                results[index] = PushResult(target, PushStatus.FAILED, message="negative quantity")
            else:
                writes.append((index, target.sku, [mapper.fulfillment_patch(target.quantity)]))
        outcomes = await self.listings.write([(sku, patches) for _, sku, patches in writes])
        for (index, _, _), outcome in zip(writes, outcomes, strict=True):
            target = targets[index]
            shown = target.quantity if outcome.status is PushStatus.APPLIED else None
            if outcome.status is PushStatus.APPLIED:
                self.listings.accepted(target.sku, target.quantity)
            results[index] = PushResult(target, outcome.status, shown=shown, message=outcome.message)
        return [result for result in results if result is not None]

    async def push_listings(self, updates: Sequence[ListingUpdate]) -> list[ListingResult]:
        """Set titles (``item_name``) and prices (``purchasable_offer``); one result per update, in order."""
        writes = [
            (
                update.sku,
                mapper.listing_patches(
                    update, marketplace_id=self.settings.marketplace_id, language_tag=self.settings.language_tag
                ),
            )
            for update in updates
        ]
        outcomes = await self.listings.write(writes)
        return [
            ListingResult(update, outcome.status, outcome.message)
            for update, outcome in zip(updates, outcomes, strict=True)
        ]

    # --- orders -------------------------------------------------------------------------------------------

    async def pull_events(self, bookmark: str | None) -> PullResult:
        """Orders updated since ``bookmark`` (see :meth:`connectors.amazon.orders.OrdersPoller.pull`) and, with
        ``returns_report``, returns from the returns report (:mod:`connectors.amazon.returns`; its part of the
        bookmark is under ``"returns"``). A returns report that fails is one message: the orders still come in
        and the returns part of the bookmark stays where it was."""
        result = await self.orders.pull(bookmark)
        if not self.settings.returns_report or result.bookmark is None:
            return result
        previous = _bookmark_part(bookmark, "returns")
        merged = json.loads(result.bookmark)
        try:
            returns = await self.returns.pull(previous)
        except ConnectorError as exc:
            merged["returns"] = previous
            note = MapMessage(MapLevel.WARNING, "returns", f"returns report not read: {exc}")
            return PullResult(result.events, json.dumps(merged, sort_keys=True), [*result.messages, note])
        merged["returns"] = returns.state
        events: list[ChannelEvent] = [*result.events, *returns.events]
        return PullResult(events, json.dumps(merged, sort_keys=True), [*result.messages, *returns.messages])

    async def confirm_shipment(self, confirmation: ShipmentConfirmation) -> ConfirmationResult:
        """Confirm one package of a merchant-fulfilled order with ``confirmShipment`` (carrier code, tracking number,
        ``shipFromSupplySourceId`` = ``location_ref``); see :mod:`connectors.amazon.shipments`."""
        return await self.shipments.confirm_shipment(confirmation)

    async def update_pickup(self, update: PickupUpdate) -> PickupUpdateResult:
        """In-store pickup status with ``updateShipmentStatus`` (READY → ReadyForPickup, COLLECTED → PickedUp,
        REJECTED → RefusedPickup); see :mod:`connectors.amazon.pickup`."""
        return await self.pickups.update_pickup(update)

    # --- webhooks -----------------------------------------------------------------------------------------

    def verify_webhook(self, raw_body: bytes, headers: Mapping[str, str], url: str) -> WebhookDelivery:
        """Check the forwarder's signature and identify the notification (``url`` is not signed and not used);
        see :func:`connectors.amazon.notifications.verify_delivery`. A ``FEED_PROCESSING_FINISHED`` for this
        seller ends the wait of its feed (see :mod:`connectors.amazon.feeds`); duplicates change nothing."""
        delivery = verify_delivery(
            raw_body, headers, forwarder_secret=self.settings.forwarder_secret, received_at=self._now()
        )
        if delivery.topic == FEED_PROCESSING_FINISHED:
            # Ends the feed's wait here, as it is received: the writer waiting on it must not wait for the inbox.
            finished = feed_finished_of(parse_payload(raw_body))
            if finished.get("sellerId") in (None, self.settings.seller_id):
                self.feeds.feed_finished(finished)
        return delivery

    async def webhook_events(self, delivery: WebhookDelivery) -> list[ChannelEvent]:
        """``ORDER_CHANGE``: the order fetched with ``getOrder`` + ``getOrderItems`` as an :class:`OrderEvent`
        (an order Amazon does not return, or that cannot be mapped, raises :class:`SkippableRecordError`).
        ``LISTINGS_ITEM_MFN_QUANTITY_CHANGE``: a :class:`StockObservedEvent` (``sku`` at ``DEFAULT``, ``available`` =
        ``Quantity``, ``observed_at`` = ``EventTime``), without a call; nothing when it names another seller.
        ``FEED_PROCESSING_FINISHED`` (it ended its feed's wait when received, see :meth:`verify_webhook`) and other
        types carry nothing."""
        if delivery.topic == MFN_QUANTITY_CHANGE:
            return list(
                stock_observed(
                    parse_payload(delivery.raw_body),
                    seller_id=self.settings.seller_id,
                    received_at=delivery.received_at,
                )
            )
        if delivery.topic != ORDER_CHANGE:
            return []
        order_id = order_id_of(parse_payload(delivery.raw_body))
        order, result = await self.orders.fetch(order_id)
        if order is None:
            raise SkippableRecordError(
                f"order {order_id} named by notification {delivery.delivery_id} is not returned by getOrder",
                connector=CONNECTOR_ID,
                op="webhook_events",
                record_id=order_id,
            )
        if result is None:
            return []  # Amazon-fulfilled: not merchant stock
        if result.value is None:
            reasons = "; ".join(m.message for m in result.messages) or "unmappable"
            raise SkippableRecordError(reasons, connector=CONNECTOR_ID, op="webhook_events", record_id=order_id)
        return [result.value]
