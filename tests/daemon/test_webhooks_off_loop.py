"""Receiving a webhook never waits behind other work on the event loop: the inbox write runs in a worker thread.

The store is real (SQLite and PostgreSQL); an SQLAlchemy cursor hook holds the inbox insert at the exact point
the database would be slow (or fails it), so the tests see what the event loop does meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from omnibridge.daemon.app import daemon_app
from omnibridge.daemon.state import DaemonState
from omnibridge.daemon.telemetry import DaemonMetrics
from omnibridge.models import Location, LocationType
from omnibridge.store import InboxStatus, Store
from omnibridge.sync import SyncEngine
from omnibridge.sync.offload import StoreThreads

from .fakes import TOKEN, FakeConnector, runtime

pytestmark = pytest.mark.anyio

HANG_GUARD = 20.0
"""Seconds a held insert waits before going on by itself, so a regression fails the test instead of hanging it."""


@dataclass
class Served:
    client: httpx.AsyncClient
    engine: SyncEngine
    woken: list[int]


@pytest.fixture
async def served(store: Store) -> AsyncIterator[Served]:
    store.upsert_location(Location(id="wh", name="Warehouse", type=LocationType.WAREHOUSE))
    engine = SyncEngine(store, [runtime("web", FakeConnector(["W1"]), {"W1": "wh"}, webhooks=True)])
    woken: list[int] = []
    app = daemon_app(engine, DaemonState(tuple(engine.channels)), DaemonMetrics(), on_stored=lambda: woken.append(1))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://daemon") as client:
        yield Served(client, engine, woken)


@contextmanager
def on_statement(store: Store, starts: str, call: Any) -> Iterator[None]:
    """Call ``call()`` in the thread that is about to run a statement starting with ``starts`` (case-insensitive)."""

    def hook(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if " ".join(statement.split()).upper().startswith(starts.upper()):
            call()

    sa.event.listen(store.engine, "before_cursor_execute", hook)
    try:
        yield
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", hook)


def inbox_insert(store: Store, call: Any) -> Any:
    """:func:`on_statement` for the insert of a delivery into the inbox."""
    return on_statement(store, "INSERT INTO webhook_inbox", call)


async def post(client: httpx.AsyncClient, delivery_id: str) -> httpx.Response:
    body = json.dumps({"delivery": delivery_id}).encode()
    return await client.post("/webhooks/web", content=body, headers={"x-token": TOKEN})


async def test_the_loop_serves_other_requests_while_a_delivery_is_being_stored(served: Served) -> None:
    reached, release = threading.Event(), threading.Event()

    def slow_database() -> None:
        if not reached.is_set():  # the first insert only
            reached.set()
            release.wait(HANG_GUARD)

    store = served.engine.store
    with inbox_insert(store, slow_database):
        answer = asyncio.ensure_future(post(served.client, "d1"))
        assert await anyio.to_thread.run_sync(reached.wait, HANG_GUARD)
        # the insert is held in its thread: the loop still answers, and the delivery is not acknowledged yet
        health = await served.client.get("/healthz")
        ready = await served.client.get("/readyz")
        forged = await served.client.post("/webhooks/web", content=b"{}", headers={"x-token": "forged"})
        assert (health.status_code, ready.json()["store"], forged.status_code) == (200, "ok", 401)
        assert not answer.done()
        assert store.inbox() == []
        assert served.woken == []
        release.set()
        held = await answer
        assert (held.status_code, held.json()["status"]) == (200, "stored")
        other = await post(served.client, "d2")
    assert (other.status_code, other.json()["status"]) == (200, "stored")
    assert [entry.delivery.delivery_id for entry in store.inbox(status=InboxStatus.PENDING)] == ["d1", "d2"]
    assert served.woken == [1, 1]
    again = await post(served.client, "d1")
    assert (again.status_code, again.json()["status"]) == (200, "duplicate")  # still exactly once
    assert len(store.inbox()) == 2


async def test_webhooks_are_answered_while_a_scrape_waits_for_the_store(served: Served) -> None:
    reached, release = threading.Event(), threading.Event()

    def slow_database() -> None:
        if not reached.is_set():
            reached.set()
            release.wait(HANG_GUARD)

    with on_statement(
        served.engine.store, "SELECT webhook_inbox.channel, webhook_inbox.status, count(*)", slow_database
    ):
        scrape = asyncio.ensure_future(served.client.get("/metrics"))
        assert await anyio.to_thread.run_sync(reached.wait, HANG_GUARD)
        stored = await post(served.client, "d1")
        assert (stored.status_code, stored.json()["status"]) == (200, "stored")
        assert (await served.client.get("/healthz")).status_code == 200
        assert not scrape.done()
        release.set()
        metrics = await scrape
    assert metrics.status_code == 200
    assert "omnibridge_inbox_pending" in metrics.text


async def test_a_delivery_whose_write_fails_is_not_acknowledged_and_its_retry_is_stored_once(served: Served) -> None:
    def failing_database() -> None:
        raise OperationalError("INSERT INTO webhook_inbox", {}, Exception("disk I/O error"))

    store = served.engine.store
    with inbox_insert(store, failing_database):
        failed = await post(served.client, "d1")
    assert failed.status_code == 503
    assert failed.json() == {"status": "unavailable", "message": "could not store the delivery; send it again"}
    assert store.inbox() == []
    assert served.woken == []

    retried = await post(served.client, "d1")  # the vendor sends it again
    assert (retried.status_code, retried.json()["status"]) == (200, "stored")
    assert [entry.delivery.delivery_id for entry in store.inbox(status=InboxStatus.PENDING)] == ["d1"]
    assert served.woken == [1]


async def test_the_store_threads_are_bounded() -> None:
    threads = StoreThreads(2)
    release = threading.Event()
    lock = threading.Lock()
    running: list[int] = []
    most = 0

    def store_call() -> None:
        nonlocal most
        with lock:
            running.append(1)
            most = max(most, len(running))
        release.wait(HANG_GUARD)
        with lock:
            running.pop()

    calls = [asyncio.ensure_future(threads.run(store_call)) for _ in range(6)]
    while True:  # until two calls are in their threads
        with lock:
            if len(running) == 2:
                break
        await asyncio.sleep(0)
    assert threads.limiter.borrowed_tokens == 2
    assert threads.limiter.statistics().tasks_waiting == 4  # the flood waits for a thread; none is spawned for it
    release.set()
    await asyncio.gather(*calls)
    assert most == 2
