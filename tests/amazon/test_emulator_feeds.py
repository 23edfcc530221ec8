"""Amazon emulator, Feeds 2021-06-30: document upload via pre-signed URL, feed processing, processing reports."""

from __future__ import annotations

import asyncio
import gzip
import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]
from support import WebhookReceiver

from connectors.amazon.emulator import AmazonEmulator, AmazonEmulatorConfig
from connectors.amazon.spec_check import load_spec, validate_recorded
from omnibridge.sdk.emulator import RequestRecorder, read_recorded, run_server

from .test_emulator_support import (
    HOOK_URL,
    MARKETPLACE,
    SELLER,
    SKU,
    Seller,
    feed_message,
    make_seller,
    run,
)

CONTENT_TYPE = "application/json; charset=UTF-8"


def _document(messages: list[dict[str, Any]], seller_id: str = SELLER) -> bytes:
    return json.dumps({"header": {"sellerId": seller_id, "version": "2.0"}, "messages": messages}).encode()


async def _submit(client: httpx.AsyncClient, body: bytes | None, content_type: str = CONTENT_TYPE) -> str:
    created = await client.post("/feeds/2021-06-30/documents", json={"contentType": CONTENT_TYPE})
    assert created.status_code == 201, created.text
    document = created.json()
    if body is not None:
        upload = await client.put(document["url"], content=body, headers={"content-type": content_type})
        assert upload.status_code == 200, upload.text
    feed = await client.post(
        "/feeds/2021-06-30/feeds",
        json={
            "feedType": "JSON_LISTINGS_FEED",
            "marketplaceIds": [MARKETPLACE],
            "inputFeedDocumentId": document["feedDocumentId"],
        },
    )
    assert feed.status_code == 202, feed.text
    return str(feed.json()["feedId"])


async def _report(client: httpx.AsyncClient, feed: dict[str, Any]) -> dict[str, Any]:
    document = (await client.get(f"/feeds/2021-06-30/documents/{feed['resultFeedDocumentId']}")).json()
    raw = (await client.get(document["url"])).content
    if document.get("compressionAlgorithm") == "GZIP":
        raw = gzip.decompress(raw)
    report = json.loads(raw)
    jsonschema.Draft7Validator(load_spec("listings-feed-processing-report-schema-v2.json")).validate(report)
    assert isinstance(report, dict)
    return report


def test_feed_goes_in_queue_in_progress_done_and_its_report_matches_the_schema() -> None:
    seller = make_seller(rate_scale=1000.0)
    seller.emu.control.seed_listing("SKU-2", title="Second", price="5", quantity=1)
    body = _document([feed_message(1, SKU, 4), feed_message(2, "SKU-2", 9), feed_message(3, "NOT-LISTED", 1)])

    async def flow() -> tuple[list[str], dict[str, Any], dict[str, Any]]:
        async with seller.client() as client:
            feed_id = await _submit(client, body)
            statuses = []
            for _ in range(3):
                feed = (await client.get(f"/feeds/2021-06-30/feeds/{feed_id}")).json()
                statuses.append(feed["processingStatus"])
                seller.clock.advance(0.3)
            return statuses, feed, await _report(client, feed)

    statuses, feed, report = run(flow)
    assert statuses == ["IN_QUEUE", "IN_PROGRESS", "DONE"]
    feeds_spec = load_spec("feeds_2021-06-30.json")
    jsonschema.Draft4Validator({"$ref": "#/definitions/Feed", "definitions": feeds_spec["definitions"]}).validate(feed)
    assert feed["processingStartTime"] <= feed["processingEndTime"]
    assert report["header"] == {"sellerId": SELLER, "version": "2.0", "feedId": feed["feedId"]}
    assert report["summary"] == {
        "errors": 1,
        "warnings": 0,
        "messagesProcessed": 3,
        "messagesAccepted": 2,
        "messagesInvalid": 1,
    }
    [issue] = report["issues"]
    assert (issue["messageId"], issue["sku"], issue["severity"]) == (3, "NOT-LISTED", "ERROR")
    assert seller.emu.control.listing_quantity(SKU) == 4
    assert seller.emu.control.listing_quantity("SKU-2") == 9
    assert seller.emu.control.calls()["createFeed"] == 1
    assert list(seller.emu.control.uploaded_documents().values()) == [body]  # the exact bytes uploaded


