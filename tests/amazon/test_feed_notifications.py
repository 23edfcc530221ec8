"""FEED_PROCESSING_FINISHED ends a feed's wait: the connector subscribes (Notifications API v1), the signed
notification ends the wait without getFeed, getFeed polling is the fallback, duplicates are harmless. Against the
in-process emulator with every request checked against Amazon's models."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.amazon.client import AmazonConnector
from connectors.amazon.emulator import AmazonEmulator, AmazonEmulatorConfig
from connectors.amazon.notifications import SIGNATURE_HEADER
from connectors.amazon.settings import AmazonSettings
from connectors.amazon.spec_check import validate_recorded
from omnibridge.sdk import FatalConnectorError, RetryPolicy, WebhookError, hmac_sha256_base64
from omnibridge.sdk.channel import PushStatus, StockTarget
from omnibridge.sdk.emulator import RequestRecorder, read_recorded

from .test_client_support import FakeTime

EMU_URL = "http://amazon.emulator"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:omnibridge-notifications"
POLL_S = 30.0
SKUS = [f"SKU-{i}" for i in range(5)]


class GatedTime(FakeTime):
    """FakeTime whose feed-poll pause (exactly ``POLL_S``) blocks until ``open_gate``: a notification delivered
    meanwhile must end the wait on its own. Other pauses (rate limits, retries) pass as in FakeTime."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.gated = 0

    async def sleep(self, seconds: float) -> None:
        if seconds == POLL_S:
            self.gated += 1
            await self.gate.wait()
        await super().sleep(seconds)


class World:
    def __init__(self, emu: AmazonEmulator, client: AmazonConnector, time: GatedTime, record: Path) -> None:
        self.emu, self.client, self.time, self.record = emu, client, time, record

    def spec_problems(self) -> list[str]:
        return validate_recorded(read_recorded(self.record))

    def deliver(self, body: dict[str, Any]) -> None:
        """POST ``body`` as the signing forwarder does (the emulator's stand-in for the SQS hop)."""
        raw = json.dumps(body).encode()
        signature = hmac_sha256_base64(self.emu.config.forwarder_secret, raw)
        self.client.verify_webhook(raw, {SIGNATURE_HEADER: signature}, "http://daemon/webhooks/amazon")

    def feed_notifications(self) -> list[dict[str, Any]]:
        return [n for n in self.emu.notifications if n.get("notificationType") == "FEED_PROCESSING_FINISHED"]

    async def push(self) -> list[PushStatus]:
        results = await self.client.push_levels([StockTarget(sku, "DEFAULT", 7) for sku in SKUS])
        return [r.status for r in results]

    async def until_gated(self) -> None:
        while not self.time.gated:
            await asyncio.sleep(0)


@asynccontextmanager
async def world(
    tmp_path: Path, emu: AmazonEmulator | None = None, time: GatedTime | None = None, **overrides: Any
) -> AsyncIterator[World]:
    time = time or GatedTime()
    record = tmp_path / "requests.jsonl"
    emu = emu or AmazonEmulator(
        AmazonEmulatorConfig(feed_processing_s=4.0),
        time.now,
        monotonic=time.monotonic,
        recorder=RequestRecorder("amazon", record),
    )
    cfg = emu.config
    values: dict[str, Any] = {
        "endpoint": EMU_URL,
        "lwa_endpoint": f"{EMU_URL}/auth/o2/token",
        "client_id": cfg.client_id,
        "client_secret": cfg.client_secret,
        "refresh_token": cfg.refresh_token,
        "seller_id": cfg.seller_id,
        "marketplace_id": cfg.marketplace_id,
        "forwarder_secret": cfg.forwarder_secret,
        "feed_threshold": 5,
        "feed_poll_seconds": POLL_S,
        "feed_notifications": True,
        "notification_destination_arn": QUEUE_ARN,
        **overrides,
    }
    client = AmazonConnector(
        AmazonSettings.model_validate(values),
        transport=httpx.ASGITransport(app=emu.app),
        retry_policy=RetryPolicy(max_attempts=4, initial_backoff=0.5, jitter=0.0, max_elapsed=600.0),
        clock=time.monotonic,
        sleep=time.sleep,
        now=time.now,
    )
    for sku in SKUS:
        emu.control.seed_listing(sku, title="x", price="10.00", quantity=1)
    try:
        yield World(emu, client, time, record)
    finally:
        await client.aclose()
        await emu.webhooks.aclose()


