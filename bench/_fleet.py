"""A fleet for the scale benchmark: the demo merchant on the Shopify and Square emulators, a round-robin load
balancer, and N ``omnibridge run --replica`` processes (or one plain daemon) on one PostgreSQL schema.

The emulators and the balancer run on one event loop in a thread of the benchmark's process; the daemons are child
processes, so their CPU time is read from ``/proc``.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.shopify.emulator import ShopifyEmulator, ShopifyEmulatorConfig
from connectors.square.emulator import SquareEmulator, SquareEmulatorConfig
from omnibridge.demo import world
from omnibridge.sdk.emulator import WebhookKnobs, free_port, run_server
from omnibridge.store import Store
from omnibridge.testing import processes
from omnibridge.testing.agreement import DEMO_SKUS, Mismatch, disagreements
from omnibridge.testing.processes import run_command, start_process

T = TypeVar("T")
GUARD_S = 120.0
"""Only a guard against hangs."""
SKUS = DEMO_SKUS


@dataclass
class Daemon:
    """One daemon process on ``port`` (``--replica`` unless ``replica`` is False)."""

    profile: Path
    port: int
    replica: bool
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        command = run_command(self.profile, self.port, replica=self.replica)
        self.process = start_process(command, self.log, self.profile.parent)

    def wait_ready(self) -> None:
        assert self.process is not None
        processes.wait_ready(self.url, self.process, GUARD_S, self.log)

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process so far (Linux ``/proc``)."""
        assert self.process is not None
        return processes.cpu_seconds(self.process.pid)

    def stop(self) -> None:
        if self.alive:
            assert self.process is not None
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(GUARD_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(GUARD_S)


@dataclass
class Balancer:
    """Round-robin over the live daemons."""

    daemons: list[Daemon]
    _turn: Iterator[int] = field(default_factory=itertools.count)
    _client: httpx.AsyncClient | None = None

    async def forward(self, request: Request) -> Response:
        body = await request.body()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in {"host", "content-length"}}
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=10.0)
        start = next(self._turn)
        for step in range(len(self.daemons)):
            daemon = self.daemons[(start + step) % len(self.daemons)]
            if not daemon.alive:
                continue
            try:
                answer = await self._client.post(f"{daemon.url}{request.url.path}", content=body, headers=headers)
            except httpx.TransportError:
                continue
            return Response(answer.content, status_code=answer.status_code)
        return Response(b"no daemon", status_code=502)


class World:
    """The emulators and the balancer, served from one event loop in a thread."""

    def __init__(self, daemons: list[Daemon]) -> None:
        self.balancer_port, self.shopify_port, self.square_port = free_port(), free_port(), free_port()
        receiver = f"http://127.0.0.1:{self.balancer_port}"
        self.shopify = ShopifyEmulator(
            ShopifyEmulatorConfig(
                shop="alpine-outfitters-demo",
                access_token=world.SHOPIFY_TOKEN,
                api_secret=world.SHOPIFY_SECRET,
                webhook_url=f"{receiver}/webhooks/{world.WEB}",
            )
        )
        self.square = SquareEmulator(
            SquareEmulatorConfig(
                access_token=world.SQUARE_TOKEN,
                signature_key=world.SQUARE_SIGNATURE_KEY,
                notification_url=f"{receiver}/webhooks/{world.POS}",
            ),
            webhook_knobs=WebhookKnobs(),
        )
        for sender in (self.shopify.webhooks, self.square.webhooks):
            sender.knobs.retry_backoff_s = 0.05
            sender.knobs.max_attempts = 100
        self.shopify_location = world.seed_shopify(self.shopify)
        self.square_location = world.seed_square(self.square, drifted_every=0)
        self.balancer = Balancer(daemons)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _serve(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        balancer = Starlette(routes=[Route("/webhooks/{channel}", self.balancer.forward, methods=["POST"])])
        async with (
            run_server(self.shopify.app, port=self.shopify_port),
            run_server(self.square.app, port=self.square_port),
            run_server(balancer, port=self.balancer_port),
        ):
            self._ready.set()
            await self._stop.wait()
        await self.shopify.webhooks.aclose()
        await self.square.webhooks.aclose()

    def __enter__(self) -> World:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the emulators did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def call(self, action: Callable[[], T]) -> T:
        assert self._loop is not None

        async def run() -> T:
            return action()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(60)

    def write_profile(self, workdir: Path, store_url: str) -> Path:
        profile = world.write_profile(
            workdir,
            shopify_url=f"http://127.0.0.1:{self.shopify_port}",
            square_url=f"http://127.0.0.1:{self.square_port}",
            receiver_url=f"http://127.0.0.1:{self.balancer_port}",
            settings=world.DemoSettings(),
        )
        text = profile.read_text(encoding="utf-8")
        profile.write_text(re.sub(r"(?m)^  url: sqlite:.*$", f"  url: '{store_url}'", text, count=1), encoding="utf-8")
        return profile

    def sell(self, channel: str, location_id: str, sku: str) -> None:
        lines = [{"sku": sku, "quantity": 1}]
        if channel == world.POS:
            body: dict[str, Any] = {"location_id": self.square_location[location_id], "lines": lines}
            url = f"http://127.0.0.1:{self.square_port}/_emulator/pos-sale"
        else:
            body = {"location_id": self.shopify_location[location_id], "lines": lines}
            url = f"http://127.0.0.1:{self.shopify_port}/_emulator/orders"
        httpx.post(url, json=body, timeout=30.0).raise_for_status()

    def converged(self, store: Store) -> bool:
        """Every channel shows the ledger's projection at every position it shows."""
        return not self.disagreements(store, first_only=True)

    def shows(self, channel: str, sku: str, location_id: str) -> int:
        """What ``channel``'s emulator shows (call it on the emulators' loop, through :meth:`call`)."""
        if channel == world.WEB:
            return self.shopify.available(sku, self.shopify_location[location_id])
        return self.square.quantity(sku, self.square_location[location_id])

    def disagreements(self, store: Store, *, first_only: bool = False) -> list[Mismatch]:
        """Wherever a channel shows something other than the ledger's projection."""
        return self.call(lambda: disagreements(store, self, first_only=first_only))

    def refusals(self) -> dict[str, int]:
        """429/THROTTLED answers the emulators gave (vendor refusals) by channel, from their own counters."""
        return self.call(
            lambda: {
                world.WEB: int(self.shopify.calls.get("throttled", 0)),
                world.POS: int(self.square.calls.get("rate_limited", 0)),
            }
        )
