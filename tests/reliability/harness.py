"""Worlds for the reliability tests: the demo merchant on the Shopify and Square emulators, over real HTTP.

* :func:`local_world` — everything in the test's event loop (emulators, receiver, engine), like the demo; one
  channel can be left unreachable (its base URL points at a port nobody listens on).
* :class:`EmulatorThread` — both emulators served from an event loop of their own in a daemon thread, so they
  keep running (and keep retrying undelivered webhooks) while the test kills and restarts omnibridge processes.

Both use the demo's profile writer, catalog and opening stock (:mod:`omnibridge.demo.world`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from connectors.shopify.emulator import ShopifyEmulator, ShopifyEmulatorConfig
from connectors.square.emulator import SquareEmulator, SquareEmulatorConfig
from omnibridge.config import load_profile
from omnibridge.demo import world
from omnibridge.models import InventoryPosition, RecordedMovement
from omnibridge.sdk.emulator import WebhookKnobs, free_port, run_server
from omnibridge.store import Store, open_store
from omnibridge.sync import SyncEngine, build_channels, receiver_app
from omnibridge.testing.agreement import DEMO_SKUS
from omnibridge.testing.agreement import Mismatch as Mismatch  # the checks, shared with bench
from omnibridge.testing.agreement import disagreements as disagreements

T = TypeVar("T")
WEB, POS = world.WEB, world.POS
SKUS = DEMO_SKUS


@dataclass(frozen=True)
class Knobs:
    """Emulator settings for one test (defaults: no latency, generous limits)."""

    shopify_bucket_size: float = 2000.0
    shopify_restore_rate: float = 100.0
    square_requests_per_second: float = 50.0
    square_burst: int = 50
    latency_ms: tuple[float, float] = (0.0, 0.0)
    webhook_retry_backoff_s: float = 0.05
    webhook_max_attempts: int = 8


@dataclass
class Emulators:
    shopify: ShopifyEmulator
    square: SquareEmulator
    shopify_location: dict[str, str]
    """Profile location id -> Shopify location gid."""
    square_location: dict[str, str]
    """Profile location id -> Square location id."""

    def shows(self, channel: str, sku: str, location_id: str) -> int:
        if channel == WEB:
            return self.shopify.available(sku, self.shopify_location[location_id])
        return self.square.quantity(sku, self.square_location[location_id])


def make_emulators(receiver_url: str, knobs: Knobs) -> Emulators:
    """Both emulators, seeded like the demo (Square without drift), sending webhooks to ``receiver_url``."""
    shopify = ShopifyEmulator(
        ShopifyEmulatorConfig(
            shop="alpine-outfitters-demo",
            access_token=world.SHOPIFY_TOKEN,
            api_secret=world.SHOPIFY_SECRET,
            bucket_size=knobs.shopify_bucket_size,
            restore_rate=knobs.shopify_restore_rate,
            latency_ms=knobs.latency_ms,
            webhook_url=f"{receiver_url}/webhooks/{WEB}",
        )
    )
    square = SquareEmulator(
        SquareEmulatorConfig(
            access_token=world.SQUARE_TOKEN,
            signature_key=world.SQUARE_SIGNATURE_KEY,
            notification_url=f"{receiver_url}/webhooks/{POS}",
            requests_per_second=knobs.square_requests_per_second,
            burst=knobs.square_burst,
            latency_ms=knobs.latency_ms,
        ),
        webhook_knobs=WebhookKnobs(),
    )
    for sender in (shopify.webhooks, square.webhooks):
        sender.knobs.retry_backoff_s = knobs.webhook_retry_backoff_s
        sender.knobs.max_attempts = knobs.webhook_max_attempts
    return Emulators(shopify, square, world.seed_shopify(shopify), world.seed_square(square, drifted_every=0))


def write_profile(workdir: Path, *, shopify_url: str, square_url: str, receiver_url: str) -> Path:
    """The demo's merchant profile (SQLite store ``omnibridge.db`` beside it) and its opening ledger."""
    profile = world.write_profile(
        workdir,
        shopify_url=shopify_url,
        square_url=square_url,
        receiver_url=receiver_url,
        settings=world.DemoSettings(),
    )
    with open_store(load_profile(profile).store_url) as store:
        world.seed_ledger(store)
    return profile


