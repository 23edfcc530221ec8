"""Slow-loris against the daemon's real HTTP server (uvicorn on a loopback port, the daemon's settings): many
connections that never finish their request head or trickle their body do not starve a signed webhook or
``/healthz``, and the server never holds more connections than its cap."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from daemon.fakes import TOKEN

from omnibridge.daemon.http_guard import ServerLimits
from omnibridge.sync.webhook_limits import RefusalLog, WebhookLimits

from .server_support import daemon_world, serving

pytestmark = pytest.mark.anyio
CAP = 40
SLOW_HEADS = 120
SLOW_BODIES = 60


async def open_slow(port: int, head: bytes) -> asyncio.StreamWriter | None:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return None
    writer.write(head)
    return writer


async def test_slow_connections_do_not_starve_a_signed_webhook_or_healthz(tmp_path: Path) -> None:
    refusals = RefusalLog()
    limits_in_app = WebhookLimits(body_timeout_seconds=60, max_in_flight=8, evict_after_seconds=0.05)
    with daemon_world(tmp_path, refusals, limits_in_app) as (app, store):
        # timeouts far longer than the test: only the cap and the eviction can make room
        limits = ServerLimits(max_connections=CAP, head_timeout_seconds=60)
        async with serving(app, limits, refusals) as server:
            port = server.config.port
            slow: list[asyncio.StreamWriter | None] = []
            for n in range(SLOW_HEADS):  # a request head that never ends
                slow.append(await open_slow(port, b"POST /webhooks/web HTTP/1.1\r\nHost: x\r\nX-Slow: %d\r\n" % n))
            for _ in range(SLOW_BODIES):  # a whole head, then a body that trickles
                head = b"POST /webhooks/web HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + b"{" * 10
                slow.append(await open_slow(port, head))
            await asyncio.sleep(0.2)  # let the server take them all in
            assert len(server.server_state.connections) <= CAP

            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                health = await http.get("/healthz")
                body = json.dumps({"delivery": "signed-1"}).encode()
                webhook = await http.post("/webhooks/web", content=body, headers={"x-token": TOKEN})

            assert health.status_code == 200
            assert (webhook.status_code, webhook.json()["status"]) == (200, "stored")
            assert len(server.server_state.connections) <= CAP
            assert refusals.totals["connection_evicted"] > 0
            assert [entry.delivery.delivery_id for entry in store.inbox(channel="web")] == ["signed-1"]
            for writer in slow:
                if writer is not None:
                    writer.close()


async def test_a_request_head_trickled_byte_by_byte_is_cut_at_the_head_timeout(tmp_path: Path) -> None:
    refusals = RefusalLog()
    with daemon_world(tmp_path, refusals) as (app, _):
        async with serving(app, ServerLimits(head_timeout_seconds=0.3), refusals) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.config.port)

            async def trickle() -> None:
                for byte in b"POST /webhooks/web HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10_000:
                    writer.write(bytes([byte]))  # every byte resets uvicorn's own keep-alive timer
                    await asyncio.sleep(0.01)

            sender = asyncio.create_task(trickle())
            try:
                answer = await asyncio.wait_for(reader.read(), timeout=30)
            except ConnectionResetError:  # closed with unread bytes of ours still arriving: a reset, no answer
                answer = b""
            assert answer == b""  # closed by the server, no answer
            sender.cancel()
            writer.close()
            for _ in range(500):  # the server forgets the connection just after closing it
                if not server.server_state.connections:
                    break
                await asyncio.sleep(0.01)
            assert refusals.totals["head_timeout"] == 1
            assert len(server.server_state.connections) == 0
