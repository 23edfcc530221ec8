"""Shopify Admin GraphQL I/O: the :class:`~omnibridge.sdk.channel.ChannelConnector` of a Shopify shop.

Transport concerns (auth header, cost bucket, retries, THROTTLED) live in the shared ConnectorHttpClient; this
module builds the requests, pages through connections and runs the inventory compare-and-set protocol. Mapping
is in :mod:`connectors.shopify.mapper` and :mod:`connectors.shopify.webhooks`.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from connectors.shopify import order_webhook, queries, webhooks
from connectors.shopify.mapper import map_inventory_item, map_location, map_order, needs_full_order, parse_time
from connectors.shopify.pickup import PICKUP_STATES
from connectors.shopify.settings import ShopifySettings
from omnibridge.sdk import (
    Clock,
    ConnectorError,
    ConnectorHttpClient,
    CostBucket,
    FatalConnectorError,
    MapMessage,
    MapResult,
    RequestOptions,
    RetryPolicy,
    SkippableRecordError,
    Sleeper,
    WebhookDelivery,
    get_logger,
    shopify_graphql_throttle_status,
)
from omnibridge.sdk.channel import (
    ChannelEvent,
    ChannelLocation,
    PullResult,
    PushResult,
    PushStatus,
    StockLevel,
    StockObservedEvent,
    StockTarget,
    unique_skus,
    unsettled,
)
from omnibridge.sdk.fulfilment import AssignmentResult, ConfirmationResult, LineAssignment, ShipmentConfirmation
from omnibridge.sdk.idempotency import derived_key, shared_reference
from omnibridge.sdk.listings import ListingResult, ListingUpdate
from omnibridge.sdk.memory import ChannelMemory, InMemoryChannelMemory
from omnibridge.sdk.pickup import PickupState, PickupUpdate, PickupUpdateResult
from omnibridge.sdk.privacy import ConsentUpdate, PrivacyResult
from omnibridge.sdk.returns import ReturnRequest, ReturnResult

__all__ = ["CONNECTOR_ID", "ShopifyClient", "is_throttled"]

T = TypeVar("T")

CONNECTOR_ID = "shopify"
INVENTORY_ITEM_IDS = "inventory_item_id"  # memory kind: SKU -> InventoryItem gid
_STALE_CODES = frozenset({"COMPARE_QUANTITY_STALE", "CHANGE_FROM_QUANTITY_STALE"})
_UNKNOWN_CODES = frozenset({"INVALID_INVENTORY_ITEM", "ITEM_NOT_STOCKED_AT_LOCATION"})
_RESEND_CODES = frozenset({"IDEMPOTENCY_CONCURRENT_REQUEST"})
_ORDER_GID = "gid://shopify/Order/"
WEBHOOK_FETCH_SPARE = 300.0
"""Points an order fetch for a notification leaves in the cost bucket for stock reads and writes."""
READ_MAX_COST = 150
"""Points one levels read may request: half the spare order fetches leave, so a read never waits for a bucket that
order fetches keep at their spare (a read holds the bucket's queue while it waits, and the writes behind it)."""


def is_throttled(response: httpx.Response) -> bool:
    """True for Shopify's HTTP-200 ``{"errors":[{"extensions":{"code":"THROTTLED"}}]}``."""
    if response.status_code != 200 or "json" not in response.headers.get("content-type", ""):
        return False
    try:
        errors = json.loads(response.content).get("errors")
    except (ValueError, AttributeError):
        return False
    return isinstance(errors, list) and any(_error_code(error) == "THROTTLED" for error in errors)


def _error_code(error: object) -> str | None:
    if isinstance(error, Mapping):
        extensions = error.get("extensions")
        if isinstance(extensions, Mapping) and isinstance(extensions.get("code"), str):
            return str(extensions["code"])
    return None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(slots=True)
class _Entry:
    """One target on its way to Shopify: its position in the caller's list and the compare value to send."""

    index: int
    target: StockTarget
    item_id: str
    compare: int


class ShopifyClient:
    """A live connection to one shop (implements :class:`~omnibridge.sdk.channel.ChannelConnector`).

    Location refs are Shopify location gids; SKUs are inventory item SKUs. The sku ↔ inventory item gid cache
    is filled by :meth:`read_levels` and used by pushes and webhooks. ``transport``, ``retry_policy``,
    ``clock``/``sleep`` (monotonic, for the cost bucket and retries), ``now`` (wall time, aware) and ``new_key``
    (idempotency keys and reference ids) are injectable for tests. ``max_push_attempts`` bounds the calls one
    chunk of a push may take (stale re-reads included) before its targets are reported STALE.
    """

    def __init__(
        self,
        settings: ShopifySettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_policy: RetryPolicy | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleeper = asyncio.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        new_key: Callable[[], str] = lambda: str(uuid.uuid4()),
        max_push_attempts: int = 4,
    ) -> None:
        self.settings = settings
        self.endpoint = f"/admin/api/{settings.api_version}/graphql.json"
        self.bucket = CostBucket(1000, 50, observers=(shopify_graphql_throttle_status,), clock=clock, sleep=sleep)
        self.http = ConnectorHttpClient(
            CONNECTOR_ID,
            str(settings.shop_url).rstrip("/"),
            auth_headers={"X-Shopify-Access-Token": settings.access_token},
            rate_limiter=self.bucket,
            retry_policy=retry_policy,
            transport=transport,
            timeout=settings.timeout_seconds,
            is_throttled=is_throttled,
            clock=clock,
            sleep=sleep,
        )
        self._now = now
        self._new_key = new_key
        self._max_push_attempts = max(1, max_push_attempts)
        self._levels_page = queries.LEVELS_PER_ITEM
        self._background = asyncio.Semaphore(1)
        """One background order fetch at a time: a backlog of fetches that all saw the bucket's spare at once would
        all queue for the bucket ahead of the stock writes and spend it."""
        """Levels asked per item by a read: the shop's location count once :meth:`list_locations` has counted them."""
        self._item_by_sku: dict[str, str] = {}
        self._sku_by_item: dict[str, str] = {}
        self._served_version: str | None = None
        self._memory: ChannelMemory = InMemoryChannelMemory()

    async def aclose(self) -> None:
        """Release connections."""
        await self.http.aclose()

    # -- transport -------------------------------------------------------------------------------------------

    async def graphql(
        self,
        op: str,
        query: str,
        variables: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        idempotent: bool | None = None,
    ) -> dict[str, Any]:
        """POST one document; return its ``data``. Top-level ``errors`` raise :class:`FatalConnectorError`.

        The requested cost is estimated from the document so the bucket waits before a query it cannot pay;
        THROTTLED answers are retried by the HTTP client. A mutation is retried after a transport error or 5xx
        only when ``idempotency_key`` says the document carries ``@idempotent`` with that key, or when the caller
        says it is naturally ``idempotent``.
        """
        cost = queries.estimate_cost(query, variables)
        options: RequestOptions = {
            "op": op,
            "json": {"query": query, "variables": dict(variables)},
            "cost": float(cost),
            "idempotent": idempotent if idempotent is not None else not query.lstrip().startswith("mutation"),
        }
        if idempotency_key:
            options["idempotency_key"] = idempotency_key
        response = await self.http.post(self.endpoint, **options)
        self._check_served_version(response.headers.get("x-shopify-api-version"))
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise FatalConnectorError("response is not a JSON object", connector=CONNECTOR_ID, op=op)
        errors = body.get("errors")
        if errors:
            first = errors[0] if isinstance(errors, list) and errors else errors
            message = first.get("message") if isinstance(first, Mapping) else str(first)
            code = _error_code(first)
            raise FatalConnectorError(
                f"Shopify GraphQL error{f' {code}' if code else ''}: {message}", connector=CONNECTOR_ID, op=op
            )
        data = body.get("data")
        if not isinstance(data, dict):
            raise FatalConnectorError("response has no 'data' object", connector=CONNECTOR_ID, op=op)
        return data

    def _check_served_version(self, served: str | None) -> None:
        # Shopify serves a retired or unknown version as its oldest supported one and names the version that
        # answered in X-Shopify-API-Version: warn once, since our documents were written for the configured one.
        if not served or served == self.settings.api_version or served == self._served_version:
            return
        self._served_version = served
        get_logger("connectors.shopify").warning(
            "shopify.api_version_served",
            configured=self.settings.api_version,
            served=served,
            hint=f"Shopify answers with API version {served}; set api_version in the Shopify profile to a "
            "supported version",
        )

    # -- locations and levels ------------------------------------------------------------------------------

    async def list_locations(self) -> list[ChannelLocation]:
        """Every location of the shop (``locations(first:250, after)``), keyed by gid."""
        found: list[ChannelLocation] = []
        after: str | None = None
        while True:
            data = await self.graphql("list_locations", queries.LOCATIONS_QUERY, {"first": 250, "after": after})
            connection = data.get("locations") or {}
            for node in connection.get("nodes") or []:
                result = map_location(node)
                if result.value is not None:
                    found.append(result.value)
            after = self._next_cursor(connection)
            if after is None:
                # an item has at most one level per location: a read asks no more (the cost is paid up front)
                self._levels_page = max(1, min(queries.LEVELS_PER_ITEM, len(found)))
                return found

    async def read_levels(self, skus: Sequence[str]) -> list[StockLevel]:
        """``available`` at every location for these SKUs (unknown SKUs are left out); fills the item cache.

        SKUs are searched in chunks (``sku:'A' OR sku:'B'``) small enough to keep each query under the cost cap;
        only exact SKU matches count, since Shopify's search also matches prefixes. Each item's levels are asked
        for as many as the shop has locations (once :meth:`list_locations` has counted them; at most
        :data:`~connectors.shopify.queries.LEVELS_PER_ITEM`, more are paged): Shopify takes a query's requested
        cost up front, and a 4-location shop's read of 30 SKUs requests 452 points instead of 992. A query asks
        for at most :data:`READ_MAX_COST` points (more queries, none waiting behind the order fetches' spare).
        """
        wanted = unique_skus(skus)
        levels: list[StockLevel] = []
        size = queries.inventory_items_page_size(self._levels_page, READ_MAX_COST)
        for start in range(0, len(wanted), size):
            chunk = wanted[start : start + size]
            chunk_set = set(chunk)
            after: str | None = None
            while True:
                variables = {
                    # Asking for as many items as SKUs keeps the requested cost (paid up front) proportional;
                    # prefix matches that crowd out an exact one are picked up on the next page.
                    "first": len(chunk),
                    "after": after,
                    "query": queries.sku_search_query(chunk),
                    "levels": self._levels_page,
                    "levelsAfter": None,
                }
                data = await self.graphql("read_levels", queries.INVENTORY_ITEMS_QUERY, variables)
                connection = data.get("inventoryItems") or {}
                for node in connection.get("nodes") or []:
                    levels.extend(await self._item_levels(node, chunk_set))
                after = self._next_cursor(connection)
                if after is None:
                    break
        return levels

    async def _item_levels(self, node: Mapping[str, Any], wanted: set[str]) -> list[StockLevel]:
        result = map_inventory_item(node, self._now())
        item = result.value
        if item is None or item.sku not in wanted:
            return []
        self._remember(item.sku, item.item_id)
        levels = list(item.levels)
        cursor = item.levels_cursor
        while cursor is not None:
            data = await self.graphql(
                "read_levels",
                queries.INVENTORY_ITEM_QUERY,
                {"id": item.item_id, "levels": queries.LEVELS_PER_ITEM, "levelsAfter": cursor},
            )
            more = map_inventory_item(data.get("inventoryItem") or {}, self._now()).value
            if more is None:
                break
            levels.extend(more.levels)
            cursor = more.levels_cursor
        return levels

    def attach_memory(self, memory: ChannelMemory) -> None:
        """Keep inventory item ids per SKU in ``memory`` (see :mod:`omnibridge.sdk.memory`) and load those it
        holds: after a restart, writes to SKUs resolved before need no catalogue read."""
        self._memory = memory
        for sku, item_id in memory.load(INVENTORY_ITEM_IDS).items():
            self._item_by_sku.setdefault(sku, item_id)
            self._sku_by_item.setdefault(item_id, sku)

    def _remember(self, sku: str, item_id: str) -> None:
        if self._item_by_sku.get(sku) != item_id:
            self._memory.remember(INVENTORY_ITEM_IDS, {sku: item_id})
        self._item_by_sku[sku] = item_id
        self._sku_by_item[item_id] = sku

    def _forget(self, sku: str) -> None:
        item_id = self._item_by_sku.pop(sku, None)
        if item_id is not None:
            self._sku_by_item.pop(item_id, None)
            self._memory.forget(INVENTORY_ITEM_IDS, [sku])

    @staticmethod
    def _next_cursor(connection: Mapping[str, Any]) -> str | None:
        info = connection.get("pageInfo") or {}
        if info.get("hasNextPage") is True and isinstance(info.get("endCursor"), str):
            return str(info["endCursor"])
        return None

    # -- pushes ------------------------------------------------------------------------------------------------

    async def push_levels(self, targets: Sequence[StockTarget]) -> list[PushResult]:
        """Set ``available`` by compare-and-set; one :class:`PushResult` per target, in order.

        SKUs Shopify lacks (or not stocked at the location) are UNKNOWN_SKU; a target without ``expected`` is
        compared against a fresh read (UNCHANGED when already right). Writes go in chunks of 250 through
        ``inventorySetQuantities``; see :meth:`_push_chunk` for stale compares and per-item errors. A call that
        fails once part of the batch has landed does not raise: what landed is APPLIED, the rest of the failed
        chunk and the chunks not sent yet get :func:`~omnibridge.sdk.channel.unsettled` results.
        """
        results: list[PushResult | None] = [None] * len(targets)
        missing = [t.sku for t in targets if t.sku not in self._item_by_sku]
        needs_read = [t.sku for t in targets if t.expected is None]
        fresh = self._by_key(await self.read_levels(unique_skus(missing + needs_read))) if missing or needs_read else {}
        last_for_key: dict[tuple[str, str], int] = {}
        for index, target in enumerate(targets):
            last_for_key[(target.sku, target.location_ref)] = index
        entries: list[_Entry] = []
        for index, target in enumerate(targets):
            item_id = self._item_by_sku.get(target.sku)
            if item_id is None:
                results[index] = PushResult(target, PushStatus.UNKNOWN_SKU, message="no Shopify item has this SKU")
                continue
            if last_for_key[(target.sku, target.location_ref)] != index:
                results[index] = PushResult(
                    target,
                    PushStatus.FAILED,
                    message="superseded by a later target for the same SKU and location in this batch",
                )
                continue
            compare = target.expected
            if compare is None:
                current = fresh.get((target.sku, target.location_ref))
                if current is None:
                    results[index] = PushResult(
                        target, PushStatus.UNKNOWN_SKU, message="the item is not stocked at this location"
                    )
                    continue
                if current == target.quantity:
                    results[index] = PushResult(target, PushStatus.UNCHANGED, shown=current)
                    continue
                compare = current
            entries.append(_Entry(index, target, item_id, compare))
        done: list[tuple[int, PushResult]] = []
        for start in range(0, len(entries), queries.SET_QUANTITIES_BATCH):
            chunk = entries[start : start + queries.SET_QUANTITIES_BATCH]
            try:
                await self._push_chunk(chunk, done)
            except ConnectorError as exc:
                if not any(result.status is PushStatus.APPLIED for _, result in done):
                    raise
                finished = {index for index, _ in done}
                sent = {entry.index for entry in chunk}
                done += [
                    (entry.index, unsettled(entry.target, exc, sent=entry.index in sent))
                    for entry in entries[start:]
                    if entry.index not in finished
                ]
                break
        for result_index, result in done:
            results[result_index] = result
        return [
            r if r is not None else PushResult(t, PushStatus.FAILED, message="no outcome")
            for r, t in zip(results, targets, strict=True)
        ]

    @staticmethod
    def _by_key(levels: Sequence[StockLevel]) -> dict[tuple[str, str], int]:
        return {(level.sku, level.location_ref): level.available for level in levels}

    def _reference_uri(self, entries: Sequence[_Entry]) -> str:
        references = {entry.target.reference for entry in entries}
        reference = references.pop() if len(references) == 1 and "" not in references else self._new_key()
        return f"gid://omnibridge/SyncPush/{quote(reference, safe='-_.~')}"

    def _key_for(self, entries: Sequence[_Entry], variables: Mapping[str, Any]) -> str:
        """The ``@idempotent`` key: derived from the engine's batch reference and the exact input when the
        entries share one (so the same write sent again is recognised), else fresh."""
        reference = shared_reference(entry.target.reference for entry in entries)
        return derived_key(reference, variables) if reference else self._new_key()

    def _quantities(self, entries: Sequence[_Entry]) -> list[dict[str, Any]]:
        version = self.settings.api_version
        rows: list[dict[str, Any]] = []
        for entry in entries:
            row: dict[str, Any] = {
                "inventoryItemId": entry.item_id,
                "locationId": entry.target.location_ref,
                "quantity": entry.target.quantity,
            }
            if version < "2026-04":
                row["compareQuantity"] = entry.compare  # required before 2026-04 unless ignoreCompareQuantity
            if queries.supports_change_from(version):
                row["changeFromQuantity"] = entry.compare
            rows.append(row)
        return rows

    async def _push_chunk(self, entries: list[_Entry], done: list[tuple[int, PushResult]]) -> None:
        """Send ≤250 entries until each has an outcome, appended to ``done`` as it is known (so a call that raises
        halfway leaves the outcomes already known there).

        Shopify rejects the whole call on any userError, so after one: entries named by a per-item error
        (``field: ["input","quantities","<i>",…]``) get their outcome, stale ones are re-read (UNCHANGED if
        already right, else retried with the fresh compare value) — or reported STALE at once when their target
        says ``retry_stale=False`` — and the rest are re-sent as they were. Each
        distinct batch gets its own ``@idempotent`` key (derived from the batch reference and content, see
        :mod:`omnibridge.sdk.idempotency`); the HTTP client re-sends one batch with its own key.
        """
        pending = list(entries)
        stale: set[int] = set()
        attempts = 0
        reference = self._reference_uri(pending)
        while pending and attempts < self._max_push_attempts:
            attempts += 1
            variables = {
                "input": {
                    "name": "available",
                    "reason": self.settings.reason,
                    "referenceDocumentUri": reference,
                    "quantities": self._quantities(pending),
                }
            }
            key = self._key_for(pending, variables) if queries.supports_change_from(self.settings.api_version) else None
            document = queries.set_quantities_mutation(self.settings.api_version, key)
            data = await self.graphql("push_levels", document, variables, idempotency_key=key)
            payload = data.get("inventorySetQuantities") or {}
            applied = self._applied_changes(payload)
            errors = [e for e in payload.get("userErrors") or [] if isinstance(e, Mapping)]
            if not errors:
                for entry in pending:
                    shown = applied.get((entry.item_id, entry.target.location_ref), entry.target.quantity)
                    done.append((entry.index, PushResult(entry.target, PushStatus.APPLIED, shown=shown)))
                return
            pending, stale = await self._after_errors(pending, errors, applied, done)
        reason = "the quantity kept changing on Shopify" if stale else "not applied after repeated batch errors"
        for entry in pending:
            status = PushStatus.STALE if entry.index in stale else PushStatus.FAILED
            done.append((entry.index, PushResult(entry.target, status, message=reason)))

    @staticmethod
    def _applied_changes(payload: Mapping[str, Any]) -> dict[tuple[str, str], int]:
        group = payload.get("inventoryAdjustmentGroup")
        changes = group.get("changes") if isinstance(group, Mapping) else None
        applied: dict[tuple[str, str], int] = {}
        for change in changes if isinstance(changes, list) else []:
            item, location = change.get("item") or {}, change.get("location") or {}
            if change.get("name") == "available" and isinstance(change.get("quantityAfterChange"), int):
                applied[(str(item.get("id")), str(location.get("id")))] = int(change["quantityAfterChange"])
        return applied

    async def _after_errors(
        self,
        pending: list[_Entry],
        errors: list[Mapping[str, Any]],
        applied: Mapping[tuple[str, str], int],
        done: list[tuple[int, PushResult]],
    ) -> tuple[list[_Entry], set[int]]:
        by_position: dict[int, Mapping[str, Any]] = {}
        batch_errors: list[Mapping[str, Any]] = []
        for error in errors:
            field = error.get("field")
            position = field[2] if isinstance(field, list) and len(field) > 2 and field[1] == "quantities" else None
            if isinstance(position, str) and position.isdigit() and int(position) < len(pending):
                by_position[int(position)] = error
            else:
                batch_errors.append(error)
        stale_all = any(str(e.get("code")) in _STALE_CODES for e in batch_errors)
        fatal = [e for e in batch_errors if str(e.get("code")) not in _STALE_CODES | _RESEND_CODES]
        if fatal:
            message = "; ".join(f"{e.get('code')}: {e.get('message')}" for e in fatal)
            for entry in pending:
                done.append((entry.index, PushResult(entry.target, PushStatus.FAILED, message=message)))
            return [], set()
        keep: list[_Entry] = []
        stale_entries: list[_Entry] = []
        for position, entry in enumerate(pending):
            shown = applied.get((entry.item_id, entry.target.location_ref))
            item_error = by_position.get(position)
            code = str(item_error.get("code")) if item_error is not None else ""
            detail = f"{code}: {item_error.get('message')}" if item_error is not None else ""
            if shown is not None and item_error is None:
                done.append((entry.index, PushResult(entry.target, PushStatus.APPLIED, shown=shown)))
            elif code in _UNKNOWN_CODES:
                if code == "INVALID_INVENTORY_ITEM":
                    self._forget(entry.target.sku)
                done.append((entry.index, PushResult(entry.target, PushStatus.UNKNOWN_SKU, message=detail)))
            elif item_error is not None and code not in _STALE_CODES:
                done.append((entry.index, PushResult(entry.target, PushStatus.FAILED, message=detail)))
            elif (code in _STALE_CODES or stale_all) and not entry.target.retry_stale:
                message = "the level moved since the compare value; the caller re-reads"
                done.append((entry.index, PushResult(entry.target, PushStatus.STALE, message=message)))
            elif code in _STALE_CODES or stale_all:
                stale_entries.append(entry)
            else:
                keep.append(entry)
        if stale_entries:
            fresh = self._by_key(await self.read_levels([e.target.sku for e in stale_entries]))
            for entry in stale_entries:
                current = fresh.get((entry.target.sku, entry.target.location_ref))
                if current is None:
                    done.append(
                        (
                            entry.index,
                            PushResult(
                                entry.target,
                                PushStatus.UNKNOWN_SKU,
                                message="the item is no longer stocked at this location",
                            ),
                        )
                    )
                elif current == entry.target.quantity:
                    done.append((entry.index, PushResult(entry.target, PushStatus.UNCHANGED, shown=current)))
                else:
                    entry.compare = current
                    keep.append(entry)
        keep.sort(key=lambda e: e.index)
        return keep, {e.index for e in stale_entries}

    # -- orders --------------------------------------------------------------------------------------------------

    async def pull_events(self, bookmark: str | None) -> PullResult:
        """Orders updated at or after ``bookmark`` minus ``poll_overlap_seconds`` (first call: the last
        ``order_lookback_minutes``), oldest update first, as order, fulfilment and refund events.

        The new bookmark is the latest ``updatedAt`` seen (ISO 8601), never earlier than ``bookmark``. Orders
        whose lean page lacks refund lines or lines are re-read whole with ``order(id:)``.
        """
        previous = parse_time(bookmark) if bookmark else None
        if bookmark and previous is None:
            raise FatalConnectorError(
                f"bookmark {bookmark!r} is not an ISO 8601 time", connector=CONNECTOR_ID, op="pull_events"
            )
        if previous is not None:
            since = previous - timedelta(seconds=self.settings.poll_overlap_seconds)
        else:
            since = self._now() - timedelta(minutes=self.settings.order_lookback_minutes)
        latest = previous
        events: list[ChannelEvent] = []
        messages: list[MapMessage] = []
        after: str | None = None
        search = f"updated_at:>='{_iso(since)}'"
        while True:
            variables = {"first": queries.ORDERS_PAGE_SIZE, "after": after, "query": search}
            data = await self.graphql("pull_events", queries.ORDERS_QUERY, variables)
            connection = data.get("orders") or {}
            for node in connection.get("nodes") or []:
                updated = parse_time(node.get("updatedAt"))
                if updated is not None and (latest is None or updated > latest):
                    latest = updated
                full = await self._fetch_order(str(node.get("id")), "pull_events") if needs_full_order(node) else None
                result = map_order(full if full is not None else node)
                messages.extend(result.messages)
                events.extend(result.value or [])
                if node.get("returnStatus") not in (None, "NO_RETURN"):
                    from connectors.shopify.returns_read import order_return_events

                    when = updated or self._now()
                    events.extend(await order_return_events(self, str(node.get("id")), "pull_events", when, messages))
            after = self._next_cursor(connection)
            if after is None:
                break
        new_bookmark = _iso(latest) if latest is not None else _iso(since)
        return PullResult(events, new_bookmark, messages)

    async def _fetch_order(
        self, order_id: str, op: str, document: str = queries.ORDER_QUERY
    ) -> Mapping[str, Any] | None:
        data = await self.graphql(op, document, {"id": order_id})
        order = data.get("order")
        return order if isinstance(order, Mapping) else None

    # -- cancellation --------------------------------------------------------------------------------------------

    async def cancel_order(self, order_ref: str, reason: str) -> None:
        """Cancel order ``order_ref`` (its gid, the ``ref`` of its events) with ``orderCancel`` (implements
        :class:`~omnibridge.sdk.channel.OrderCanceller`).

        Sent with reason ``INVENTORY``, ``restock: true`` (committed units go back to ``available`` at their
        location), ``reason`` as the staff note (first 255 characters), no refund and no customer email (see
        :func:`~connectors.shopify.queries.order_cancel_variables`). Shopify cancels in a background job, then sends
        ``orders/cancelled``. An order already cancelled returns normally; any other refusal raises
        :class:`FatalConnectorError` naming Shopify's code and message. Re-sending is harmless (a second cancel is
        that same "already cancelled" answer), so the HTTP client may retry it after a transport error or 5xx.
        """
        op = "cancel_order"
        if not order_ref.startswith(_ORDER_GID) or not order_ref[len(_ORDER_GID) :].isdigit():
            raise FatalConnectorError(
                f"{order_ref!r} is not a Shopify order id: expected {_ORDER_GID}<number>", connector=CONNECTOR_ID, op=op
            )
        version = self.settings.api_version
        data = await self.graphql(
            op,
            queries.order_cancel_mutation(version),
            queries.order_cancel_variables(version, order_ref, reason),
            idempotent=True,
        )
        payload = data.get("orderCancel")
        if not isinstance(payload, Mapping):
            raise FatalConnectorError(f"no orderCancel result for order {order_ref}", connector=CONNECTOR_ID, op=op)
        errors = [e for e in payload.get("orderCancelUserErrors") or [] if isinstance(e, Mapping)]
        if not errors:
            return
        detail = "; ".join(f"{e.get('code') or 'ERROR'}: {e.get('message')}" for e in errors)
        if any(e.get("code") == "NOT_FOUND" for e in errors):
            raise FatalConnectorError(f"Shopify has no order {order_ref} ({detail})", connector=CONNECTOR_ID, op=op)
        # Shopify refuses to cancel a cancelled order with a user error whose wording is not documented: the
        # order's own cancelledAt tells whether that is what happened.
        order = await self._fetch_order(order_ref, op, queries.ORDER_CANCELLED_QUERY)
        if order is not None and order.get("cancelledAt"):
            return
        raise FatalConnectorError(
            f"Shopify refused to cancel order {order_ref}: {detail}", connector=CONNECTOR_ID, op=op
        )

    # -- listings ------------------------------------------------------------------------------------------------

    async def push_listings(self, updates: Sequence[ListingUpdate]) -> list[ListingResult]:
        """Set product titles and variant prices (implements :class:`~omnibridge.sdk.listings.ListingWriter`);
        see :mod:`connectors.shopify.listings`."""
        from connectors.shopify.listings import push_listings

        return await push_listings(self, updates)

    # -- fulfilment ----------------------------------------------------------------------------------------------

    async def assign_lines(
        self, order_ref: str, assignments: Sequence[LineAssignment], *, exclude_refs: Sequence[str] = ()
    ) -> AssignmentResult:
        """Move the order's fulfillment orders where omnibridge routed its lines (implements
        :class:`~omnibridge.sdk.fulfilment.LineAssigner`); see :mod:`connectors.shopify.fulfilment_assign`."""
        from connectors.shopify.fulfilment_assign import assign_lines

        return await assign_lines(self, order_ref, assignments, exclude_refs=exclude_refs)

    async def confirm_shipment(self, confirmation: ShipmentConfirmation) -> ConfirmationResult:
        """``fulfillmentCreate`` per location with tracking (implements
        :class:`~omnibridge.sdk.fulfilment.ShipmentConfirmer`); see :mod:`connectors.shopify.fulfilment_confirm`."""
        from connectors.shopify.fulfilment_confirm import confirm_shipment

        return await confirm_shipment(self, confirmation)

    # -- pickup and returns --------------------------------------------------------------------------------

    pickup_states: frozenset[PickupState] = PICKUP_STATES
    """What Shopify can show of a pickup (:class:`~omnibridge.sdk.pickup.PickupStatusWriter`): no windows."""

    async def update_pickup(self, update: PickupUpdate) -> PickupUpdateResult:
        """Prepared for pickup, collected or cancelled (implements
        :class:`~omnibridge.sdk.pickup.PickupStatusWriter`); see :mod:`connectors.shopify.pickup`."""
        from connectors.shopify.pickup import update_pickup

        return await update_pickup(self, update)

    async def write_return(self, request: ReturnRequest) -> ReturnResult:
        """Request, create, approve or process a return (implements :class:`~omnibridge.sdk.returns.ReturnWriter`);
        see :mod:`connectors.shopify.returns_write`."""
        from connectors.shopify.returns_write import write_return

        return await write_return(self, request)

    # -- customers: consent and erasure --------------------------------------------------------------------

    consent_purposes = frozenset({"email_marketing", "sms_marketing"})
    """Purposes Shopify holds consent for (:class:`~omnibridge.sdk.privacy.ConsentWriter`)."""

    async def write_consent(self, update: ConsentUpdate) -> PrivacyResult:
        """Marketing consent mutations (implements :class:`~omnibridge.sdk.privacy.ConsentWriter`); see
        :mod:`connectors.shopify.customers`."""
        from connectors.shopify.customers import write_consent

        return await write_consent(self, update)

    async def erase_customer(self, customer_ref: str) -> PrivacyResult:
        """``customerRequestDataErasure`` (implements :class:`~omnibridge.sdk.privacy.CustomerEraser`)."""
        from connectors.shopify.customers import erase_customer

        return await erase_customer(self, customer_ref)

    # -- webhooks ------------------------------------------------------------------------------------------------

    def verify_webhook(self, raw_body: bytes, headers: Mapping[str, str], url: str) -> WebhookDelivery:
        """Check ``X-Shopify-Hmac-Sha256`` against ``api_secret`` and identify the delivery (no I/O).

        ``url`` is not part of Shopify's signature. Raises :class:`~omnibridge.errors.WebhookError`.
        """
        return webhooks.verify(raw_body, headers, self.settings.api_secret, received_at=self._now())

    async def webhook_events(self, delivery: WebhookDelivery) -> list[ChannelEvent]:
        """Events of a verified delivery: orders/create|updated (the order re-read by GraphQL for its assigned
        locations), orders/cancelled, refunds/create, fulfillments/create (see :meth:`_fulfillment_events`),
        inventory_levels/update, fulfillment_orders/order_routing_complete|moved (the order re-read, like
        orders/updated: its lines carry the locations Shopify or omnibridge chose), and the compliance topics
        customers/data_request, customers/redact, shop/redact (a privacy request); other topics give none.

        A payload that cannot be mapped raises :class:`SkippableRecordError` with the reason.
        """
        body = webhooks.parse_body(delivery.raw_body)
        topic = delivery.topic
        op = f"webhook {topic}"
        if topic in webhooks.ORDER_TOPICS:
            order_id = webhooks.order_gid(body)
            if order_id is None:
                raise SkippableRecordError("order payload has no id", connector=CONNECTOR_ID, op=op)
            order = await self._order_of_payload(body, order_id, op)
            if order is None:
                return []
            return self._unwrap(map_order(order), op, order_id)
        if topic == webhooks.FULFILLMENT_TOPIC:
            return await self._fulfillment_events(body, op)
        if topic in webhooks.FULFILLMENT_ORDER_TOPICS:
            return await self._fulfillment_order_events(body, op)
        if topic == "orders/cancelled":
            return [self._unwrap(webhooks.parse_cancelled_order(body), op, webhooks.order_gid(body))]
        if topic in webhooks.COMPLIANCE_TOPICS:
            return [self._unwrap(webhooks.parse_privacy_request(delivery, body), op, delivery.delivery_id)]
        if topic == "refunds/create":
            return [self._unwrap(webhooks.parse_refund(body), op, str(body.get("id")))]
        if topic in webhooks.RETURN_AND_PICKUP_TOPICS:
            from connectors.shopify.returns_read import webhook_events

            return await webhook_events(self, topic, body, delivery.received_at)
        if topic == "inventory_levels/update":
            update = self._unwrap(webhooks.parse_inventory_level(body), op, None)
            sku = await self._sku_of(update.item_id, op)
            return [
                StockObservedEvent(
                    sku,
                    update.location_id,
                    update.available,
                    update.updated_at or delivery.received_at,
                    item_ref=update.item_id,
                )
            ]
        return []

    async def _order_of_payload(self, body: Mapping[str, Any], order_id: str, op: str) -> Mapping[str, Any] | None:
        """The order an orders/create|updated payload carries, with only its fulfillment orders read (see
        :mod:`connectors.shopify.order_webhook`); read as by :meth:`_read_order` when the payload or that small
        read falls short, or the order changed since the payload was sent (None: no order)."""
        node = order_webhook.order_node(body)
        if node is None:
            return await self._read_order(order_id, op)
        document = order_webhook.ORDER_ROUTING_QUERY
        for size in order_webhook.ROUTING_PAGES:
            variables = order_webhook.routing_variables(node, size)
            cost = queries.estimate_cost(document, variables)
            if cost > queries.MAX_QUERY_COST:
                break
            async with self._background:
                await self.bucket.wait_for_spare(cost, WEBHOOK_FETCH_SPARE)
                data = await self.graphql(op, document, variables)
            order = data.get("order")
            if not isinstance(order, Mapping):
                return None
            if order_webhook.changed_since(node, order):
                break
            routed = order_webhook.with_routing(node, order)
            if routed is not None:
                return routed
        return await self._read_order(order_id, op)

    async def _read_order(self, order_id: str, op: str) -> Mapping[str, Any] | None:
        """The order a notification names, lean, or whole when the lean read lacks something (None: no order)."""
        # a background fetch: it leaves the bucket room for stock writes, which carry a sale to the others
        async with self._background:
            await self.bucket.wait_for_spare(queries.estimate_cost(queries.ORDER_LEAN_QUERY, {}), WEBHOOK_FETCH_SPARE)
            order = await self._fetch_order(order_id, op, queries.ORDER_LEAN_QUERY)
        if order is not None and needs_full_order(order):
            order = await self._fetch_order(order_id, op)
        return order

    async def _fulfillment_events(self, body: Mapping[str, Any], op: str) -> list[ChannelEvent]:
        """fulfillments/create: the events of the fulfillment's order, re-read (its shipments among them).

        A fulfillment that is not ``success`` gives nothing and costs no read. The payload has the lines and the
        location, but not whether Shopify split a line across locations, which changes the line's ref (see
        :func:`~connectors.shopify.mapper.map_order`): the order re-read gives every path (poll, orders/updated,
        this) the same refs, and its PLACED event comes first should orders/create have been missed. Only when the
        order cannot be read (deleted) is the shipment mapped from the payload alone.
        """
        if not webhooks.fulfillment_shipped(body):
            return []
        order_id = webhooks.fulfillment_order_gid(body)
        if order_id is None:
            raise SkippableRecordError("fulfillment payload has no order_id", connector=CONNECTOR_ID, op=op)
        order = await self._read_order(order_id, op)
        if order is not None:
            return self._unwrap(map_order(order), op, order_id)
        return [self._unwrap(webhooks.parse_fulfillment(body), op, order_id)]

    async def _fulfillment_order_events(self, body: Mapping[str, Any], op: str) -> list[ChannelEvent]:
        """fulfillment_orders/*: the payload names a fulfillment order, not its order; one small read finds it."""
        from connectors.shopify.fulfilment_queries import FULFILLMENT_ORDER_ORDER_QUERY

        fo_id = webhooks.moved_fulfillment_order_gid(body)
        if fo_id is None:
            raise SkippableRecordError("fulfillment order payload has no id", connector=CONNECTOR_ID, op=op)
        data = await self.graphql(op, FULFILLMENT_ORDER_ORDER_QUERY, {"id": fo_id})
        fo = data.get("fulfillmentOrder")
        order_id = fo.get("orderId") if isinstance(fo, Mapping) else None
        if not isinstance(order_id, str):
            return []
        order = await self._read_order(order_id, op)
        return self._unwrap(map_order(order), op, order_id) if order is not None else []

    async def _sku_of(self, item_id: str, op: str) -> str | None:
        if item_id in self._sku_by_item:
            return self._sku_by_item[item_id]
        data = await self.graphql(op, queries.INVENTORY_ITEM_QUERY, {"id": item_id, "levels": 1, "levelsAfter": None})
        item = data.get("inventoryItem")
        sku = item.get("sku") if isinstance(item, Mapping) else None
        if isinstance(sku, str) and sku:
            self._remember(sku, item_id)
            return sku
        return None

    @staticmethod
    def _unwrap(result: MapResult[T], op: str, record_id: str | None) -> T:
        if result.value is None:
            reason = "; ".join(m.message for m in result.messages) or "unmappable payload"
            raise SkippableRecordError(reason, connector=CONNECTOR_ID, op=op, record_id=record_id)
        return result.value
