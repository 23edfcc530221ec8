"""Square Connect v2 I/O behind the channel contract: auth, rate limit, retries, pagination, SKU resolution.

Mapping lives in :mod:`connectors.square.mapper` and webhook checks in :mod:`connectors.square.webhooks`; this
module only moves data. Square knows item variations by ``catalog_object_id``, so every SKU the engine names
is resolved with ``POST /v2/catalog/search`` and every id Square reports back with
``POST /v2/catalog/batch-retrieve``; both directions are cached for the life of the connector.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from connectors.square import mapper, pickups, returns
from connectors.square.order_batcher import OrderBatcher
from connectors.square.pickup_writer import PICKUP_STATES, SquarePickups
from connectors.square.settings import SquareSettings
from connectors.square.shipments import SquareShipments
from connectors.square.webhooks import (
    CATALOG_VERSION_UPDATED,
    FULFILLMENT_UPDATED,
    INVENTORY_COUNT_UPDATED,
    ORDER_TOPICS,
    REFUND_TOPICS,
    inventory_counts,
    order_id,
    parse_payload,
    refund_order_id,
    verify_delivery,
)
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
    TokenBucket,
    WebhookDelivery,
    collect,
    get_logger,
    register_secret,
)
from omnibridge.sdk.channel import (
    ChannelEvent,
    ChannelLocation,
    PullResult,
    PushResult,
    PushStatus,
    StockLevel,
    StockTarget,
    unique_skus,
    unsettled,
)
from omnibridge.sdk.fulfilment import ConfirmationResult, ShipmentConfirmation
from omnibridge.sdk.idempotency import derived_key, shared_reference
from omnibridge.sdk.listings import ListingResult, ListingUpdate
from omnibridge.sdk.memory import ChannelMemory, InMemoryChannelMemory
from omnibridge.sdk.pickup import PickupEvent, PickupUpdate, PickupUpdateResult
from omnibridge.sdk.privacy import PrivacyResult

CONNECTOR_ID = "square"
MAX_CHANGES_PER_BATCH = 100  # BatchChangeInventory: "Max size is 100 changes"
MAX_SKUS_PER_SEARCH = 250  # CatalogQuerySet: "A maximum of 250 values may be searched in a request"
MAX_ORDER_LOCATIONS = 10  # SearchOrders: "Max: 10 location IDs"
IDS_PER_REQUEST = 100  # counts / catalog batch-retrieve: the spec names no limit; stay well below any
OCCURRED_AT_WINDOW = timedelta(hours=24)  # occurred_at "cannot be older than 24 hours"
VARIATION_IDS = "variation_id"  # memory kind: casefolded SKU -> "<variation id> <SKU as Square spells it>"
OCCURRED_AT_MARGIN = timedelta(minutes=5)  # so an old expected_at does not expire between build and send
# Statuses whose Square error body we read ourselves (detail, per-change index) instead of a bare excerpt.
_SQUARE_CLIENT_ERRORS = frozenset({400, 401, 402, 403, 404, 405, 409, 410, 413, 415, 422})
_BOOKMARK_VERSION = 1
_PICKUPS_REMEMBERED = 10_000  # PickupEvent refs remembered as reported (read-back dedupe)

T = TypeVar("T")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True, slots=True)
class _Pending:
    index: int
    variation_id: str
    change: dict[str, Any]


class SquareConnector:
    pickup_states = PICKUP_STATES
    """A :class:`~omnibridge.sdk.channel.ChannelConnector` for one Square seller account.

    * Reads the IN_STOCK count of each item variation per location; a variation with no count at a location
      shows 0 there.
    * Writes are absolute ``PHYSICAL_COUNT`` changes (never ADJUSTMENT), tagged ``reference_id =
      "omnibridge:<target.reference or batch id>"`` so polling never reports them back. ``occurred_at`` is the
      target's ``expected_at`` when that is within Square's 24 h window, so sales made after the engine's read
      still apply on top of the count; otherwise now. Square has no compare-and-set: a target always writes
      (the engine only sends targets that differ) and ``UNCHANGED`` is never returned.
    * Each batch of ≤100 changes carries an ``idempotency_key`` derived from the engine's batch reference and
      the exact changes (fresh when targets share no reference), so the same batch sent again is recognised
      by Square; the HTTP client re-sends the same body with the same key after a transport error or 429. A 400
      naming ``changes[i]`` fails that target and re-sends the others as a new batch with a new key (Square
      rejects a reused key with another body).
    * ``pull_events`` polls orders (SearchOrders, ``UPDATED_AT`` ascending) and inventory changes; the bookmark
      is JSON with both high-water marks, each query starting ``poll_overlap_seconds`` before its mark.
    * ``confirm_shipment`` (a :class:`~omnibridge.sdk.fulfilment.ShipmentConfirmer`): the order's SHIPMENT
      fulfillment to COMPLETED with carrier and tracking (see :mod:`connectors.square.shipments`).

    * Pickups (:mod:`connectors.square.pickups`): an order's PICKUP fulfillment is its ``OrderEvent.pickup``;
      a state past RESERVED seen on a webhook or a poll is a :class:`~omnibridge.sdk.pickup.PickupEvent` (Square
      fires ``order.fulfillment.updated`` only for API updates: till changes arrive by read-back);
      ``update_pickup`` moves it (:mod:`connectors.square.pickup_writer`).
    * Returns and refunds (:mod:`connectors.square.returns`): a return order is a ``ReturnEvent`` restocking at
      its store; a refund without items a money-only ``RefundEvent``.

    ``transport``, ``retry_policy``, ``clock``/``sleep`` (monotonic, for limiter and retries), ``now`` (wall
    clock) and ``new_key`` (idempotency keys) are injectable for tests.
    """

    def __init__(
        self,
        settings: SquareSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_policy: RetryPolicy | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleeper = asyncio.sleep,
        now: Callable[[], datetime] = _utcnow,
        new_key: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.settings = settings
        self._now = now
        self._new_key = new_key
        self._log = get_logger("connectors.square")
        token = settings.access_token.get_secret_value()
        register_secret(token)
        self.bucket = TokenBucket(settings.requests_per_second, settings.burst, clock=clock, sleep=sleep)
        self._orders = OrderBatcher(self._retrieve_orders)  # webhooks arriving together share one fetch
        self.shipments = SquareShipments(self._call)
        self.pickups = SquarePickups(self._call, now)
        self._pickups_seen: OrderedDict[str, None] = OrderedDict()  # PickupEvent refs reported (read-back dedupe)
        self._last_count_at: dict[tuple[str, str], datetime] = {}
        """Per (variation, location), the ``occurred_at`` of the last count this connector sent (see
        :meth:`_count_time`)."""
        self.http = ConnectorHttpClient(
            CONNECTOR_ID,
            str(settings.base_url),
            auth_headers={"Authorization": f"Bearer {token}"},
            headers={
                "Square-Version": settings.square_version,
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            rate_limiter=self.bucket,
            retry_policy=retry_policy,
            transport=transport,
            timeout=settings.timeout_seconds,
            clock=clock,
            sleep=sleep,
        )
        self._id_by_sku: dict[str, str] = {}  # casefolded SKU -> variation id (Square matches SKUs ignoring case)
        self._sku_by_id: dict[str, str] = {}
        self._ambiguous: dict[str, int] = {}  # casefolded SKU -> how many variations carry it
        self._active_locations: list[str] | None = None
        self._memory: ChannelMemory = InMemoryChannelMemory()

    def attach_memory(self, memory: ChannelMemory) -> None:
        """Keep variation ids per SKU in ``memory`` (see :mod:`omnibridge.sdk.memory`) and load those it holds:
        after a restart, SKUs resolved before are not searched for again."""
        self._memory = memory
        for key, value in memory.load(VARIATION_IDS).items():
            variation_id, _, sku = value.partition(" ")
            if variation_id and sku:
                self._id_by_sku.setdefault(key, variation_id)
                self._sku_by_id.setdefault(variation_id, sku)

    async def _retrieve_orders(self, ids: list[str]) -> tuple[dict[str, Mapping[str, Any]], str]:
        """``POST /v2/orders/batch-retrieve`` for ≤100 ids: the orders found by id, and Square's error detail."""
        _, body = await self._call("POST", "/v2/orders/batch-retrieve", "webhook_order", {"order_ids": ids})
        found: dict[str, Mapping[str, Any]] = {
            o["id"]: o for o in body.get("orders") or [] if isinstance(o, dict) and isinstance(o.get("id"), str)
        }
        return found, mapper.describe_errors(mapper.square_errors(body))

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()

    # --- HTTP ---------------------------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        path: str,
        op: str,
        body: Mapping[str, Any] | None = None,
        *,
        write_key: str | None = None,
        accept_400: bool = False,
    ) -> tuple[int, dict[str, Any]]:
        """One request; returns ``(status, body)``. Reads are safe to retry; a write is retried only with its
        ``write_key`` (the body's idempotency key). A Square 4xx raises :class:`HttpFatalError` with Square's
        ``code``/``detail``, except a 400 when ``accept_400`` (per-change errors)."""
        response = await self.http.request(
            method,
            path,
            op=op,
            json=body,
            idempotent=None if write_key else True,
            idempotency_key=write_key,
            expected_statuses=_SQUARE_CLIENT_ERRORS,
        )
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            if response.status_code < 400:
                raise FatalConnectorError("response is not a JSON object", connector=CONNECTOR_ID, op=op)
            payload = {}
        status = response.status_code
        if status >= 400 and not (accept_400 and status == 400):
            detail = mapper.describe_errors(mapper.square_errors(payload))
            prefix = "Square rejected the access token: " if status == 401 else ""
            raise HttpFatalError(
                f"{prefix}HTTP {status} {detail}",
                connector=CONNECTOR_ID,
                op=op,
                status_code=status,
                body_excerpt=detail[:300],
            )
        return status, payload

    def _log_messages(self, op: str, messages: Iterable[MapMessage]) -> None:
        for message in messages:
            self._log.warning(
                "square.record",
                op=op,
                level=str(message.level),
                field=message.field_path,
                record=message.record_id,
                message=message.message,
            )

    # --- locations ----------------------------------------------------------------------------------------

    async def list_locations(self) -> list[ChannelLocation]:
        """``GET /v2/locations``, restricted to ``settings.location_ids`` when set."""
        _, body = await self._call("GET", "/v2/locations", "list_locations")
        locations, messages = collect(mapper.map_location(raw) for raw in body.get("locations") or [])
        self._log_messages("list_locations", messages)
        wanted = self.settings.location_ids
        return [loc for loc in locations if wanted is None or loc.external_id in wanted]

    async def _location_ids(self) -> list[str]:
        if self.settings.location_ids:
            return list(self.settings.location_ids)
        if self._active_locations is None:
            self._active_locations = [loc.external_id for loc in await self.list_locations() if loc.active]
        return self._active_locations

    def _location_allowed(self, location: Any) -> bool:
        wanted = self.settings.location_ids
        return wanted is None or location in wanted

    # --- catalog ------------------------------------------------------------------------------------------

    async def resolve_skus(self, skus: Sequence[str]) -> dict[str, str]:
        """``{sku: variation id}`` for the SKUs (as given) that exactly one live item variation carries.

        Unknown SKUs are looked up with ``POST /v2/catalog/search`` (``set_query`` on ``sku``, ≤250 values per
        call, following ``cursor``); found ones are cached both ways. Unknown SKUs and SKUs several variations
        carry are not cached, so an item created or fixed later is found on the next call.
        """
        wanted = unique_skus(skus)
        missing = [s for s in wanted if s.casefold() not in self._id_by_sku]
        for s in missing:
            self._ambiguous.pop(s.casefold(), None)  # duplicates may have been fixed since: search again
        for chunk in _chunks(missing, MAX_SKUS_PER_SEARCH):
            found: dict[str, set[str]] = {}
            cursor: str | None = None
            while True:
                _, body = await self._call(
                    "POST", "/v2/catalog/search", "catalog_search", mapper.catalog_search_body(chunk, cursor)
                )
                for variation_id, sku in mapper.variation_skus(body.get("objects") or []):
                    found.setdefault(sku.casefold(), set()).add(variation_id)
                    self._sku_by_id.setdefault(variation_id, sku)
                cursor = body.get("cursor") or None
                if cursor is None:
                    break
            learned: dict[str, str] = {}
            for key, ids in found.items():
                if len(ids) == 1:
                    self._id_by_sku[key] = variation_id = next(iter(ids))
                    learned[key] = f"{variation_id} {self._sku_by_id[variation_id]}"
                else:
                    self._ambiguous[key] = len(ids)
            self._memory.remember(VARIATION_IDS, learned)
        return {s: self._id_by_sku[s.casefold()] for s in wanted if s.casefold() in self._id_by_sku}

    async def resolve_variation_ids(self, variation_ids: Iterable[str]) -> dict[str, str]:
        """``{variation id: sku}`` for the ids Square reports, fetching unknown ones with
        ``POST /v2/catalog/batch-retrieve`` (deleted variations included: old orders name them)."""
        wanted = list(dict.fromkeys(variation_ids))
        missing = [i for i in wanted if i not in self._sku_by_id]
        for chunk in _chunks(missing, IDS_PER_REQUEST):
            body = {"object_ids": list(chunk), "include_deleted_objects": True}
            _, payload = await self._call("POST", "/v2/catalog/batch-retrieve", "catalog_batch_retrieve", body)
            for variation_id, sku in mapper.variation_skus(payload.get("objects") or [], include_deleted=True):
                self._sku_by_id[variation_id] = sku
        return {i: self._sku_by_id[i] for i in wanted if i in self._sku_by_id}

    def forget_catalog(self) -> None:
        """Drop the SKU <-> variation id caches (done on ``catalog.version.updated``)."""
        self._id_by_sku.clear()
        self._sku_by_id.clear()
        self._ambiguous.clear()
        self._memory.forget(VARIATION_IDS, list(self._memory.load(VARIATION_IDS)))

    def _forget_sku(self, sku: str) -> None:
        variation_id = self._id_by_sku.pop(sku.casefold(), None)
        if variation_id is not None:
            self._sku_by_id.pop(variation_id, None)
            self._memory.forget(VARIATION_IDS, [sku.casefold()])

    # --- levels -------------------------------------------------------------------------------------------

    async def read_levels(self, skus: Sequence[str]) -> list[StockLevel]:
        """IN_STOCK counts (``POST /v2/inventory/counts/batch-retrieve``) of these SKUs at every location.

        SKUs Square lacks are left out. A variation with no count at a location shows 0 there; a fractional
        count is logged and left out (it is not a whole number of units).
        """
        ids = await self.resolve_skus(skus)
        if not ids:
            return []
        locations = await self._location_ids()
        sku_by_id = {variation_id: sku for sku, variation_id in ids.items()}
        observed_at = self._now()
        levels: list[StockLevel] = []
        seen: set[tuple[str, str]] = set()
        for chunk in _chunks(list(sku_by_id), IDS_PER_REQUEST):
            cursor: str | None = None
            while True:
                _, body = await self._call(
                    "POST",
                    "/v2/inventory/counts/batch-retrieve",
                    "read_levels",
                    mapper.counts_body(chunk, locations, cursor),
                )
                for raw in body.get("counts") or []:
                    if not isinstance(raw, dict) or raw.get("state") != mapper.IN_STOCK:
                        continue
                    seen.add((str(raw.get("catalog_object_id")), str(raw.get("location_id"))))
                    result = mapper.map_count(raw, sku_by_id, observed_at)
                    self._log_messages("read_levels", result.messages)
                    if result.value is not None:
                        levels.append(result.value)
                cursor = body.get("cursor") or None
                if cursor is None:
                    break
        for variation_id, sku in sku_by_id.items():
            for location in locations:
                if (variation_id, location) not in seen:
                    levels.append(StockLevel(sku, location, 0, observed_at))
        return levels

    def _occurred_at(self, target: StockTarget, now: datetime) -> datetime:
        expected_at = target.expected_at
        if expected_at is not None and now - OCCURRED_AT_WINDOW + OCCURRED_AT_MARGIN < expected_at <= now:
            return expected_at
        return now

    def _count_time(self, variation_id: str, target: StockTarget, now: datetime) -> datetime:
        """The ``occurred_at`` of a count: :meth:`_occurred_at`, but always after the last count sent here.

        Square's level is its latest ``PHYSICAL_COUNT`` *by occurred_at*. A count backdated to an ``expected_at``
        older than a count sent before (the level was learned from a notification stamped earlier) would rank
        behind that earlier count and never show, while the engine remembers it as landed. Moving it to just after
        the earlier count loses no sale: sales before the earlier count were already overwritten by it.
        """
        occurred = _to_millisecond(self._occurred_at(target, now))
        key = (variation_id, target.location_ref)
        last = self._last_count_at.get(key)
        if last is not None and occurred <= last:
            occurred = min(last + timedelta(milliseconds=1), _to_millisecond(now))
        self._last_count_at[key] = max(occurred, last) if last is not None else occurred
        return occurred

    async def push_levels(self, targets: Sequence[StockTarget]) -> list[PushResult]:
        """Set each target's IN_STOCK count with ``PHYSICAL_COUNT`` changes; one result per target, in order.

        Unknown SKUs are ``UNKNOWN_SKU`` and SKUs carried by several variations, negative quantities and
        locations outside ``location_ids`` are ``FAILED``, all without a call. ``shown`` is Square's resulting
        IN_STOCK count from the response. See the class docstring for batching and idempotency keys. A batch call
        that fails once an earlier batch has landed does not raise: its changes and those not sent yet get
        :func:`~omnibridge.sdk.channel.unsettled` results.
        """
        results: list[PushResult | None] = [None] * len(targets)
        ids = await self.resolve_skus([t.sku for t in targets])
        now = self._now()
        batch_ref = self._new_key()
        pending: list[_Pending] = []
        for index, target in enumerate(targets):
            variation_id = ids.get(target.sku)
            if target.sku.casefold() in self._ambiguous:
                count = self._ambiguous[target.sku.casefold()]
                results[index] = PushResult(target, PushStatus.FAILED, message=f"{count} variations carry this SKU")
            elif variation_id is None:
                results[index] = PushResult(target, PushStatus.UNKNOWN_SKU, message="no item variation has this SKU")
            elif not self._location_allowed(target.location_ref):
                results[index] = PushResult(target, PushStatus.FAILED, message="location not in location_ids")
            elif target.quantity < 0:
                results[index] = PushResult(target, PushStatus.FAILED, message="negative quantity")
            else:
                reference = mapper.own_reference(target.reference or batch_ref)
                occurred_at = self._count_time(variation_id, target, now)
                change = mapper.physical_count_change(
                    target, variation_id, occurred_at=occurred_at, reference_id=reference
                )
                pending.append(_Pending(index, variation_id, change))
        chunks = list(_chunks(pending, MAX_CHANGES_PER_BATCH))
        for position, chunk in enumerate(chunks):
            try:
                await self._push_batch(targets, list(chunk), results)
            except ConnectorError as exc:
                if not any(result is not None and result.status is PushStatus.APPLIED for result in results):
                    raise
                for sent, items in [(True, chunk), *((False, later) for later in chunks[position + 1 :])]:
                    for item in items:
                        if results[item.index] is None:
                            results[item.index] = unsettled(targets[item.index], exc, sent=sent)
                break
        return [result for result in results if result is not None]

    async def _push_batch(
        self, targets: Sequence[StockTarget], batch: list[_Pending], results: list[PushResult | None]
    ) -> None:
        while batch:
            changes = [item.change for item in batch]
            reference = shared_reference(targets[item.index].reference for item in batch)
            key = derived_key(reference, changes) if reference else self._new_key()
            body = mapper.batch_change_body(changes, key)
            status, payload = await self._call(
                "POST", "/v2/inventory/changes/batch-create", "push_levels", body, write_key=key, accept_400=True
            )
            errors = mapper.square_errors(payload)
            by_index: dict[int, list[dict[str, Any]]] = {}
            for error in errors:
                index = mapper.change_index(error)
                if index is not None and 0 <= index < len(batch):
                    by_index.setdefault(index, []).append(error)
            if status == 400 and not by_index:
                raise HttpFatalError(
                    f"HTTP 400 {mapper.describe_errors(errors)}",
                    connector=CONNECTOR_ID,
                    op="push_levels",
                    status_code=400,
                )
            for index, item_errors in by_index.items():
                item = batch[index]
                target = targets[item.index]
                unknown = any(
                    e.get("code") == "NOT_FOUND" or "catalog_object_id" in str(e.get("field", "")) for e in item_errors
                )
                if unknown:
                    self._forget_sku(target.sku)
                results[item.index] = PushResult(
                    target,
                    PushStatus.UNKNOWN_SKU if unknown else PushStatus.FAILED,
                    message=mapper.describe_errors(item_errors),
                )
            if status == 400:
                # Nothing of a rejected batch was applied: send the rest again as a new batch (new body, new key).
                batch = [item for position, item in enumerate(batch) if position not in by_index]
                continue
            shown = _in_stock_counts(payload.get("counts"))
            for position, item in enumerate(batch):
                if position not in by_index:
                    target = targets[item.index]
                    results[item.index] = PushResult(
                        target, PushStatus.APPLIED, shown=shown.get((item.variation_id, target.location_ref))
                    )
            return

    # --- listings -----------------------------------------------------------------------------------------

    async def push_listings(self, updates: Sequence[ListingUpdate]) -> list[ListingResult]:
        """Set item names and variation prices (implements :class:`~omnibridge.sdk.listings.ListingWriter`); see
        :mod:`connectors.square.listings`."""
        from connectors.square.listings import push_listings

        return await push_listings(self, updates)

    # --- events -------------------------------------------------------------------------------------------

    async def pull_events(self, bookmark: str | None) -> PullResult:
        """Orders and inventory changes since ``bookmark`` (``None``: orders from ``order_lookback_minutes`` ago,
        inventory changes from now).

        Orders (``POST /v2/orders/search`` per ≤10 locations, states OPEN/COMPLETED/CANCELED, ``updated_at``
        from the orders mark minus ``poll_overlap_seconds``, ``UPDATED_AT`` ascending) become
        :class:`OrderEvent`; inventory changes (``POST /v2/inventory/changes/batch-retrieve``, PHYSICAL_COUNT and
        ADJUSTMENT, ``updated_after`` the changes mark minus the overlap) become :class:`StockChangeEvent`
        except our own writes and order-driven adjustments. Each mark becomes the latest ``updated_at`` /
        ``created_at`` seen and never moves backwards.
        """
        orders_mark, changes_mark = self._decode_bookmark(bookmark)
        overlap = timedelta(seconds=self.settings.poll_overlap_seconds)
        orders_start, changes_start = orders_mark - overlap, changes_mark - overlap
        if bookmark is None:
            # First pull: stock changes made before it are already in the merchant's opening balance, so the
            # change feed starts now; only orders look back (order_lookback_minutes). The mark is set one overlap
            # ahead so that the next pull's overlap window starts exactly here, not before.
            changes_start = self._now()
            changes_mark = changes_start + overlap
        locations = await self._location_ids()
        orders: list[Any] = []
        for chunk in _chunks(locations, MAX_ORDER_LOCATIONS):
            orders.extend(
                await self._paginate(
                    "/v2/orders/search",
                    "pull_orders",
                    "orders",
                    partial(mapper.orders_search_body, chunk, orders_start),
                )
            )
        changes = await self._paginate(
            "/v2/inventory/changes/batch-retrieve",
            "pull_changes",
            "changes",
            partial(mapper.changes_body, changes_start, locations),
        )
        relevant = [c for c in changes if not mapper.is_ignored_change(c)]
        needed = [i for order in orders for i in mapper.order_variation_ids(order)]
        needed += [i for order in orders if isinstance(order, dict) for i in returns.return_variation_ids(order)]
        needed += [i for c in relevant if (i := mapper.change_variation_id(c)) is not None]
        sku_by_id = await self.resolve_variation_ids(needed)

        events: list[ChannelEvent] = []
        messages: list[MapMessage] = []
        for raw in orders:
            updated = mapper.parse_time(raw.get("updated_at")) if isinstance(raw, dict) else None
            orders_mark = max(orders_mark, updated) if updated else orders_mark
            if isinstance(raw, dict) and not self._location_allowed(raw.get("location_id")):
                continue
            if isinstance(raw, dict):
                found, notes = await self._order_events(raw, sku_by_id)
                events.extend(found)
                messages.extend(notes)
        for raw in changes:
            created = mapper.change_created_at(raw)
            changes_mark = max(changes_mark, created) if created else changes_mark
            mapped = mapper.map_inventory_change(raw, sku_by_id)
            if mapped is None:
                continue
            messages.extend(mapped.messages)
            if mapped.value is not None:
                events.append(mapped.value)
        return PullResult(events, self._encode_bookmark(orders_mark, changes_mark), messages)

    async def _paginate(self, path: str, op: str, key: str, build: Callable[[str | None], dict[str, Any]]) -> list[Any]:
        items: list[Any] = []
        cursor: str | None = None
        while True:
            _, body = await self._call("POST", path, op, build(cursor))
            page = body.get(key)
            if isinstance(page, list):
                items.extend(page)
            cursor = body.get("cursor") or None
            if cursor is None:
                return items

    def _decode_bookmark(self, bookmark: str | None) -> tuple[datetime, datetime]:
        if bookmark is None:
            start = self._now() - timedelta(minutes=self.settings.order_lookback_minutes)
            return start, start
        try:
            data = json.loads(bookmark)
            orders = mapper.parse_time(data["orders"])
            changes = mapper.parse_time(data["changes"])
        except (ValueError, KeyError, TypeError):
            orders = changes = None
        if orders is None or changes is None:
            raise FatalConnectorError(f"unreadable bookmark {bookmark!r}", connector=CONNECTOR_ID, op="pull_events")
        return orders, changes

    @staticmethod
    def _encode_bookmark(orders: datetime, changes: datetime) -> str:
        marks = {"v": _BOOKMARK_VERSION, "orders": mapper.format_time(orders), "changes": mapper.format_time(changes)}
        return json.dumps(marks, sort_keys=True)

    # --- customers ----------------------------------------------------------------------------------------

    async def erase_customer(self, customer_ref: str) -> PrivacyResult:
        """DeleteCustomer (implements :class:`~omnibridge.sdk.privacy.CustomerEraser`): a customer already gone
        (404) counts as erased. Square's ``preferences.email_unsubscribed`` is read-only in the Customers API, so
        Square is not a consent writer."""
        try:
            await self._call("DELETE", f"/v2/customers/{quote(customer_ref, safe='')}", "delete customer")
        except HttpFatalError as exc:
            if exc.status_code == 404:
                return PrivacyResult(True, "no such customer on Square (already deleted)")
            raise
        return PrivacyResult(True)

    # --- webhooks -----------------------------------------------------------------------------------------

    async def confirm_shipment(self, confirmation: ShipmentConfirmation) -> ConfirmationResult:
        """Complete the order's SHIPMENT fulfillment with carrier and tracking (UpdateOrder, version-checked);
        see :mod:`connectors.square.shipments`."""
        return await self.shipments.confirm_shipment(confirmation)

    def verify_webhook(self, raw_body: bytes, headers: Mapping[str, str], url: str) -> WebhookDelivery:
        """Verify ``x-square-hmacsha256-signature`` over the *configured* ``webhook_notification_url`` + body.

        ``url`` (where the request arrived) is deliberately not used: behind a proxy it differs from the URL
        Square signed, and the signed URL must be the subscription's, byte for byte. Pure; see
        :func:`connectors.square.webhooks.verify_delivery`.
        """
        return verify_delivery(
            raw_body,
            headers,
            signature_key=self.settings.webhook_signature_key,
            notification_url=self.settings.webhook_notification_url,
            received_at=self._now(),
        )

    async def webhook_events(self, delivery: WebhookDelivery) -> list[ChannelEvent]:
        """The events a verified delivery carries.

        ``inventory.count.updated`` → one :class:`StockObservedEvent` per IN_STOCK count; ``order.created``,
        ``order.updated``, ``order.fulfillment.updated`` → the order fetched with
        ``POST /v2/orders/batch-retrieve`` as an :class:`OrderEvent`; ``catalog.version.updated`` clears the SKU
        caches. Other topics carry nothing. An order that cannot be fetched or mapped raises
        :class:`SkippableRecordError`.
        """
        payload = parse_payload(delivery.raw_body)
        if delivery.topic == INVENTORY_COUNT_UPDATED:
            counts = [c for c in inventory_counts(payload) if isinstance(c, dict)]
            counts = [c for c in counts if self._location_allowed(c.get("location_id"))]
            ids = [c["catalog_object_id"] for c in counts if isinstance(c.get("catalog_object_id"), str)]
            sku_by_id = await self.resolve_variation_ids(ids)
            observed = [mapper.map_observed_count(c, sku_by_id, delivery.received_at) for c in counts]
            values, messages = collect(observed)
            self._log_messages("webhook_events", messages)
            return list(values)
        if delivery.topic == CATALOG_VERSION_UPDATED:
            self.forget_catalog()  # a SKU may have moved to another variation
            return []
        if delivery.topic not in ORDER_TOPICS | REFUND_TOPICS:
            return []
        ref = refund_order_id(payload) if delivery.topic in REFUND_TOPICS else order_id(payload)
        if ref is None:
            raise SkippableRecordError(
                f"{delivery.topic} names no order",
                connector=CONNECTOR_ID,
                op="webhook_events",
                record_id=delivery.delivery_id,
            )
        order, detail = await self._orders.get(ref)
        if order is None:
            raise SkippableRecordError(
                f"order {ref} not returned by Square ({detail})",
                connector=CONNECTOR_ID,
                op="webhook_events",
                record_id=ref,
            )
        if not self._location_allowed(order.get("location_id")):
            return []
        needed = mapper.order_variation_ids(order) + returns.return_variation_ids(order)
        sku_by_id = await self.resolve_variation_ids(needed)
        announced = pickups.webhook_pickup_events(payload, order) if delivery.topic == FULFILLMENT_UPDATED else []
        events, messages = await self._order_events(order, sku_by_id, announced)
        self._log_messages("webhook_events", messages)
        if not events and not returns.is_return_order(order):
            raise SkippableRecordError(
                mapper.describe_errors([{"code": "UNMAPPABLE_ORDER", "detail": m.message} for m in messages]),
                connector=CONNECTOR_ID,
                op="webhook_events",
                record_id=ref,
            )
        return events

    async def _order_events(
        self, order: Mapping[str, Any], sku_by_id: Mapping[str, str], announced: Sequence[PickupEvent] = ()
    ) -> tuple[list[ChannelEvent], list[MapMessage]]:
        """What one order read from Square says: a return order its ReturnEvents; an ordinary order its
        OrderEvent, the PickupEvents not reported yet (those ``announced`` by a webhook, then the state the
        order shows now; each ref once while remembered, harmless if repeated) and its money-only RefundEvents."""
        if returns.is_return_order(order):
            found, notes = returns.return_events(order, sku_by_id, await self._restocked(order))
            return list(found), notes
        result = mapper.map_order(order, sku_by_id)
        if result.value is None:
            return [], list(result.messages)
        events: list[ChannelEvent] = [result.value]
        for event in [*announced, *pickups.pickup_events(order)]:
            if event.ref not in self._pickups_seen:
                events.append(event)
                self._pickups_seen[event.ref] = None
                while len(self._pickups_seen) > _PICKUPS_REMEMBERED:
                    self._pickups_seen.popitem(last=False)
        events.extend(returns.refund_events(order))
        return events, list(result.messages)

    async def _restocked(self, order: Mapping[str, Any]) -> dict[str, int]:
        """Units the till put back IN_STOCK for a return order: its store's ADJUSTMENTs naming its refunds."""
        variations, refunds = returns.return_variation_ids(order), returns.refund_ids(order)
        location = order.get("location_id")
        created = mapper.parse_time(order.get("created_at"))
        if not variations or not refunds or not isinstance(location, str) or created is None:
            return {}
        build = partial(returns.restock_changes_body, variations, location, created)
        changes = await self._paginate("/v2/inventory/changes/batch-retrieve", "return_restocks", "changes", build)
        return returns.restocked_units(changes, refunds, location)

    async def update_pickup(self, update: PickupUpdate) -> PickupUpdateResult:
        """Move the order's PICKUP fulfillment (implements :class:`~omnibridge.sdk.pickup.PickupStatusWriter`);
        see :mod:`connectors.square.pickup_writer`."""
        return await self.pickups.update_pickup(update)


def _in_stock_counts(raw: Any) -> dict[tuple[str, str], int]:
    shown: dict[tuple[str, str], int] = {}
    for count in raw if isinstance(raw, list) else []:
        if isinstance(count, dict) and count.get("state") == mapper.IN_STOCK:
            quantity = mapper.parse_quantity(count.get("quantity"))
            if quantity is not None:
                shown[(str(count.get("catalog_object_id")), str(count.get("location_id")))] = quantity
    return shown


def _to_millisecond(moment: datetime) -> datetime:
    """``moment`` truncated to the millisecond, the precision Square keeps (:func:`mapper.format_time`)."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
