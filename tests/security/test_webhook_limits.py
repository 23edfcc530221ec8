"""Limits of the webhook port at the ASGI level: a declared body over the channel's limit is refused before a byte
is read, a chunked one is cut at the limit, a slow one times out, an unknown channel is refused unread, and the
refusals are logged once per reason per interval with a count."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from daemon.fakes import TOKEN, FakeConnector, runtime
from starlette.types import Message

from omnibridge.models import Location, LocationType
from omnibridge.store import Store, open_store
from omnibridge.sync import SyncEngine, receiver_app
from omnibridge.sync.webhook_limits import RefusalLog, WebhookLimits

pytestmark = pytest.mark.anyio
LIMITS = WebhookLimits(max_body_bytes=1000, per_channel={"big": 5000}, body_timeout_seconds=0.2)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(f"sqlite:///{tmp_path / 'omnibridge.db'}") as opened:
        opened.upsert_location(Location(id="wh", name="Warehouse", type=LocationType.WAREHOUSE))
        yield opened


class Client:
    """Feeds a request to the ASGI app chunk by chunk and records how much of the body the app pulled."""

    def __init__(self, store: Store, limits: WebhookLimits = LIMITS) -> None:
        channels = [runtime(name, FakeConnector(["W1"]), {"W1": "wh"}, webhooks=True) for name in ("web", "big")]
        self.refusals = RefusalLog()
        self.app = receiver_app(SyncEngine(store, channels), limits=limits, refusals=self.refusals)
        self.pulled = 0

    async def post(
        self, path: str, chunks: list[bytes], headers: dict[str, str], *, stall: bool = False
    ) -> tuple[int, dict[str, object], dict[str, str]]:
        pending = list(chunks)
        status: list[int] = []
        answer_headers: dict[str, str] = {}
        answer_body = bytearray()

        async def receive() -> Message:
            if not pending:
                if stall:
                    await asyncio.sleep(3600)  # the rest of the body never comes
                return {"type": "http.request", "body": b"", "more_body": False}
            chunk = pending.pop(0)
            self.pulled += len(chunk)
            return {"type": "http.request", "body": chunk, "more_body": bool(pending) or stall}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
                answer_headers.update({k.decode(): v.decode() for k, v in message["headers"]})
            elif message["type"] == "http.response.body":
                answer_body.extend(message.get("body", b""))

        scope = {
            "type": "http",
            "method": "POST",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
            "server": ("daemon", 80),
            "scheme": "http",
            "root_path": "",
            "http_version": "1.1",
            "asgi": {"version": "3.0"},
        }
        await self.app(scope, receive, send)
        return status[0], json.loads(answer_body), answer_headers


def signed(delivery_id: str, size: int = 0) -> bytes:
    return json.dumps({"delivery": delivery_id, "pad": "x" * size}).encode()


async def test_a_declared_body_over_the_limit_is_refused_before_a_byte_is_read(store: Store) -> None:
    client = Client(store)
    headers = {"x-token": TOKEN, "content-length": str(1024**3)}  # a 1 GB body, announced
    status, body, response_headers = await client.post("/webhooks/web", [b"x" * 500] * 10, headers)
    assert (status, body["status"]) == (413, "too_large")
    assert body["message"] == f"the body is {1024**3} bytes; at most 1000 are accepted"
    assert response_headers["connection"] == "close"
    assert client.pulled == 0


async def test_a_chunked_body_is_cut_at_the_limit(store: Store) -> None:
    client = Client(store)
    status, body, _ = await client.post("/webhooks/web", [b"x" * 400] * 1000, {"x-token": TOKEN})
    assert (status, body["status"]) == (413, "too_large")
    assert client.pulled <= 1200  # read up to the limit, not the 400 kB sent
    assert store.inbox() == []


async def test_a_channel_has_its_own_limit(store: Store) -> None:
    client = Client(store)
    over_default = signed("d-big", 3000)
    assert (await client.post("/webhooks/web", [over_default], {"x-token": TOKEN}))[0] == 413
    assert (await client.post("/webhooks/big", [over_default], {"x-token": TOKEN}))[1]["status"] == "stored"


async def test_a_body_slower_than_the_timeout_is_answered_408(store: Store) -> None:
    client = Client(store)
    status, body, headers = await client.post("/webhooks/web", [b'{"deliv'], {"x-token": TOKEN}, stall=True)
    assert (status, body["status"], headers["connection"]) == (408, "body_timeout", "close")


async def test_a_newer_request_cuts_off_the_slowest_body_when_every_slot_is_taken(store: Store) -> None:
    client = Client(store, WebhookLimits(max_in_flight=1, body_timeout_seconds=3600, evict_after_seconds=0.05))
    slow = asyncio.create_task(client.post("/webhooks/web", [b'{"deliv'], {"x-token": TOKEN}, stall=True))
    await asyncio.sleep(0.2)  # the slow body has been arriving for longer than evict_after_seconds
    status, body, _ = await client.post("/webhooks/web", [signed("d-1")], {"x-token": TOKEN})
    assert (status, body["status"]) == (200, "stored")
    assert (await slow)[:2] == (408, {"status": "body_timeout", "message": "the request body did not arrive in time"})


async def test_a_request_finding_every_slot_freshly_taken_is_answered_503(store: Store) -> None:
    client = Client(store, WebhookLimits(max_in_flight=1, body_timeout_seconds=3600, evict_after_seconds=3600))
    slow = asyncio.create_task(client.post("/webhooks/web", [b'{"deliv'], {"x-token": TOKEN}, stall=True))
    await asyncio.sleep(0.05)
    status, body, _ = await client.post("/webhooks/web", [signed("d-1")], {"x-token": TOKEN})
    assert (status, body["status"]) == (503, "busy")
    slow.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await slow


async def test_an_unknown_channel_is_refused_without_reading_the_body(store: Store) -> None:
    client = Client(store)
    status, body, _ = await client.post("/webhooks/nope", [b"x" * 500], {"content-length": "500"})
    assert (status, body["status"], client.pulled) == (404, "unknown_channel", 0)


def test_refusals_are_logged_once_per_reason_per_interval_with_a_count() -> None:
    now = [0.0]
    lines: list[tuple[str, int]] = []
    log = RefusalLog(60.0, clock=lambda: now[0], emit=lambda reason, count: lines.append((reason, count)))
    for _ in range(10_000):
        log.note("too_large")
    log.note("head_timeout")
    assert lines == [("too_large", 1), ("head_timeout", 1)]
    now[0] = 61.0
    log.note("too_large")
    assert lines[-1] == ("too_large", 10_000)  # the 9,999 held back and this one
    log.note("too_large")
    log.flush()
    assert lines[-1] == ("too_large", 1)
    assert log.totals == {"too_large": 10_002, "head_timeout": 1}
