"""The daemon's app over a fake channel, served by uvicorn with the daemon's settings on a loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import uvicorn
from daemon.fakes import FakeConnector, runtime

from omnibridge.daemon.app import daemon_app
from omnibridge.daemon.http_guard import ServerLimits, server_config
from omnibridge.daemon.state import DaemonState
from omnibridge.daemon.telemetry import DaemonMetrics
from omnibridge.models import Location, LocationType
from omnibridge.store import Store, open_store
from omnibridge.sync import SyncEngine
from omnibridge.sync.webhook_limits import RefusalLog, WebhookLimits


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def daemon_world(
    tmp_path: Path, refusals: RefusalLog, limits: WebhookLimits | None = None
) -> Iterator[tuple[Any, Store]]:
    """The daemon's ASGI app with one webhook channel ``web`` (the fake's token signs), and its store."""
    with open_store(f"sqlite:///{tmp_path / 'omnibridge.db'}") as store:
        store.upsert_location(Location(id="wh", name="Warehouse", type=LocationType.WAREHOUSE))
        engine = SyncEngine(store, [runtime("web", FakeConnector(["W1"]), {"W1": "wh"}, webhooks=True)])
        state = DaemonState(("web",))
        yield (
            daemon_app(engine, state, DaemonMetrics(), on_stored=lambda: None, limits=limits, refusals=refusals),
            store,
        )


@contextlib.asynccontextmanager
async def serving(app: Any, limits: ServerLimits, refusals: RefusalLog) -> AsyncIterator[uvicorn.Server]:
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