def test_reports_can_be_gzip_compressed() -> None:
    seller = make_seller(rate_scale=1000.0, report_compression="GZIP")

    async def flow() -> dict[str, Any]:
        async with seller.client() as client:
            feed_id = await _submit(client, _document([feed_message(1, SKU, 2)]))
            seller.emu.control.process_feeds()
            feed = (await client.get(f"/feeds/2021-06-30/feeds/{feed_id}")).json()
            return await _report(client, feed)

    assert run(flow)["summary"]["messagesAccepted"] == 1


def test_invalid_documents_end_fatal_with_a_report_naming_the_problem() -> None:
    seller = make_seller(rate_scale=1000.0)
    too_many = _document([feed_message(i + 1, SKU, 1) for i in range(25_001)])
    bad_op = _document([{**feed_message(1, SKU, 1), "operationType": "UPSERT"}])
    cases = [
        (b"{not json", "not valid JSON"),
        (too_many, "at most 25000"),
        (bad_op, "operationType"),
        (None, "No feed"),
    ]

    async def flow() -> list[tuple[dict[str, Any], dict[str, Any]]]:
        results = []
        async with seller.client() as client:
            for body, _ in cases:
                feed_id = await _submit(client, body)
                seller.emu.control.process_feeds()
                feed = (await client.get(f"/feeds/2021-06-30/feeds/{feed_id}")).json()
                results.append((feed, await _report(client, feed)))
        return results

    for (feed, report), (_, expected) in zip(run(flow), cases, strict=True):
        assert feed["processingStatus"] == "FATAL"
        assert expected in report["issues"][0]["message"], report["issues"][0]["message"]
        assert report["summary"]["messagesAccepted"] == 0
    assert seller.emu.control.listing_quantity(SKU) == 10


