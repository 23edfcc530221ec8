"""Slow-loris against the daemon's real HTTP server (uvicorn on a loopback port, the daemon's settings): many
connections that never finish their request head or trickle their body do not starve a signed webhook or
``/healthz``, and the server never holds more connections than its cap."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from daemon.fakes import TOKEN, FakeConnector, runtime

from omnibridge.daemon.app import daemon_app
from omnibridge.daemon.http_guard import ServerLimits, server_config
from omnibridge.daemon.state import DaemonState
from omnibridge.daemon.telemetry import DaemonMetrics
from omnibridge.models import Location, LocationType
from omnibridge.store import open_store
from omnibridge.sync import SyncEngine
from omnibridge.sync.webhook_limits import RefusalLog, WebhookLimits

pytestmark = pytest.mark.anyio
CAP = 40
SLOW_HEADS = 120
SLOW_BODIES = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def serving(app: object, limits: ServerLimits, refusals: RefusalLog) -> AsyncIterator[uvicorn.Server]:
    port = free_port()
    config = server_config(app, limits, refusals, host="127.0.0.1", port=port, lifespan="off", log_config=None)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield server
    finally:
        server.should_exit = True
        await task


async def open_slow(port: int, head: bytes) -> asyncio.StreamWriter | None:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return None
    writer.write(head)
    return writer


async def test_slow_connections_do_not_starve_a_signed_webhook_or_healthz(tmp_path: Path) -> None:
    refusals = RefusalLog()
    with open_store(f"sqlite:///{tmp_path / 'omnibridge.db'}") as store:
        store.upsert_location(Location(id="wh", name="Warehouse", type=LocationType.WAREHOUSE))
        engine = SyncEngine(store, [runtime("web", FakeConnector(["W1"]), {"W1": "wh"}, webhooks=True)])
        app = daemon_app(
            engine,
            DaemonState(("web",)),
            DaemonMetrics(),
            on_stored=lambda: None,
            limits=WebhookLimits(body_timeout_seconds=60, max_in_flight=8, slot_wait_seconds=60),
            refusals=refusals,
        )
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