@pytest.mark.anyio
async def test_a_feed_ends_on_its_notification_without_polling_get_feed(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        push = asyncio.ensure_future(w.push())
        await w.until_gated()
        w.time.t += 5  # the emulator's processing delay has passed: it publishes FEED_PROCESSING_FINISHED
        w.emu.control.feeds()
        [notification] = w.feed_notifications()
        w.deliver(notification)
        w.time.gate.set()  # had the notification not ended the wait, the pause would end now and getFeed follow
        assert await push == [PushStatus.APPLIED] * 5
        calls = w.emu.control.calls()
        assert calls.get("getFeed", 0) == 0
        assert calls["getFeedDocument"] == 1  # the writer reads the result document once
        assert (w.client.feeds.notified, w.client.feeds.polls) == (1, 0)
        # The connector subscribed first: one SQS destination, one FEED_PROCESSING_FINISHED subscription.
        subscriptions = w.emu.subscriptions
        [destination] = subscriptions.destinations.values()
        assert destination["resource"] == {"sqs": {"arn": QUEUE_ARN}}
        subscription = subscriptions.subscriptions["FEED_PROCESSING_FINISHED"]
        assert subscription["payloadVersion"] == "2020-09-04"
        assert notification["notificationMetadata"]["subscriptionId"] == subscription["subscriptionId"]
        assert w.spec_problems() == []


@pytest.mark.anyio
async def test_a_notification_received_off_the_event_loop_ends_the_wait(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        push = asyncio.ensure_future(w.push())
        await w.until_gated()
        w.time.t += 5
        w.emu.control.feeds()
        [notification] = w.feed_notifications()
        asyncio.get_running_loop().set_debug(True)  # debug loops refuse call_soon from another thread
        await asyncio.to_thread(w.deliver, notification)  # a receiver that verifies webhooks in a worker thread
        while w.client.feeds.notified == 0 and not push.done():
            await asyncio.sleep(0)
        w.time.gate.set()
        assert await push == [PushStatus.APPLIED] * 5
        assert (w.client.feeds.notified, w.client.feeds.polls) == (1, 0)


@pytest.mark.anyio
async def test_without_its_notification_a_feed_falls_back_to_get_feed(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        push = asyncio.ensure_future(w.push())
        await w.until_gated()
        w.time.t += 5
        w.emu.control.feeds()
        assert len(w.feed_notifications()) == 1  # published, lost on the way: never delivered
        w.time.gate.set()
        assert await push == [PushStatus.APPLIED] * 5
        assert w.emu.control.calls()["getFeed"] == 1
        assert (w.client.feeds.notified, w.client.feeds.polls) == (0, 1)
        assert w.spec_problems() == []


@pytest.mark.anyio
async def test_duplicate_and_stale_notifications_are_harmless(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        first = asyncio.ensure_future(w.push())
        await w.until_gated()
        w.time.t += 5
        w.emu.control.feeds()
        [notification] = w.feed_notifications()
        w.deliver(notification)
        w.deliver(notification)  # at-least-once: the same notification again while the wait ends
        w.time.gate.set()
        assert await first == [PushStatus.APPLIED] * 5
        w.deliver(notification)  # and once more after
        # A second feed is not ended by the first one's notification: it waits for its own.
        w.time.gated = 0
        w.time.gate.clear()
        second = asyncio.ensure_future(w.push())
        await w.until_gated()
        w.deliver(notification)
        await asyncio.sleep(0)
        assert not second.done()
        w.time.t += 5
        w.emu.control.feeds()
        w.deliver(w.feed_notifications()[-1])
        w.time.gate.set()
        assert await second == [PushStatus.APPLIED] * 5
        assert (w.client.feeds.notified, w.client.feeds.polls, w.client.feeds.feeds_submitted) == (2, 0, 2)
        assert w.emu.control.calls()["getFeedDocument"] == 2


@pytest.mark.anyio
async def test_a_notification_that_overtakes_create_feed_still_ends_the_wait(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        call = w.client.api.call

        async def finished_before_the_answer(operation: str, *args: Any, **kwargs: Any) -> tuple[int, Any]:
            answer = await call(operation, *args, **kwargs)
            if operation == "createFeed":  # processed and notified before createFeed's answer reached us
                w.emu.advance_feeds(force=True)
                w.deliver(w.feed_notifications()[-1])
            return answer

        w.client.api.call = finished_before_the_answer  # type: ignore[method-assign]
        w.time.gate.set()
        assert await w.push() == [PushStatus.APPLIED] * 5
        assert (w.client.feeds.notified, w.client.feeds.polls, w.time.gated) == (1, 0, 0)


@pytest.mark.anyio
async def test_a_restarted_connector_finds_its_destination_and_subscription(tmp_path: Path) -> None:
    async with world(tmp_path) as first:
        first.time.gate.set()
        await first.push()
        async with world(tmp_path, first.emu, first.time) as second:
            await second.push()
            assert second.client.feed_subscription.subscription_id == first.client.feed_subscription.subscription_id
        calls = first.emu.control.calls()
        assert (calls["createDestination"], calls["createSubscription"]) == (1, 1)
        assert (calls["getDestinations"], calls["getSubscription"]) == (2, 2)
        assert first.spec_problems() == []


@pytest.mark.anyio
async def test_without_feed_notifications_nothing_is_subscribed(tmp_path: Path) -> None:
    async with world(tmp_path, feed_notifications=False) as w:
        w.time.gate.set()
        assert await w.push() == [PushStatus.APPLIED] * 5
        assert not w.emu.subscriptions.destinations
        assert w.client.feeds.polls >= 1


def test_a_feed_notification_without_a_feed_id_is_refused(tmp_path: Path) -> None:
    emu = AmazonEmulator(AmazonEmulatorConfig())
    settings = AmazonSettings.model_validate(
        {
            "client_id": "c",
            "client_secret": "s",
            "refresh_token": "r",
            "seller_id": emu.config.seller_id,
            "forwarder_secret": emu.config.forwarder_secret,
        }
    )
    client = AmazonConnector(settings)
    body = {
        "notificationType": "FEED_PROCESSING_FINISHED",
        "notificationMetadata": {"notificationId": "n-1"},
        "payload": {"feedProcessingFinishedNotification": {"processingStatus": "DONE"}},
    }
    raw = json.dumps(body).encode()
    signature = hmac_sha256_base64(emu.config.forwarder_secret, raw)
    with pytest.raises(WebhookError, match=r"feedProcessingFinishedNotification\.feedId"):
        client.verify_webhook(raw, {SIGNATURE_HEADER: signature}, "http://daemon/webhooks/amazon")


@pytest.mark.anyio
async def test_the_emulator_asks_grantless_tokens_for_destinations_and_refuses_a_second_subscription(
    tmp_path: Path,
) -> None:
    async with world(tmp_path) as w:
        api = w.client.api
        body = {"name": "q", "resourceSpecification": {"sqs": {"arn": QUEUE_ARN}}}
        with pytest.raises(FatalConnectorError, match="grantless"):
            await api.call("createDestination", "POST", "/notifications/v1/destinations", json=body)
        grantless = await api.grantless_tokens.token()
        with pytest.raises(FatalConnectorError, match="grantless token cannot"):
            await api.call(
                "getSubscription", "GET", "/notifications/v1/subscriptions/ORDER_CHANGE", restricted_token=grantless
            )
        _, created = await api.call(
            "createDestination", "POST", "/notifications/v1/destinations", json=body, restricted_token=grantless
        )
        destination_id = created["payload"]["destinationId"]
        path = "/notifications/v1/subscriptions/FEED_PROCESSING_FINISHED"
        status, _ = await api.call("getSubscription", "GET", path, expected=(404,))
        assert status == 404
        subscribe = {"payloadVersion": "2020-09-04", "destinationId": destination_id}
        await api.call("createSubscription", "POST", path, json=subscribe)
        status, answer = await api.call("createSubscription", "POST", path, json=subscribe, expected=(409,))
        assert (status, answer["errors"][0]["code"]) == (409, "Conflict")
        assert w.spec_problems() == []


def test_feed_notifications_without_a_queue_are_refused_in_one_line() -> None:
    values = {"client_id": "c", "client_secret": "s", "refresh_token": "r", "seller_id": "A1", "forwarder_secret": "f"}
    with pytest.raises(ValueError, match="feed_notifications needs notification_destination_arn"):
        AmazonSettings.model_validate({**values, "feed_notifications": True})
    with pytest.raises(ValueError, match="notification_destination_arn"):
        AmazonSettings.model_validate({**values, "notification_destination_arn": "https://sqs.example/q"})
    assert AmazonSettings.model_validate(
        {**values, "feed_notifications": True, "notification_destination_arn": QUEUE_ARN}
    ).feed_notifications
