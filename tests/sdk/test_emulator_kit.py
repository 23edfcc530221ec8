"""The emulator building blocks: request recording, knobs and webhook delivery with retries."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from omnibridge.sdk import hmac_sha256_base64, verify_hmac_base64
from omnibridge.sdk.emulator import EmulatorKnobs, RequestRecorder, WebhookKnobs, WebhookSender, read_recorded

pytestmark = pytest.mark.anyio


def test_recorder_appends_one_json_line_per_request_and_masks_credentials(tmp_path: Path) -> None:
    path = tmp_path / "requests.jsonl"
    recorder = RequestRecorder.from_env("square", {"OMNIBRIDGE_RECORD_REQUESTS": str(path)})
    recorder.record("post", "/v2/orders/search", "limit=10&limit=20", {"Authorization": "Bearer x"}, b'{"a": 1}')
    recorder.record("GET", "/v2/locations", {}, {"Accept": "application/json"}, b"")
    RequestRecorder("shopify", path).record("POST", "/graphql.json", "", {}, b"query { shop { id } }")

    rows = read_recorded(path)
    assert rows[0] == {
        "service": "square",
        "method": "POST",
        "path": "/v2/orders/search",
        "query": {"limit": ["10", "20"]},
        "headers": {"authorization": "***"},
        "body": {"a": 1},
    }
    assert rows[1]["body"] is None
    assert rows[2]["body"] == "query { shop { id } }"
    assert [row["service"] for row in read_recorded(path, "square")] == ["square", "square"]


def test_recorder_without_the_variable_records_nothing(tmp_path: Path) -> None:
    recorder = RequestRecorder.from_env("square", {})
    assert not recorder.enabled
    recorder.record("GET", "/v2/locations", {}, {}, b"")
    assert list(tmp_path.iterdir()) == []


def test_knobs_fail_next_then_follow_the_rate() -> None:
    knobs = EmulatorKnobs(error_rate=0.0, fail_next=2)
    assert [knobs.should_fail() for _ in range(4)] == [True, True, False, False]
    always = EmulatorKnobs(error_rate=1.0)
    assert always.should_fail()
    with pytest.raises(ValueError, match="latency_ms"):
        EmulatorKnobs(latency_ms=(10.0, 5.0))


class Receiver:
    """A webhook endpoint that fails the first ``fail`` requests with 500 and records the rest."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.received: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.received.append(request)
        if self.fail > 0:
            self.fail -= 1
            return httpx.Response(500)
        return httpx.Response(200)


def sender(receiver: Receiver, **knobs: object) -> WebhookSender:
    return WebhookSender(
        "test",
        sign=lambda body, url: {"X-Signature": hmac_sha256_base64("secret", url.encode() + body)},
        url="http://receiver.test/hooks",
        knobs=WebhookKnobs(retry_backoff_s=0.001, **knobs),  # type: ignore[arg-type]
        retry_headers=lambda number, reason: {"X-Retry-Number": str(number), "X-Retry-Reason": reason},
        transport=httpx.MockTransport(receiver),
    )


async def test_delivery_is_signed_and_retried_until_accepted() -> None:
    receiver = Receiver(fail=2)
    webhooks = sender(receiver)
    record = webhooks.send("orders/create", {"id": 7}, {"X-Topic": "orders/create"}, delivery_id="d-1", event_id="e-1")
    await webhooks.drain()
    assert record.delivered
    assert not record.gave_up
    assert [attempt.status for attempt in record.attempts] == [500, 500, 200]
    last = receiver.received[-1]
    assert verify_hmac_base64("secret", b"http://receiver.test/hooks" + last.content, last.headers["X-Signature"])
    assert json.loads(last.content) == {"id": 7}
    assert last.headers["X-Retry-Number"] == "2"
    assert last.headers["X-Topic"] == "orders/create"
    await webhooks.aclose()


async def test_injected_failures_duplicates_and_giving_up() -> None:
    receiver = Receiver()
    webhooks = sender(receiver, fail_first_attempts=1, duplicate_next=1)
    first = webhooks.send("t", b"{}", {}, delivery_id="d-1")
    await webhooks.drain()
    assert [attempt.error for attempt in first.attempts] == ["timeout", ""]
    assert len(webhooks.deliveries) == 2
    assert webhooks.deliveries[1].duplicate
    assert len(receiver.received) == 2  # the injected timeouts never reached the receiver
    assert webhooks.last() is first

    again = webhooks.redeliver(first)
    await webhooks.drain()
    assert again.duplicate
    assert again.delivery_id == "d-1"
    assert again.delivered

    down = sender(Receiver(fail=100), max_attempts=3)
    lost = down.send("t", b"{}", {}, delivery_id="d-2")
    await down.drain()
    assert lost.gave_up
    assert len(lost.attempts) == 3
    await webhooks.aclose()
    await down.aclose()


async def test_without_a_url_the_delivery_is_given_up_with_the_reason() -> None:
    webhooks = WebhookSender("test", sign=lambda body, url: {})
    record = webhooks.send("t", b"{}", {}, delivery_id="d-1")
    await webhooks.drain()
    assert record.gave_up
    assert record.attempts[0].error == "no webhook URL configured"


async def test_at_most_in_flight_attempts_are_sent_at_once_and_every_delivery_arrives() -> None:
    """A burst of deliveries waits in the sender, not in the HTTP client's pool (whose bookkeeping grows with the
    square of what is queued in it)."""
    import asyncio

    state = {"now": 0, "most": 0}
    gate = asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        state["now"] += 1
        state["most"] = max(state["most"], state["now"])
        await gate.wait()
        state["now"] -= 1
        return httpx.Response(200)

    webhooks = WebhookSender(
        "test",
        sign=lambda body, url: {},
        url="http://receiver.test/hooks",
        knobs=WebhookKnobs(in_flight=3),
        transport=httpx.MockTransport(slow),
    )
    records = [webhooks.send("t", b"{}", {}, delivery_id=f"d-{n}") for n in range(12)]
    for _ in range(20):
        await asyncio.sleep(0)
    assert state["most"] == 3
    gate.set()
    await webhooks.drain()
    assert all(record.delivered for record in records)
    await webhooks.aclose()