@dataclass
class LocalWorld:
    """An in-process world: ``engine`` over ``store``, the receiver at ``receiver_url``."""

    store: Store
    engine: SyncEngine
    emulators: Emulators
    receiver_url: str
    profile: Path

    @property
    def shopify(self) -> ShopifyEmulator:
        return self.emulators.shopify

    @property
    def square(self) -> SquareEmulator:
        return self.emulators.square

    async def settle(self, timeout: float = 30.0) -> None:
        """Wait for every queued webhook and apply the inbox, until a pass applies nothing (echoes included)."""
        for _ in range(20):
            await self.shopify.webhooks.drain(timeout=timeout)
            await self.square.webhooks.drain(timeout=timeout)
            processed = 0
            while done := await self.engine.process_pending():
                processed += done
            if not processed:
                return
        raise AssertionError("the world did not settle: deliveries kept coming")

    async def converge(self, timeout: float = 60.0) -> None:
        """Let the engine flush SKUs left dirty by a throttled or failed channel once its back-off ends."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self.engine.dirty:
            assert asyncio.get_running_loop().time() < deadline, f"still dirty: {sorted(self.engine.dirty)[:5]}"
            await asyncio.sleep(0.2)
            await self.engine.flush()
        await self.settle()


@contextlib.asynccontextmanager
async def local_world(
    workdir: Path,
    knobs: Knobs | None = None,
    *,
    pos_down: bool = False,
    clock: Callable[[], float] = time.monotonic,
) -> AsyncIterator[LocalWorld]:
    """Emulators, receiver and engine in the running loop; with ``pos_down`` nothing listens at Square's URL;
    ``clock`` is the engine's monotonic clock (backoffs, grace periods)."""
    knobs = knobs or Knobs()
    shopify_port, square_port, receiver_port = free_port(), free_port(), free_port()
    receiver_url = f"http://127.0.0.1:{receiver_port}"
    emulators = make_emulators(receiver_url, knobs)
    profile = write_profile(
        workdir,
        shopify_url=f"http://127.0.0.1:{shopify_port}",
        square_url=f"http://127.0.0.1:{square_port}",
        receiver_url=receiver_url,
    )
    with open_store(load_profile(profile).store_url) as store:
        engine = SyncEngine(store, build_channels(load_profile(profile)), clock=clock)
        try:
            async with contextlib.AsyncExitStack() as stack:
                await stack.enter_async_context(run_server(emulators.shopify.app, port=shopify_port))
                if not pos_down:
                    await stack.enter_async_context(run_server(emulators.square.app, port=square_port))
                await stack.enter_async_context(run_server(receiver_app(engine), port=receiver_port))
                yield LocalWorld(store, engine, emulators, receiver_url, profile)
        finally:
            await engine.aclose()
            await emulators.shopify.webhooks.aclose()
            await emulators.square.webhooks.aclose()


# -- checks ----------------------------------------------------------------------------------------------------


def all_movements(store: Store) -> list[RecordedMovement]:
    return [recorded for sku in SKUS for recorded in store.movements(sku)]


def ledger_state(store: Store) -> dict[tuple[str, str], InventoryPosition]:
    return {(sku, position.location_id): position for sku in SKUS for position in store.positions(sku)}


def order_movements(store: Store, channel: str, order_refs: Iterable[str]) -> dict[str, list[RecordedMovement]]:
    """Each of ``order_refs`` -> the movements of ``channel`` referencing one of that order's lines."""
    prefixes = {f"{channel}:order:{ref}:": ref for ref in order_refs}
    grouped: dict[str, list[RecordedMovement]] = {ref: [] for ref in prefixes.values()}
    for recorded in all_movements(store):
        reference = recorded.movement.reference or ""
        if recorded.movement.source != channel or not reference.startswith(f"{channel}:order:"):
            continue
        for prefix, ref in prefixes.items():
            if reference.startswith(prefix):
                grouped[ref].append(recorded)
    return grouped


# -- emulators in a thread --------------------------------------------------------------------------------------


@dataclass
class EmulatorThread:
    """Both emulators served by uvicorn from an event loop in a daemon thread (see the module docstring).

    Use :meth:`call` to run anything that touches an emulator (scripted actions schedule webhook tasks on the
    loop, and the state is only consistent from inside it).
    """

    receiver_url: str
    knobs: Knobs = field(default_factory=Knobs)
    shopify_port: int = field(default_factory=free_port)
    square_port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        self.emulators = make_emulators(self.receiver_url, self.knobs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="emulators", daemon=True)

    @property
    def shopify_url(self) -> str:
        return f"http://127.0.0.1:{self.shopify_port}"

    @property
    def square_url(self) -> str:
        return f"http://127.0.0.1:{self.square_port}"

    def _run(self) -> None:
        async def serve() -> None:
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            try:
                async with (
                    run_server(self.emulators.shopify.app, port=self.shopify_port),
                    run_server(self.emulators.square.app, port=self.square_port),
                ):
                    self._ready.set()
                    await self._stop.wait()
            finally:
                await self.emulators.shopify.webhooks.aclose()
                await self.emulators.square.webhooks.aclose()

        try:
            asyncio.run(serve())
        except BaseException as exc:  # reported to the test by start()
            self._failure = exc
            self._ready.set()

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(30) or self._failure is not None:
            raise RuntimeError(f"emulators did not start: {self._failure!r}")

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def call(self, action: Callable[[], T], timeout: float = 30.0) -> T:
        """Run ``action()`` on the emulators' loop and return its result."""
        assert self._loop is not None

        async def run() -> T:
            return action()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout)

    def drain(self, timeout: float = 60.0) -> None:
        """Wait until every queued webhook was delivered or given up."""
        assert self._loop is not None

        async def both() -> None:
            await self.emulators.shopify.webhooks.drain(timeout=timeout)
            await self.emulators.square.webhooks.drain(timeout=timeout)

        asyncio.run_coroutine_threadsafe(both(), self._loop).result(timeout * 2 + 5)

    def deliveries(self) -> dict[str, list[dict[str, Any]]]:
        """Every webhook record of each channel, as plain data (ids, delivered, gave_up, attempts)."""

        def snapshot() -> dict[str, list[dict[str, Any]]]:
            return {
                channel: [
                    {
                        "key": record.event_id or record.delivery_id,
                        "sha256": hashlib.sha256(record.body).hexdigest(),
                        "topic": record.topic,
                        "delivered": record.delivered,
                        "gave_up": record.gave_up,
                        "attempts": [attempt.status for attempt in record.attempts],
                    }
                    for record in sender.deliveries
                ]
                for channel, sender in ((WEB, self.emulators.shopify.webhooks), (POS, self.emulators.square.webhooks))
            }

        return self.call(snapshot)


@contextlib.contextmanager
def emulator_thread(receiver_url: str, knobs: Knobs | None = None) -> Iterator[EmulatorThread]:
    running = EmulatorThread(receiver_url, knobs or Knobs())
    running.start()
    try:
        yield running
    finally:
        running.stop()
