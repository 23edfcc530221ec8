"""Feeds 2021-06-30 with ``JSON_LISTINGS_FEED``: many listing patches in a handful of calls.

One feed carries up to 25,000 messages (one per SKU, ``messageId`` = its position + 1)::

    createFeedDocument ─► PUT document to the pre-signed URL (same Content-Type) ─► createFeed
        ─► FEED_PROCESSING_FINISHED notification, or getFeed every feed_poll_seconds, until DONE | FATAL | CANCELLED
        ─► getFeedDocument(resultFeedDocumentId) ─► download (gunzip if GZIP) ─► processing report

The processing report lists ERROR issues by ``messageId``; a message without one was applied. A FATAL feed (the
document was refused as a whole) raises :class:`FatalConnectorError` with the report's reasons; a CANCELLED one, or
one still running after ``feed_timeout_seconds``, raises :class:`RetriableConnectorError` (its writes are absolute
``replace`` patches, so submitting them again later is harmless). Feeds have no idempotency key.

Feeds awaiting their result are kept in the connector's memory (:mod:`omnibridge.sdk.memory`, kind ``feed``:
feed id -> digest of its messages and its SKUs) until a terminal status is read. Asked to submit exactly the
messages of such a feed again (the engine retries what a timeout or a restart left unsettled), the submitter
resumes that feed, polling it and reading its report, instead of creating another. A new feed for any of a
pending feed's SKUs supersedes it (its patches are absolute), so the older one is forgotten.
With ``feed_notifications`` the connector subscribes to ``FEED_PROCESSING_FINISHED`` and
:meth:`FeedSubmitter.feed_finished` (fed by the webhook receiver) ends a feed's wait at once with the notification's
``processingStatus`` and ``resultFeedDocumentId``: no ``getFeed`` call. ``getFeed`` polling stays the fallback: a
feed whose notification has not come within one ``feed_poll_seconds`` interval is polled as before. Notifications
are at-least-once: a duplicate, or one for a feed nobody waits for, changes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from connectors.amazon import mapper
from connectors.amazon.settings import MAX_FEED_MESSAGES, AmazonSettings
from omnibridge.sdk import Clock, FatalConnectorError, RetriableConnectorError, Sleeper
from omnibridge.sdk.memory import ChannelMemory, InMemoryChannelMemory

if TYPE_CHECKING:
    from connectors.amazon.client import AmazonApi

CONNECTOR_ID = "amazon"
FEEDS_PATH = "/feeds/2021-06-30"
FEED_TYPE = "JSON_LISTINGS_FEED"
CONTENT_TYPE = "application/json; charset=UTF-8"
TERMINAL = frozenset({"DONE", "FATAL", "CANCELLED"})
PENDING_FEEDS = "feed"
"""Memory kind of feeds awaiting their result (``{feed id: '{"digest": ..., "skus": [...]}'}``)."""
_EARLY_KEPT = 1_000  # notifications that came before their feed's wait began (or are another process's)


class FeedSubmitter:
    """Submits listing patches as ``JSON_LISTINGS_FEED`` feeds and reads back one outcome per SKU.

    ``feeds_submitted``, ``polls`` and ``notified`` count feeds created, ``getFeed`` calls made and waits ended
    by a ``FEED_PROCESSING_FINISHED`` notification (operations figures). ``before_first`` is awaited before each
    feed is created (the connector's idempotent subscription to that notification).
    """

    def __init__(
        self,
        api: AmazonApi,
        settings: AmazonSettings,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleeper = asyncio.sleep,
        before_first: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._api = api
        self._before_first = before_first
        self._settings = settings
        self._clock = clock
        self._sleep = sleep
        self.feeds_submitted = 0
        self.polls = 0
        self.feeds_resumed = 0
        self.memory: ChannelMemory = InMemoryChannelMemory()
        self.notified = 0
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._early: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def feed_finished(self, finished: Mapping[str, Any]) -> bool:
        """A ``FEED_PROCESSING_FINISHED`` payload (``feedId``, ``processingStatus``, ``resultFeedDocumentId``):
        ends that feed's wait; True when a wait was pending. A feed not (yet) waited for is remembered for a
        while, so a notification that overtakes the ``createFeed`` answer still counts; duplicates are ignored.
        Safe to call from another thread than the waiting event loop's (a receiver off the loop)."""
        feed_id, status = finished.get("feedId"), finished.get("processingStatus")
        if not isinstance(feed_id, str) or status not in TERMINAL:
            return False
        with self._lock:
            waiter = self._waiting.get(feed_id)
            if waiter is None:
                self._early[feed_id] = dict(finished)
                while len(self._early) > _EARLY_KEPT:
                    self._early.popitem(last=False)
                return False
        if waiter.done():
            return False
        loop = waiter.get_loop()
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            _settle(waiter, dict(finished))
        else:
            loop.call_soon_threadsafe(_settle, waiter, dict(finished))
        return True

    async def submit(self, items: Sequence[tuple[str, Sequence[dict[str, Any]]]]) -> list[mapper.WriteOutcome]:
        """Apply each ``(sku, patches)`` through feeds of at most 25,000 messages; one outcome per item, in
        order. A feed that fails while another one landed gives its items ``UNKNOWN`` (``FAILED`` when refused as
        a whole); when none landed, the first failure is raised (see :func:`mapper.settled`)."""
        chunks = [items[start : start + MAX_FEED_MESSAGES] for start in range(0, len(items), MAX_FEED_MESSAGES)]
        results = await asyncio.gather(*(self._one_feed(chunk) for chunk in chunks), return_exceptions=True)
        outcomes: list[mapper.WriteOutcome | BaseException] = []
        for chunk, result in zip(chunks, results, strict=True):
            outcomes += result if isinstance(result, list) else [result] * len(chunk)
        return mapper.settled(outcomes)

    async def _one_feed(self, items: Sequence[tuple[str, Sequence[dict[str, Any]]]]) -> list[mapper.WriteOutcome]:
        settings = self._settings
        messages = [
            mapper.feed_message(position + 1, sku, settings.product_type, patches)
            for position, (sku, patches) in enumerate(items)
        ]
        digest = hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()
        feed_id = self._pending(digest, [sku for sku, _ in items])
        if feed_id is not None:
            self.feeds_resumed += 1
        else:
            feed_id = await self._create(messages)
            self.memory.remember(
                PENDING_FEEDS, {feed_id: json.dumps({"digest": digest, "skus": [s for s, _ in items]})}
            )
        try:
            finished = await self._wait(feed_id)
        except FatalConnectorError:
            self.memory.forget(PENDING_FEEDS, [feed_id])  # e.g. a remembered feed Amazon no longer knows
            raise
        self.memory.forget(PENDING_FEEDS, [feed_id])
        return await self._outcomes(feed_id, finished, items)

    def _pending(self, digest: str, skus: list[str]) -> str | None:
        """The pending feed with exactly these messages, if any; pending feeds these SKUs supersede are forgotten."""
        wanted, superseded = set(skus), []
        for feed_id, raw in self.memory.load(PENDING_FEEDS).items():
            try:
                note = json.loads(raw)
            except ValueError:
                note = {}
            if isinstance(note, dict) and note.get("digest") == digest:
                return feed_id
            if not isinstance(note, dict) or wanted & set(note.get("skus") or []):
                superseded.append(feed_id)
        self.memory.forget(PENDING_FEEDS, superseded)
        return None

    async def _create(self, messages: list[dict[str, Any]]) -> str:
        settings = self._settings
        document = mapper.feed_document(settings.seller_id, messages, issue_locale=settings.language_tag)
        if self._before_first is not None:
            await self._before_first()
        _, created = await self._api.call(
            "createFeedDocument", "POST", f"{FEEDS_PATH}/documents", json={"contentType": CONTENT_TYPE}
        )
        document_id = _field(created, "feedDocumentId", "createFeedDocument")
        url = _field(created, "url", "createFeedDocument")
        await self._api.upload(url, document, CONTENT_TYPE)
        _, feed = await self._api.call(
            "createFeed",
            "POST",
            f"{FEEDS_PATH}/feeds",
            json={
                "feedType": FEED_TYPE,
                "marketplaceIds": [settings.marketplace_id],
                "inputFeedDocumentId": document_id,
            },
        )
        feed_id = _field(feed, "feedId", "createFeed")
        self.feeds_submitted += 1
        return feed_id

    async def _outcomes(
        self, feed_id: str, finished: dict[str, Any], items: Sequence[tuple[str, Sequence[dict[str, Any]]]]
    ) -> list[mapper.WriteOutcome]:
        status = finished.get("processingStatus")
        if status == "CANCELLED":
            raise RetriableConnectorError(
                f"feed {feed_id} was cancelled before it was processed; its {len(items)} writes were not applied",
                connector=CONNECTOR_ID,
                op="push_feed",
            )
        result_id = finished.get("resultFeedDocumentId")
        report = await self._report(result_id) if isinstance(result_id, str) and result_id else None
        if status == "FATAL":
            issues = mapper.error_issues(report.get("issues")) if isinstance(report, dict) else []
            raise FatalConnectorError(
                f"feed {feed_id} was refused as a whole (FATAL): {mapper.describe_issues(issues)}",
                connector=CONNECTOR_ID,
                op="push_feed",
            )
        try:
            errors = mapper.report_errors(report)
        except ValueError as exc:
            raise FatalConnectorError(
                f"feed {feed_id} is DONE but its processing report is unreadable: {exc}",
                connector=CONNECTOR_ID,
                op="push_feed",
            ) from None
        return [mapper.outcome_of_issues(errors.get(position + 1, [])) for position in range(len(items))]

    async def _wait(self, feed_id: str) -> dict[str, Any]:
        """Until the feed ends: its ``FEED_PROCESSING_FINISHED`` notification, or else ``getFeed`` every
        ``feed_poll_seconds`` (the first poll after one interval)."""
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        with self._lock:
            early = self._early.pop(feed_id, None)
            if early is None:
                self._waiting[feed_id] = waiter
        if early is not None:
            self.notified += 1
            return early
        try:
            return await self._poll_until(feed_id, waiter)
        finally:
            with self._lock:
                del self._waiting[feed_id]

    async def _poll_until(self, feed_id: str, waiter: asyncio.Future[dict[str, Any]]) -> dict[str, Any]:
        deadline = self._clock() + self._settings.feed_timeout_seconds
        while True:
            pause = asyncio.ensure_future(self._sleep(self._settings.feed_poll_seconds))
            await asyncio.wait((waiter, pause), return_when=asyncio.FIRST_COMPLETED)
            if waiter.done():
                pause.cancel()
                self.notified += 1
                return waiter.result()
            _, feed = await self._api.call("getFeed", "GET", f"{FEEDS_PATH}/feeds/{feed_id}")
            self.polls += 1
            status = feed.get("processingStatus") if isinstance(feed, dict) else None
            if status in TERMINAL:
                assert isinstance(feed, dict)
                return feed
            if waiter.done():  # the notification came while getFeed was on its way
                self.notified += 1
                return waiter.result()
            if self._clock() >= deadline:
                raise RetriableConnectorError(
                    f"feed {feed_id} still {status} after {self._settings.feed_timeout_seconds:.0f} s",
                    connector=CONNECTOR_ID,
                    op="push_feed",
                    retry_after=self._settings.feed_poll_seconds,
                )

    async def _report(self, document_id: str) -> Any:
        _, document = await self._api.call("getFeedDocument", "GET", f"{FEEDS_PATH}/documents/{document_id}")
        url = _field(document, "url", "getFeedDocument")
        compression = document.get("compressionAlgorithm") if isinstance(document, dict) else None
        data = await self._api.download(url, compression if isinstance(compression, str) else None)
        try:
            return json.loads(data)
        except (UnicodeDecodeError, ValueError) as exc:
            raise FatalConnectorError(
                f"processing report {document_id} is not JSON: {exc}", connector=CONNECTOR_ID, op="push_feed"
            ) from None


def _settle(waiter: asyncio.Future[dict[str, Any]], finished: dict[str, Any]) -> None:
    if not waiter.done():
        waiter.set_result(finished)


def _field(body: Any, name: str, operation: str) -> str:
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise FatalConnectorError(f"{operation} answered without {name}", connector=CONNECTOR_ID, op=operation)
    return value
