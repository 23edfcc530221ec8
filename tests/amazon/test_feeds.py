"""JSON_LISTINGS_FEED submissions with respx: the call sequence, the document, the report, and failures."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

from connectors.amazon import feeds
from omnibridge.sdk import FatalConnectorError, RetriableConnectorError
from omnibridge.sdk.channel import PushStatus, StockTarget
from omnibridge.sdk.listings import ListingUpdate

from .test_client_support import ENDPOINT, MARKETPLACE, SELLER, body_of, connector, lwa_route

UPLOAD_URL = "https://tortuga.test/upload/doc-in?X-Amz-Signature=abc"
REPORT_URL = "https://tortuga.test/download/doc-out?X-Amz-Signature=def"


class FakeAmazonFeeds:
    """respx side effects for the feed endpoints: stores the uploaded document, answers getFeed with the given
    statuses in turn, and serves ``report`` (gzipped when ``gzip_report``)."""

    def __init__(self, router: respx.MockRouter, statuses: list[str], report: Any, *, gzip_report: bool = False):
        self.uploads: list[httpx.Request] = []
        self.statuses = list(statuses)
        self.report = report
        self.gzip_report = gzip_report
        self.feeds = 0
        self.documents_created = 0
        self.create_document = router.post("/feeds/2021-06-30/documents").mock(side_effect=self._document)
        self.upload = router.put(UPLOAD_URL).mock(side_effect=self._upload)
        self.create_feed = router.post("/feeds/2021-06-30/feeds").mock(side_effect=self._feed)
        self.get_feed = router.get(url__regex=r"/feeds/2021-06-30/feeds/[^/]+$").mock(side_effect=self._status)
        self.get_document = router.get("/feeds/2021-06-30/documents/doc-out").respond(
            json={
                "feedDocumentId": "doc-out",
                "url": REPORT_URL,
                **({"compressionAlgorithm": "GZIP"} if gzip_report else {}),
            }
        )
        self.download = router.get(REPORT_URL).mock(side_effect=self._download)

    def _document(self, request: httpx.Request) -> httpx.Response:
        self.documents_created += 1
        return httpx.Response(201, json={"feedDocumentId": f"doc-in-{self.documents_created}", "url": UPLOAD_URL})

    def _upload(self, request: httpx.Request) -> httpx.Response:
        self.uploads.append(request)
        return httpx.Response(200)

    def _feed(self, request: httpx.Request) -> httpx.Response:
        self.feeds += 1
        return httpx.Response(202, json={"feedId": f"feed-{self.feeds}"})

    def _status(self, request: httpx.Request) -> httpx.Response:
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        feed: dict[str, Any] = {
            "feedId": request.url.path.rsplit("/", 1)[-1],
            "feedType": "JSON_LISTINGS_FEED",
            "marketplaceIds": [MARKETPLACE],
            "createdTime": "2026-03-02T12:00:00Z",
            "processingStatus": status,
        }
        if status in ("DONE", "FATAL"):
            feed["resultFeedDocumentId"] = "doc-out"
        return httpx.Response(200, json=feed)

    def _download(self, request: httpx.Request) -> httpx.Response:
        report = self.report(len(self.uploads)) if callable(self.report) else self.report
        data = json.dumps(report).encode()
        return httpx.Response(200, content=gzip.compress(data) if self.gzip_report else data)

    def documents(self) -> list[dict[str, Any]]:
        return [json.loads(request.content) for request in self.uploads]


def report(issues: list[dict[str, Any]], processed: int) -> dict[str, Any]:
    invalid = len({i["messageId"] for i in issues if i.get("severity") == "ERROR"})
    return {
        "header": {"sellerId": SELLER, "version": "2.0", "feedId": "feed-1"},
        "issues": issues,
        "summary": {
            "errors": sum(1 for i in issues if i.get("severity") == "ERROR"),
            "warnings": sum(1 for i in issues if i.get("severity") == "WARNING"),
            "messagesProcessed": processed,
            "messagesAccepted": processed - invalid,
            "messagesInvalid": invalid,
        },
    }


@pytest.fixture
def amazon() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=ENDPOINT, assert_all_called=False) as router:
        lwa_route(router)
        yield router


@pytest.mark.anyio
async def test_from_the_threshold_on_stock_goes_as_one_feed(amazon: respx.MockRouter) -> None:
    issues = [
        {"messageId": 2, "sku": "SKU-1", "code": "4000004", "severity": "ERROR", "message": "SKU not found"},
        {"messageId": 3, "sku": "SKU-2", "code": "90220", "severity": "ERROR", "message": "'[x]' is required"},
        {"messageId": 4, "sku": "SKU-3", "code": "18448", "severity": "WARNING", "message": "incomplete"},
    ]
    fake = FakeAmazonFeeds(amazon, ["IN_QUEUE", "IN_PROGRESS", "DONE"], report(issues, 5), gzip_report=True)
    patch = amazon.patch(url__startswith=f"{ENDPOINT}/listings/")
    targets = [StockTarget(f"SKU-{i}", "DEFAULT", 10 + i) for i in range(5)]
    client, time = connector(feed_threshold=5, feed_poll_seconds=30)
    try:
        results = await client.push_levels(targets)
    finally:
        await client.aclose()
    assert patch.call_count == 0
    assert [r.status for r in results] == [
        PushStatus.APPLIED,
        PushStatus.UNKNOWN_SKU,
        PushStatus.FAILED,
        PushStatus.APPLIED,
        PushStatus.APPLIED,
    ]
    assert "90220" in results[2].message
    assert [r.shown for r in results] == [10, None, None, 13, 14]
    # The call sequence and what each carried.
    assert body_of(fake.create_document.calls.last.request) == {"contentType": "application/json; charset=UTF-8"}
    [upload] = fake.uploads
    assert upload.headers["content-type"] == "application/json; charset=UTF-8"
    assert "x-amz-access-token" not in upload.headers
    assert body_of(fake.create_feed.calls.last.request) == {
        "feedType": "JSON_LISTINGS_FEED",
        "marketplaceIds": [MARKETPLACE],
        "inputFeedDocumentId": "doc-in-1",
    }
    assert fake.get_feed.call_count == 3
    assert time.slept.count(30) == 3
    [document] = fake.documents()
    assert document["header"] == {"sellerId": SELLER, "version": "2.0", "issueLocale": "en_US"}
    assert document["messages"][1] == {
        "messageId": 2,
        "sku": "SKU-1",
        "operationType": "PATCH",
        "productType": "PRODUCT",
        "patches": [
            {
                "op": "replace",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 11}],
            }
        ],
    }
    assert client.api.calls == {
        "createFeedDocument": 1,
        "uploadFeedDocument": 1,
        "createFeed": 1,
        "getFeed": 3,
        "getFeedDocument": 1,
        "downloadFeedDocument": 1,
    }


@pytest.mark.anyio
async def test_invalid_targets_are_failed_without_counting_towards_the_feed(amazon: respx.MockRouter) -> None:
    fake = FakeAmazonFeeds(amazon, ["DONE"], report([], 2))
    targets = [
        StockTarget("SKU-0", "DEFAULT", 1),
        StockTarget("SKU-X", "AMAZON_NA", 1),
        StockTarget("SKU-1", "DEFAULT", 2),
    ]
    client, _ = connector(feed_threshold=2)
    try:
        results = await client.push_levels(targets)
    finally:
        await client.aclose()
    assert [r.status for r in results] == [PushStatus.APPLIED, PushStatus.FAILED, PushStatus.APPLIED]
    assert [m["sku"] for m in fake.documents()[0]["messages"]] == ["SKU-0", "SKU-1"]


@pytest.mark.anyio
async def test_more_than_one_feed_worth_is_split(amazon: respx.MockRouter, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feeds, "MAX_FEED_MESSAGES", 3)
    fake = FakeAmazonFeeds(
        amazon,
        ["DONE"],
        lambda uploads: report(
            [{"messageId": 1, "sku": "?", "code": "90220", "severity": "ERROR", "message": "bad"}], 3
        ),
    )
    targets = [StockTarget(f"SKU-{i}", "DEFAULT", i) for i in range(7)]
    client, _ = connector(feed_threshold=2)
    try:
        results = await client.push_levels(targets)
    finally:
        await client.aclose()
    assert fake.feeds == 3
    assert sorted(len(d["messages"]) for d in fake.documents()) == [1, 3, 3]
    # messageId 1 of each feed failed: targets 0, 3 and 6.
    assert [i for i, r in enumerate(results) if r.status is PushStatus.FAILED] == [0, 3, 6]


@pytest.mark.anyio
async def test_a_feed_failing_while_another_landed_gives_its_items_a_result_instead_of_raising(
    amazon: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feeds, "MAX_FEED_MESSAGES", 3)
    FakeAmazonFeeds(amazon, ["DONE", "CANCELLED"], report([], 3))  # the first feed polled is done, the other not
    targets = [StockTarget(f"SKU-{i}", "DEFAULT", i) for i in range(6)]
    client, _ = connector(feed_threshold=2)
    try:
        results = await client.push_levels(targets)
    finally:
        await client.aclose()
    assert [r.target for r in results] == targets
    by_feed = [{r.status for r in results[:3]}, {r.status for r in results[3:]}]
    assert sorted(status for (status,) in by_feed) == [PushStatus.APPLIED, PushStatus.UNKNOWN]
    assert any("cancelled" in r.message for r in results if r.status is PushStatus.UNKNOWN)


@pytest.mark.anyio
async def test_many_prices_go_as_a_feed(amazon: respx.MockRouter) -> None:
    fake = FakeAmazonFeeds(amazon, ["DONE"], report([], 2))
    client, _ = connector(feed_threshold=2)
    try:
        results = await client.push_listings(
            [ListingUpdate(f"SKU-{i}", price=Decimal("9.50"), currency="USD") for i in range(2)]
        )
    finally:
        await client.aclose()
    assert [r.status for r in results] == [PushStatus.APPLIED, PushStatus.APPLIED]
    message = fake.documents()[0]["messages"][0]
    assert message["patches"][0]["path"] == "/attributes/purchasable_offer"
    assert message["patches"][0]["value"][0]["our_price"] == [{"schedule": [{"value_with_tax": 9.5}]}]


@pytest.mark.anyio
async def test_fatal_feed_raises_with_the_reports_reasons(amazon: respx.MockRouter) -> None:
    issues = [{"messageId": 0, "code": "4000003", "severity": "ERROR", "message": "document is not valid JSON"}]
    FakeAmazonFeeds(amazon, ["FATAL"], report(issues, 0))
    client, _ = connector(feed_threshold=1)
    try:
        with pytest.raises(FatalConnectorError, match=r"FATAL.*not valid JSON"):
            await client.push_levels([StockTarget("SKU-0", "DEFAULT", 1)])
    finally:
        await client.aclose()


@pytest.mark.anyio
async def test_cancelled_feed_is_retriable(amazon: respx.MockRouter) -> None:
    FakeAmazonFeeds(amazon, ["CANCELLED"], report([], 0))
    client, _ = connector(feed_threshold=1)
    try:
        with pytest.raises(RetriableConnectorError, match="cancelled"):
            await client.push_levels([StockTarget("SKU-0", "DEFAULT", 1)])
    finally:
        await client.aclose()


@pytest.mark.anyio
async def test_a_feed_still_running_after_the_timeout_is_retriable(amazon: respx.MockRouter) -> None:
    fake = FakeAmazonFeeds(amazon, ["IN_PROGRESS"], report([], 0))
    client, _ = connector(feed_threshold=1, feed_poll_seconds=60, feed_timeout_seconds=300)
    try:
        with pytest.raises(RetriableConnectorError, match="still IN_PROGRESS") as caught:
            await client.push_levels([StockTarget("SKU-0", "DEFAULT", 1)])
    finally:
        await client.aclose()
    assert fake.get_feed.call_count == 5
    assert caught.value.retry_after == 60


@pytest.mark.anyio
async def test_an_unreadable_report_is_fatal_not_applied(amazon: respx.MockRouter) -> None:
    FakeAmazonFeeds(amazon, ["DONE"], {"header": {}})
    client, _ = connector(feed_threshold=1)
    try:
        with pytest.raises(FatalConnectorError, match="unreadable"):
            await client.push_levels([StockTarget("SKU-0", "DEFAULT", 1)])
    finally:
        await client.aclose()
