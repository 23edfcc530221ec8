"""Test helpers shared across folders: a stand-in for the third-party ``acme-wms`` connector (for tests that must
not depend on it being installed), the type of the ``write`` fixture, and hand-moved clocks and a webhook
receiver for driving vendor emulators, the ticking clock of the ``clock`` fixture, and PostgreSQL schemas for tests."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, HttpUrl, SecretStr
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from omnibridge.sdk.metadata import Capability, ConnectorKind, ConnectorSpec
from omnibridge.sdk.registry import ConnectorRegistry, LoadFailure, RegisteredConnector

WriteFile = Callable[[str, str], Path]
"""``write(relative_path, text)`` from the ``write`` fixture in tests/conftest.py."""


class ManualClock:
    """Wall clock that only moves when told."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


class ManualMonotonic:
    """Monotonic seconds (for rate-limit buckets), moved by hand."""

    def __init__(self) -> None:
        self.value = 0.0

    def __call__(self) -> float:
        return self.value


@dataclass
class WebhookReceiver:
    """An ASGI endpoint that records every POST (headers, raw body), whatever its path, and answers ``statuses``
    in turn (then 200)."""

    statuses: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            self.received.append((dict(request.headers), await request.body()))
            return Response(status_code=self.statuses.pop(0) if self.statuses else 200)

        return Starlette(routes=[Route("/{path:path}", hook, methods=["POST"])])


class AcmeSettings(BaseModel):
    """The settings of the third-party ``acme-wms`` test connector, mirrored here to stay independent of it."""

    model_config = ConfigDict(extra="forbid")

    base_url: HttpUrl
    api_key: SecretStr
    warehouse_code: str


ACME = ConnectorSpec(
    id="acme-wms",
    label="ACME WMS",
    kind=ConnectorKind.ERP_WMS,
    settings_model=AcmeSettings,
    capabilities=frozenset({Capability.INVENTORY_READ, Capability.INVENTORY_WRITE}),
)


def acme_registry(*, broken: str = "brokenconn") -> ConnectorRegistry:
    """A registry with only ``acme-wms`` installed and one plugin named ``broken`` that failed to load."""
    return ConnectorRegistry(
        connectors={
            "acme-wms": RegisteredConnector(ACME, "omnibridge_acme:connector", "omnibridge-acme-connector", "0.1.0")
        },
        failures=[
            LoadFailure(broken, f"{broken}_pkg:spec", "broken-dist", f"ImportError: No module named '{broken}_pkg'")
        ],
    )


POSTGRES_ENV = "OMNIBRIDGE_TEST_POSTGRES_URL"


class TickingClock:
    """A clock for tests: starts at a fixed instant and moves 1 ms forward on every reading."""

    def __init__(self, start: datetime = datetime(2026, 1, 1, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


def postgres_base_url() -> str:
    """The test server's URL; skips the test when unset (fails in CI, where PostgreSQL is required)."""
    url = os.environ.get(POSTGRES_ENV)
    if url:
        return url
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required in CI: set {POSTGRES_ENV} (scripts/start-postgres.sh starts one)")
    pytest.skip(f"no PostgreSQL: set {POSTGRES_ENV} to run the PostgreSQL half of the store tests")


@contextmanager
def postgres_schema_url() -> Iterator[str]:
    """A URL whose connections use a fresh, empty schema; the schema is dropped on exit."""
    base = make_url(postgres_base_url())
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(base, poolclass=sa.NullPool)
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        admin.dispose()


@contextmanager
def serve_in_thread(*apps: object, ports: Sequence[int] = ()) -> Iterator[list[str]]:
    """Serve ``apps`` over HTTP on loopback ports (``ports`` in order, free ones otherwise) from one background
    thread's event loop, for a test process that is not async itself; yields their base URLs."""
    import asyncio
    import threading

    from omnibridge.sdk.emulator import run_server

    started, stop = threading.Event(), threading.Event()
    urls: list[str] = []
    failure: list[BaseException] = []

    async def serve() -> None:
        async with contextlib.AsyncExitStack() as stack:
            for index, app in enumerate(apps):
                running = await stack.enter_async_context(
                    run_server(app, port=ports[index] if index < len(ports) else 0)
                )
                urls.append(running.url)
            started.set()
            while not stop.is_set():
                await asyncio.sleep(0.01)

    def main() -> None:
        try:
            asyncio.run(serve())
        except BaseException as exc:  # reported to the test thread below
            failure.append(exc)
            started.set()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    started.wait(timeout=30)
    if failure:
        raise failure[0]
    try:
        yield urls
    finally:
        stop.set()
        thread.join(timeout=30)