def test_upload_url_expires_after_five_minutes_and_needs_the_declared_content_type() -> None:
    seller = make_seller(rate_scale=1000.0)

    async def flow() -> list[httpx.Response]:
        async with seller.client() as client:
            created = (await client.post("/feeds/2021-06-30/documents", json={"contentType": CONTENT_TYPE})).json()
            url = created["url"]
            assert "X-Amz-Signature=" in url
            assert "X-Amz-Expires=300" in url
            body = _document([feed_message(1, SKU, 1)])
            wrong_type = await client.put(url, content=body, headers={"content-type": "application/json"})
            seller.clock.advance(301)
            expired = await client.put(url, content=body, headers={"content-type": CONTENT_TYPE})
            tampered = await client.put(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"), content=body)
            return [wrong_type, expired, tampered]

    wrong_type, expired, tampered = run(flow)
    assert wrong_type.status_code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in wrong_type.content
    assert expired.status_code == 403
    assert b"<Code>AccessDenied</Code><Message>Request has expired</Message>" in expired.content
    assert tampered.status_code == 403
    assert seller.emu.control.uploaded_documents() == {}


def test_create_feed_refuses_unknown_documents_and_other_feed_types() -> None:
    seller = make_seller(rate_scale=1000.0)

    async def flow() -> list[httpx.Response]:
        async with seller.client() as client:
            base = {"marketplaceIds": [MARKETPLACE], "inputFeedDocumentId": "amzn1.tortuga.4.na.nope"}
            return [
                await client.post("/feeds/2021-06-30/feeds", json={"feedType": "JSON_LISTINGS_FEED", **base}),
                await client.post("/feeds/2021-06-30/feeds", json={"feedType": "POST_PRODUCT_DATA", **base}),
                await client.get("/feeds/2021-06-30/feeds/123"),
            ]

    unknown_document, other_type, missing = run(flow)
    assert (unknown_document.status_code, unknown_document.json()["errors"][0]["code"]) == (400, "InvalidInput")
    assert "feedType" in other_type.json()["errors"][0]["message"]
    assert missing.status_code == 404


def test_recorded_feed_traffic_includes_the_uploaded_document_and_validates(tmp_path: Path) -> None:
    target = tmp_path / "requests.jsonl"
    seller = make_seller(rate_scale=1000.0, recorder=RequestRecorder("amazon", target))

    async def flow() -> None:
        async with seller.client() as client:
            await _submit(client, _document([feed_message(1, SKU, 6)]))

    run(flow)
    rows = read_recorded(target)
    upload = next(r for r in rows if r["method"] == "PUT")
    assert upload["path"].startswith("/_s3/")
    assert upload["body"]["messages"][0]["sku"] == SKU
    assert validate_recorded(rows) == []


def test_with_no_processing_delay_the_feed_is_done_at_the_first_poll() -> None:
    seller: Seller = make_seller(rate_scale=1000.0, feed_processing_s=0.0)

    async def flow() -> str:
        async with seller.client() as client:
            feed_id = await _submit(client, _document([feed_message(1, SKU, 3)]))
            return str((await client.get(f"/feeds/2021-06-30/feeds/{feed_id}")).json()["processingStatus"])

    assert run(flow) == "DONE"
    assert seller.emu.control.listing_quantity(SKU) == 3


def test_on_the_real_clock_feeds_finish_in_the_background_and_notify() -> None:
    receiver = WebhookReceiver()
    emu = AmazonEmulator(
        AmazonEmulatorConfig(feed_processing_s=0.05, notification_url=HOOK_URL),
        webhook_transport=httpx.ASGITransport(app=receiver.app()),
    )
    emu.control.seed_listing(SKU, quantity=1)

    async def flow() -> list[str]:
        token = emu.control.issue_access_token()
        async with (
            run_server(emu.app) as server,
            httpx.AsyncClient(base_url=server.url, headers={"x-amz-access-token": token}) as client,
        ):
            body = json.dumps(
                {"header": {"sellerId": emu.config.seller_id, "version": "2.0"}, "messages": [feed_message(1, SKU, 8)]}
            ).encode()
            await _submit(client, body)
            for _ in range(200):  # nobody polls: the emulator's own timer finishes the feed
                if receiver.received:
                    break
                await asyncio.sleep(0.01)
            await emu.webhooks.drain()
            await emu.webhooks.aclose()
        return [
            json.loads(raw)["payload"]["feedProcessingFinishedNotification"]["processingStatus"]
            for _, raw in receiver.received
        ]

    assert run(flow) == ["DONE"]
    assert emu.control.listing_quantity(SKU) == 8


def test_a_done_feed_shows_its_changes_only_after_the_listing_delay() -> None:
    seller = make_seller(rate_scale=1000.0, feed_processing_s=0.0, listing_delay_s=90.0)
    body = _document([feed_message(1, SKU, 4), feed_message(2, "NOT-LISTED", 1)])

    async def flow() -> tuple[dict[str, Any], dict[str, Any]]:
        async with seller.client() as client:
            feed_id = await _submit(client, body)
            feed = (await client.get(f"/feeds/2021-06-30/feeds/{feed_id}")).json()
            return feed, await _report(client, feed)

    feed, report = run(flow)
    assert feed["processingStatus"] == "DONE"
    assert report["summary"]["messagesAccepted"] == 1  # the report is final at once...
    assert seller.emu.control.listing_quantity(SKU) == 10  # ...the listing shows it later
    seller.clock.advance(90)
    assert seller.emu.control.listing_quantity(SKU) == 4
    assert not seller.emu.control.has_listing("NOT-LISTED")
