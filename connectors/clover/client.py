"""Clover REST v3 I/O behind the channel contract: auth, Clover's rate and concurrency limits, paging, item ids.

Mapping lives in :mod:`connectors.clover.mapper` and webhook checks in :mod:`connectors.clover.webhooks`; this
module only moves data. Clover knows items by id; SKUs are resolved by reading items (``filter=sku=`` for a few
SKUs, the whole catalog paged for many) and cached both ways for the life of the connector.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from connectors.clover import mapper
from connectors.clover.order_batch import OrderBatcher
from connectors.clover.settings import CloverSettings
from connectors.clover.webhooks import INVENTORY_PREFIXES, ORDER_PREFIX, notifications, parse_payload, verify_delivery
from omnibridge.sdk import (
    Clock,
    ConcurrencyLimit,
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
    get_logger,
    register_secret,
    to_minor_units,
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
from omnibridge.sdk.listings import ListingResult, ListingUpdate
from omnibridge.sdk.memory import ChannelMemory, InMemoryChannelMemory

CONNECTOR_ID = "clover"
SKU_FILTER_MAX = 5  # up to this many SKUs are looked up one filter each; more page through the catalog
# Statuses whose Clover error body we read ourselves instead of a bare excerpt.
_CLOVER_CLIENT_ERRORS = frozenset({400, 401, 403, 404, 405, 409, 413, 415, 422})
_BOOKMARK_VERSION = 1


def _utcnow() -> datetime:
    return datetime.now(UTC)


ITEM_IDS = "item_id"
"""Memory kind of item ids per SKU (``{sku: item id}``)."""


class CloverConnector:
    """A :class:`~omnibridge.sdk.channel.ChannelConnector` (and listing writer) for one Clover merchant.

    * One location: the merchant (``external_id`` = ``merchant_id``).
    * Levels are ``itemStock.quantity`` rounded down to whole units. Writes are absolute
      (``POST /item_stocks/{itemId}`` ``{"quantity": N}``): Clover has no compare-and-set and no write reference,
      so a target always writes (``UNCHANGED`` is never returned) and the engine only sends targets that differ.
    * No echo: Clover keeps no stock change history, so ``pull_events`` reports only orders and refunds, never a
      :class:`StockChangeEvent`. Stock edited on the POS or dashboard (and our own writes coming back) arrive as
      ``I:`` notifications, which become :class:`StockObservedEvent` — a hint to re-read, never a movement.
    * Rate limits: every request holds one of ``max_concurrent`` slots (Clover: 5 in flight per token) and pays
      a token bucket of ``requests_per_second`` (Clover's documented 16/s per token, one second's worth of burst);
      the bucket counts each request until its answer, so no margin is kept below Clover's limits. A 429 that
      still comes is retried after ``retry-after``.

    ``transport``, ``retry_policy``, ``clock``/``sleep`` (monotonic, for limiter and retries) and ``now`` (wall
    clock) are injectable for tests.
    """

    items_page_size = 1000  # Clover's maximum ``limit``
    orders_page_size = 100  # orders come with their line items: smaller pages

    def __init__(
        self,
        settings: CloverSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_policy: RetryPolicy | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleeper = asyncio.sleep,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.settings = settings
        self.merchant_id = settings.merchant_id
        self._now = now
        self._log = get_logger("connectors.clover")
        token = settings.access_token.get_secret_value()
        register_secret(token)
        rate = settings.requests_per_second
        self.bucket = TokenBucket(rate, max(1.0, rate), clock=clock, sleep=sleep)
        self.slots = ConcurrencyLimit(settings.max_concurrent)
        policy = retry_policy or RetryPolicy(
            max_attempts=settings.retry_attempts, initial_backoff=settings.retry_initial_backoff
        )
        self.http = ConnectorHttpClient(
            CONNECTOR_ID,
            str(settings.base_url),
            auth_headers={"Authorization": f"Bearer {token}"},
            headers={"User-Agent": settings.user_agent, "Accept": "application/json"},
            rate_limiter=self.bucket,
            retry_policy=policy,
            transport=transport,
            timeout=settings.timeout_seconds,
            clock=clock,
            sleep=sleep,
        )
        self._item_by_sku: dict[str, str] = {}
        self._sku_by_item: dict[str, str] = {}
        self._ambiguous: set[str] = set()
        self._memory: ChannelMemory = InMemoryChannelMemory()
        self._kept: dict[str, str] = {}  # what the memory holds, so only changes are written
        self._orders = OrderBatcher(self._orders_since, self._order)  # messages arriving together share one read

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()

    # --- HTTP ---------------------------------------------------------------------------------------------

    def _path(self, suffix: str = "") -> str:
        return f"/v3/merchants/{self.merchant_id}{suffix}"

    async def _call(
        self,
        method: str,
        path: str,
        op: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        accept: Iterable[int] = (),
    ) -> tuple[int, Any]:
        """One request inside a concurrency slot; returns ``(status, parsed body)``.

        Every Clover call used here is safe to repeat (reads, and absolute sets), so all are retried on
        transient failures. A Clover 4xx raises :class:`HttpFatalError` with Clover's message, unless its status
        is in ``accept``.
        """
        async with self.slots.slot():
            response = await self.http.request(
                method,
                path,
                op=op,
                params=params,
                json=body,
                idempotent=True,
                expected_statuses=_CLOVER_CLIENT_ERRORS,
            )
        try:
            payload = response.json()
        except ValueError:
            payload = None
        status = response.status_code
        if status >= 400 and status not in accept:
            detail = mapper.clover_message(payload) or response.text[:200] or "no detail"
            prefix = (
                "Clover rejected the access token (invalid, expired or missing a permission): " if status == 401 else ""
            )
            raise HttpFatalError(
                f"{prefix}HTTP {status}: {detail}",
                connector=CONNECTOR_ID,
                op=op,
                status_code=status,
                body_excerpt=detail[:300],
            )
        if status < 400 and not isinstance(payload, dict):
            raise FatalConnectorError("response is not a JSON object", connector=CONNECTOR_ID, op=op)
        return status, payload

    def _log_messages(self, op: str, messages: Iterable[MapMessage]) -> None:
        for message in messages:
            self._log.warning(
                "clover.record",
                op=op,
                level=str(message.level),
                field=message.field_path,
                record=message.record_id,
                message=message.message,
            )

    async def _paged(self, path: str, op: str, params: Mapping[str, Any], size: int) -> list[Any]:
        """Every element of a ``limit``/``offset`` collection: pages until one comes back short."""
        found: list[Any] = []
        offset = 0
        while True:
            _, body = await self._call("GET", path, op, params={**params, "limit": size, "offset": offset})
            page = mapper.elements(body)
            found.extend(page)
            if len(page) < size:
                return found
            offset += size

    # --- locations ----------------------------------------------------------------------------------------

    async def list_locations(self) -> list[ChannelLocation]:
        """The merchant (``GET /v3/merchants/{mId}``) as the only location: Clover has one inventory per merchant."""
        _, body = await self._call("GET", self._path(), "list_locations")
        return [mapper.map_merchant(body, self.merchant_id)]

    # --- items --------------------------------------------------------------------------------------------

    def attach_memory(self, memory: ChannelMemory) -> None:
        """Keep item ids per SKU in ``memory`` (see :mod:`omnibridge.sdk.memory`) and load those it holds: after a
        restart, SKUs resolved before are not looked up again."""
        self._memory = memory
        self._kept = memory.load(ITEM_IDS)
        for sku, item_id in self._kept.items():
            self._item_by_sku.setdefault(sku, item_id)
            self._sku_by_item.setdefault(item_id, sku)

    def _keep(self, skus: Iterable[str]) -> None:
        """Bring the memory of these SKUs in line with the cache (an ambiguous or vanished SKU is forgotten); only
        what changed is written."""
        known, gone = {}, []
        for sku in dict.fromkeys(skus):
            item_id = self._item_by_sku.get(sku)
            if item_id is not None and sku not in self._ambiguous:
                if self._kept.get(sku) != item_id:
                    known[sku] = self._kept[sku] = item_id
            elif self._kept.pop(sku, None) is not None:
                gone.append(sku)
        self._memory.remember(ITEM_IDS, known)
        self._memory.forget(ITEM_IDS, gone)

    def _remember(self, items: Iterable[Any]) -> None:
        by_sku: dict[str, set[str]] = {}
        touched: list[str] = []
        for item_id, sku in mapper.skus_by_item(items).items():
            old = self._sku_by_item.get(item_id)
            if old is not None and old != sku and self._item_by_sku.get(old) == item_id:
                del self._item_by_sku[old]  # the item's SKU was changed on Clover
                touched.append(old)
            self._sku_by_item[item_id] = sku
            by_sku.setdefault(sku, set()).add(item_id)
        for sku, ids in by_sku.items():
            known = self._item_by_sku.get(sku)
            if len(ids) > 1 or (known is not None and known not in ids):
                self._ambiguous.add(sku)
            else:
                self._ambiguous.discard(sku)
                self._item_by_sku[sku] = next(iter(ids))
        self._keep([*touched, *by_sku])

    async def _items_with_skus(self, skus: Sequence[str], op: str) -> list[Any]:
        """The items (expanded with ``itemStock``) carrying any of ``skus``, in ``sku`` or ``code``."""
        params = {"expand": "itemStock"}
        if len(skus) > SKU_FILTER_MAX:
            items = await self._paged(self._path("/items"), op, params, self.items_page_size)
        else:
            items = []
            for sku in skus:
                found = await self._paged(
                    self._path("/items"), op, {**params, "filter": f"sku={sku}"}, self.items_page_size
                )
                if not found:  # merchants without SKUs keep the product code in ``code``
                    found = await self._paged(
                        self._path("/items"), op, {**params, "filter": f"code={sku}"}, self.items_page_size
                    )
                items.extend(found)
        wanted = set(skus)
        matching = [i for i in items if isinstance(i, dict) and mapper.item_sku(i) in wanted]
        for sku in wanted:
            self._ambiguous.discard(sku)
            self._item_by_sku.pop(sku, None)
        self._remember(matching)
        self._keep(wanted)
        return matching

    async def resolve_skus(self, skus: Sequence[str]) -> dict[str, str]:
        """``{sku: item id}`` for the SKUs exactly one item carries (cached; unknown ones are looked up)."""
        wanted = unique_skus(skus)
        missing = [s for s in wanted if s not in self._item_by_sku or s in self._ambiguous]  # duplicates may be fixed
        if missing:
            await self._items_with_skus(missing, "resolve_skus")
        return {s: self._item_by_sku[s] for s in wanted if s in self._item_by_sku and s not in self._ambiguous}

    async def resolve_item_ids(self, item_ids: Iterable[str]) -> dict[str, str]:
        """``{item id: sku}`` for the ids orders name, fetching unknown items one by one (a deleted item is 404
        and stays unknown)."""
        wanted = list(dict.fromkeys(item_ids))
        missing = [i for i in wanted if i not in self._sku_by_item]

        async def fetch(item_id: str) -> Any:
            status, body = await self._call("GET", self._path(f"/items/{item_id}"), "resolve_item", accept={404})
            return body if status == 200 else None

        fetched = await asyncio.gather(*(fetch(i) for i in missing))
        self._remember(item for item in fetched if item is not None)
        return {i: self._sku_by_item[i] for i in wanted if i in self._sku_by_item}

    def _forget_item(self, item_id: str) -> None:
        sku = self._sku_by_item.pop(item_id, None)
        if sku is not None and self._item_by_sku.get(sku) == item_id:
            del self._item_by_sku[sku]
            self._keep([sku])

    # --- levels -------------------------------------------------------------------------------------------

    async def read_levels(self, skus: Sequence[str]) -> list[StockLevel]:
        """``itemStock.quantity`` (rounded down) of these SKUs at the merchant; SKUs Clover lacks are left out.

        A SKU several items carry is left out with a warning (which item the engine means is unknowable).
        """
        wanted = unique_skus(skus)
        if not wanted:
            return []
        observed_at = self._now()
        items = await self._items_with_skus(wanted, "read_levels")
        levels: list[StockLevel] = []
        for raw in items:
            sku = mapper.item_sku(raw)
            if sku in self._ambiguous:
                self._log.warning("clover.ambiguous_sku", sku=sku, message="several Clover items carry this SKU")
                continue
            result = mapper.map_item_level(raw, self.merchant_id, observed_at)
            self._log_messages("read_levels", result.messages)
            if result.value is not None:
                levels.append(result.value)
        return levels

    async def push_levels(self, targets: Sequence[StockTarget]) -> list[PushResult]:
        """Set each target's stock with ``POST /item_stocks/{itemId}`` ``{"quantity": N}``; one result per target.

        Unknown SKUs are ``UNKNOWN_SKU``; SKUs several items carry, a location other than the merchant and
        negative quantities are ``FAILED``, all without a write. ``shown`` is the quantity Clover answers with,
        rounded down. Writes run concurrently within the connector's slots. A refused write (a permanent 4xx) is
        ``FAILED``; one that failed otherwise (a transient failure that outlasted the retries) is ``UNKNOWN`` when
        another write of the batch landed, and fails the whole batch (``RetriableConnectorError``, after every
        other write has finished) when none did.
        """
        ids = await self.resolve_skus([t.sku for t in targets])

        async def one(target: StockTarget) -> PushResult:
            item_id = ids.get(target.sku)
            if target.sku in self._ambiguous:
                return PushResult(target, PushStatus.FAILED, message="several Clover items carry this SKU")
            if item_id is None:
                return PushResult(target, PushStatus.UNKNOWN_SKU, message="no Clover item has this SKU (sku or code)")
            if target.location_ref != self.merchant_id:
                return PushResult(
                    target,
                    PushStatus.FAILED,
                    message=f"unknown location {target.location_ref!r}: Clover has one, "
                    f"the merchant {self.merchant_id}",
                )
            if target.quantity < 0:
                return PushResult(target, PushStatus.FAILED, message="negative quantity")
            status, body = await self._call(
                "POST",
                self._path(f"/item_stocks/{item_id}"),
                "push_levels",
                body={"quantity": target.quantity},
                accept={400, 404},
            )
            if status == 404:
                self._forget_item(item_id)
                return PushResult(target, PushStatus.UNKNOWN_SKU, message=f"item {item_id} no longer exists on Clover")
            if status == 400:
                return PushResult(target, PushStatus.FAILED, message=mapper.clover_message(body) or "HTTP 400")
            quantity = mapper.stock_quantity(body)
            shown = mapper.sellable_units(quantity) if quantity is not None else None
            return PushResult(target, PushStatus.APPLIED, shown=shown)

        outcomes = await asyncio.gather(*(one(t) for t in targets), return_exceptions=True)
        landed = any(isinstance(o, PushResult) and o.status is PushStatus.APPLIED for o in outcomes)
        results: list[PushResult] = []
        for target, outcome in zip(targets, outcomes, strict=True):
            if isinstance(outcome, PushResult):
                results.append(outcome)
            elif isinstance(outcome, HttpFatalError) or (landed and isinstance(outcome, ConnectorError)):
                results.append(unsettled(target, outcome))
            else:
                raise outcome
        return results

    # --- listings -----------------------------------------------------------------------------------------

    async def push_listings(self, updates: Sequence[ListingUpdate]) -> list[ListingResult]:
        """Set item names and prices with ``POST /items/{itemId}`` (``name``, ``price`` in minor units: cents).

        A price must be in the merchant's ``currency`` and fit its precision (no rounding), else ``FAILED``
        without a write. Writes are absolute, so repeating an update changes nothing more.
        """
        ids = await self.resolve_skus([u.sku for u in updates])

        async def one(update: ListingUpdate) -> ListingResult:
            item_id = ids.get(update.sku)
            if update.sku in self._ambiguous:
                return ListingResult(update, PushStatus.FAILED, "several Clover items carry this SKU")
            if item_id is None:
                return ListingResult(update, PushStatus.UNKNOWN_SKU, "no Clover item has this SKU (sku or code)")
            body: dict[str, Any] = {}
            if update.title is not None:
                body["name"] = update.title
            if update.price is not None:
                if update.currency != self.settings.currency:
                    return ListingResult(
                        update,
                        PushStatus.FAILED,
                        f"price in {update.currency}, but this Clover merchant sells in {self.settings.currency}",
                    )
                try:
                    body["price"] = to_minor_units(update.price, update.currency)
                except ValueError as exc:
                    return ListingResult(update, PushStatus.FAILED, str(exc))
            status, reply = await self._call(
                "POST", self._path(f"/items/{item_id}"), "push_listings", body=body, accept={400, 404}
            )
            if status == 404:
                self._forget_item(item_id)
                return ListingResult(update, PushStatus.UNKNOWN_SKU, f"item {item_id} no longer exists on Clover")
            if status == 400:
                return ListingResult(update, PushStatus.FAILED, mapper.clover_message(reply) or "HTTP 400")
            return ListingResult(update, PushStatus.APPLIED)

        outcomes = await asyncio.gather(*(one(u) for u in updates), return_exceptions=True)
        results: list[ListingResult] = []
        for update, outcome in zip(updates, outcomes, strict=True):
            if isinstance(outcome, ListingResult):
                results.append(outcome)
            elif isinstance(outcome, HttpFatalError):
                results.append(ListingResult(update, PushStatus.FAILED, str(outcome)))
            elif isinstance(outcome, BaseException):
                raise outcome
        return results

    # --- events -------------------------------------------------------------------------------------------

    async def pull_events(self, bookmark: str | None) -> PullResult:
        """Paid orders (and their refunded lines) modified since ``bookmark``.

        ``GET /orders?filter=modifiedTime>=<ms>&expand=lineItems``, paged by ``offset``/``limit``, starting
        ``poll_overlap_seconds`` before the mark (``None``: ``order_lookback_minutes`` ago). Unpaid orders are
        not reported (Clover takes stock when an order is paid). The new mark is the latest ``modifiedTime``
        seen, or the poll's start minus the overlap if later; it never moves backwards. No stock changes are
        polled: Clover keeps no change history (see the class doc).
        """
        polled_at = self._now()
        overlap = timedelta(seconds=self.settings.poll_overlap_seconds)
        mark = self._decode_bookmark(bookmark)
        start = (
            (polled_at - timedelta(minutes=self.settings.order_lookback_minutes)) if mark is None else mark - overlap
        )
        params = {"filter": f"modifiedTime>={mapper.datetime_to_ms(start)}", "expand": "lineItems"}
        orders = await self._paged(self._path("/orders"), "pull_orders", params, self.orders_page_size)
        new_mark = max(mark or start, polled_at - overlap)
        for raw in orders:
            modified = mapper.ms_to_datetime(raw.get("modifiedTime")) if isinstance(raw, dict) else None
            if modified is not None:
                new_mark = max(new_mark, modified)
        events, messages = await self._map_orders(orders)
        return PullResult(events, self._encode_bookmark(new_mark), messages)

    async def _orders_since(self, since_ms: int) -> list[Any]:
        """Orders (with line items) modified at or after ``since_ms``, every page."""
        params = {"filter": f"modifiedTime>={since_ms}", "expand": "lineItems"}
        return await self._paged(self._path("/orders"), "webhook_orders", params, self.orders_page_size)

    async def _order(self, order_id: str) -> Any | None:
        """One order with its line items (None: Clover has none with this id)."""
        status, body = await self._call(
            "GET", self._path(f"/orders/{order_id}"), "webhook_order", params={"expand": "lineItems"}, accept={404}
        )
        return None if status == 404 else body

    async def _map_orders(self, orders: Sequence[Any]) -> tuple[list[ChannelEvent], list[MapMessage]]:
        completed = [o for o in orders if mapper.is_completed(o)]
        sku_by_item = await self.resolve_item_ids(i for o in completed for i in mapper.order_item_ids(o))
        events: list[ChannelEvent] = []
        messages: list[MapMessage] = []
        for raw in completed:
            result = mapper.map_order(raw, self.merchant_id, sku_by_item, restock_refunds=self.settings.refund_restocks)
            messages.extend(result.messages)
            if result.value is not None:
                order, refunds = result.value
                events.append(order)
                events.extend(refunds)
        return events, messages

    def _decode_bookmark(self, bookmark: str | None) -> datetime | None:
        if bookmark is None:
            return None
        try:
            data = json.loads(bookmark)
            mark = mapper.ms_to_datetime(data["orders_ms"])
        except (ValueError, KeyError, TypeError):
            mark = None
        if mark is None:
            raise FatalConnectorError(
                f"unreadable bookmark {bookmark!r} (expected JSON with orders_ms)",
                connector=CONNECTOR_ID,
                op="pull_events",
            )
        return mark

    @staticmethod
    def _encode_bookmark(mark: datetime) -> str:
        return json.dumps({"v": _BOOKMARK_VERSION, "orders_ms": mapper.datetime_to_ms(mark)}, sort_keys=True)

    # --- webhooks -----------------------------------------------------------------------------------------

    def verify_webhook(self, raw_body: bytes, headers: Mapping[str, str], url: str) -> WebhookDelivery:
        """Compare ``X-Clover-Auth`` with ``webhook_auth_code`` in constant time; pure. See
        :func:`connectors.clover.webhooks.verify_delivery` (the verification POST raises
        :class:`~connectors.clover.webhooks.CloverVerificationRequest`, naming the code). ``url`` is unused."""
        return verify_delivery(raw_body, headers, auth_code=self.settings.webhook_auth_code, received_at=self._now())

    async def webhook_events(self, delivery: WebhookDelivery) -> list[ChannelEvent]:
        """Fetch what a verified delivery names and return its events.

        ``O:`` (CREATE/UPDATE) → the order with its line items (``GET /orders/{id}?expand=lineItems``) → the
        events :meth:`pull_events` would give for it (nothing for an unpaid order). ``I:``/``IS:`` → the item with
        its stock → a :class:`StockObservedEvent`. DELETEs, other prefixes and other merchants carry nothing. An
        order that cannot be mapped raises :class:`SkippableRecordError` when the delivery yields nothing else.
        """
        seen: set[tuple[str, str]] = set()
        orders: list[Any] = []
        events: list[ChannelEvent] = []
        problems: list[str] = []
        wanted = []
        for note in notifications(parse_payload(delivery.raw_body)):
            key = (note.prefix, note.object_id)
            if note.merchant_id != self.merchant_id or note.type == "DELETE" or key in seen:
                continue
            seen.add(key)
            wanted.append(note)
        order_notes = [note for note in wanted if note.prefix == ORDER_PREFIX]
        read = await asyncio.gather(*(self._orders.get(note.object_id, note.ts or 0) for note in order_notes))
        for note, order in zip(order_notes, read, strict=True):
            if order is None:
                problems.append(f"order {note.object_id} not found on Clover")
            else:
                orders.append(order)
        # A sale's message names its order and the items it took: the order says what happened to them, so
        # those items are not read again (one request a sale, not two, of Clover's 16 a second).
        sold = {item for order in orders if mapper.is_completed(order) for item in mapper.order_item_ids(order)}
        for note in wanted:
            if note.prefix in INVENTORY_PREFIXES and note.object_id not in sold:
                status, body = await self._call(
                    "GET",
                    self._path(f"/items/{note.object_id}"),
                    "webhook_item",
                    params={"expand": "itemStock"},
                    accept={404},
                )
                if status == 404:
                    self._forget_item(note.object_id)
                    continue
                self._remember([body])
                observed_at = mapper.ms_to_datetime(note.ts) or delivery.received_at
                result = mapper.map_observed_item(body, self.merchant_id, observed_at)
                self._log_messages("webhook_events", result.messages)
                if result.value is not None:
                    events.append(result.value)
        order_events, messages = await self._map_orders(orders)
        self._log_messages("webhook_events", messages)
        problems.extend(m.message for m in messages if m.level == "error")
        events.extend(order_events)
        if problems and not events:
            raise SkippableRecordError(
                "; ".join(problems), connector=CONNECTOR_ID, op="webhook_events", record_id=delivery.delivery_id
            )
        return events
