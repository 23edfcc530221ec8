"""The daemon: one process, one event loop — the HTTP server, the schedule and the single worker.

Before anything else, :func:`run_daemon` takes the store's daemon lock (:mod:`omnibridge.store.daemon_lock`): one
daemon per store, and a second one is refused before it opens the store.

Lifecycle (:meth:`Daemon.serve`):

1. bind the listening socket (a port in use is a clear error, before anything else starts);
2. serve the ASGI app (:mod:`omnibridge.daemon.app`) with uvicorn in this event loop: webhooks are stored and
   acknowledged from the first moment, even while the worker catches up;
3. start the worker: resolve every channel's locations, run one read-back (catch-up after downtime), then the
   pending inbox, then serve deliveries and queued jobs one at a time;
4. start the APScheduler schedule (jobs only enqueue) and, while a channel's locations are unresolved, retry
   them with exponential backoff (1 s doubling to 5 min) — the other channels go on meanwhile.

Carrier channels (e.g. ``connector: easypost``) are not synced by the engine: a
:class:`~omnibridge.shipping.runtime.CarrierRuntime` receives their webhooks, the worker applies them to shipments'
tracking, and a ``tracking_refresh`` job per carrier channel polls the shipments still on their way.

Shutdown, on SIGTERM or SIGINT: ``/readyz`` turns 503, the server stops accepting connections and finishes the
requests in flight, the schedule stops, the worker finishes its pass or job in flight and stops (after
``stop_timeout_seconds`` the pass is cancelled — as safe as a crash, which the inbox and the outbox are built
for); deliveries not yet processed stay ``pending`` in the inbox (the next start resumes them). Connectors are
closed by the caller (:func:`run_daemon`) along with the store. A second signal exits at once (code 128 + signal
number); nothing acknowledged is lost even then, because every acknowledgement follows a commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from structlog.stdlib import BoundLogger

from omnibridge.config import load_profile
from omnibridge.daemon.app import daemon_app
from omnibridge.daemon.jobs import JobRunner
from omnibridge.daemon.order_api import order_api
from omnibridge.daemon.schedule import RESOLVE_LOCATIONS, Job, JobQueue, ScheduleOptions, build_scheduler
from omnibridge.daemon.state import DaemonState
from omnibridge.daemon.telemetry import DaemonMetrics, inbox_stats
from omnibridge.daemon.worker import Worker
from omnibridge.errors import OmnibridgeError
from omnibridge.logs import get_logger
from omnibridge.routing.service import RoutingService
from omnibridge.routing.setup import service_for_profile
from omnibridge.shipping.runtime import CarrierRuntime
from omnibridge.store import open_store
from omnibridge.store.daemon_lock import daemon_lock
from omnibridge.sync import SyncEngine, build_channels
from omnibridge.sync.engine import DAEMON_FETCH_WAIT

HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def log() -> BoundLogger:
    return get_logger("omnibridge.daemon")


@dataclass(frozen=True)
class DaemonOptions:
    host: str = "127.0.0.1"
    port: int = 8800
    poll_seconds: float = 60.0
    readback_minutes: float = 15.0
    tracking_minutes: float = 30.0
    """Refresh the tracking of carrier channels' shipments not yet delivered or cancelled this often."""
    verify_minutes: float = 60.0
    """Run the ledger's consistency check (``omnibridge verify``) this often; inconsistencies become incidents."""
    idle_seconds: float = 1.0
    """The worker looks at the inbox at least this often, even when no delivery woke it."""
    graceful_seconds: int = 10
    """How long the server waits for requests in flight when stopping."""
    stop_timeout_seconds: float = 30.0
    """How long a stop waits for the pass or job in flight before cancelling it (it is then resumed at the next
    start, exactly as after a crash: deliveries stay pending, writes left pending are abandoned and re-planned)."""
    resolve_retry_max_seconds: float = 300.0
    order_api: bool = False
    """Serve the order routing API (``/api/orders/...``: accept, reject, explain). It has no access control yet."""

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise OmnibridgeError(f"--port {self.port}: expected a TCP port between 1 and 65535")
        if min(self.poll_seconds, self.readback_minutes, self.tracking_minutes, self.verify_minutes) <= 0:
            raise OmnibridgeError(
                "--poll-seconds, --readback-minutes, --tracking-minutes and --verify-minutes must be greater than 0"
            )


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: the daemon owns SIGTERM/SIGINT and tells the server when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``; a clear :class:`OmnibridgeError` when it cannot be had."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise OmnibridgeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise OmnibridgeError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc} (is another omnibridge already running? "
            "choose another --port)"
        ) from None
    sock.setblocking(False)
    return sock


class Daemon:
    """Runs one engine (and the carrier channels, when given) as a service until a signal (or
    :meth:`request_stop`) stops it."""

    def __init__(
        self,
        engine: SyncEngine,
        options: DaemonOptions,
        carriers: CarrierRuntime | None = None,
        routing: RoutingService | None = None,
    ) -> None:
        self.engine = engine
        self.options = options
        self.carriers = carriers if carriers is not None else CarrierRuntime(engine.store, [])
        self.state = DaemonState(tuple(engine.channels), carriers=tuple(self.carriers.channels))
        self.metrics = DaemonMetrics()
        self.worker: Worker
        self.queue = JobQueue(
            on_enqueue=lambda _job: self.worker.wake(),
            on_coalesced=lambda job: self.metrics.jobs_coalesced.inc(job=job.kind),
        )
        self.runner = JobRunner(engine, self.state, self.metrics, self.carriers)
        self.worker = Worker(
            engine, self.queue, self.runner, self.metrics, idle_seconds=options.idle_seconds, carriers=self.carriers
        )
        self.app = daemon_app(
            engine,
            self.state,
            self.metrics,
            on_stored=self.worker.wake,
            queue_depth=lambda: len(self.queue),
            carriers=self.carriers,
            orders=order_api(routing) if options.order_api and routing is not None else None,
        )
        self._stop = asyncio.Event()
        self._signals = 0
        self.server: _Server | None = None

    def request_stop(self, reason: str = "requested") -> None:
        if not self._stop.is_set():
            log().info("daemon.stopping", reason=reason)
        self.state.stopping = True
        self._stop.set()

    def _on_signal(self, signum: int) -> None:
        self._signals += 1
        name = signal.Signals(signum).name
        if self._signals > 1:
            log().warning("daemon.exit_now", signal=name, note="second signal: unprocessed inbox entries stay pending")
            os._exit(128 + signum)
        self.request_stop(name)

    async def serve(self) -> None:
        """Serve until stopped (see the module docstring); returns after a graceful shutdown."""
        loop = asyncio.get_running_loop()
        # APScheduler logs every tick at INFO; the daemon logs what its jobs did instead.
        scheduler_log = logging.getLogger("apscheduler")
        scheduler_log.setLevel(max(logging.WARNING, logging.getLogger().getEffectiveLevel()))
        sock = bind_socket(self.options.host, self.options.port)
        for sig in HANDLED_SIGNALS:
            loop.add_signal_handler(sig, self._on_signal, sig)
        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=self.options.graceful_seconds,
        )
        self.server = server = _Server(config)
        server_task = loop.create_task(server.serve(sockets=[sock]), name="omnibridge-http")
        worker_task = loop.create_task(self.worker.run(), name="omnibridge-worker")
        scheduler = build_scheduler(
            self.queue,
            self.engine.channels.values(),
            ScheduleOptions(
                poll_seconds=self.options.poll_seconds,
                readback_minutes=self.options.readback_minutes,
                tracking_minutes=self.options.tracking_minutes,
                verify_minutes=self.options.verify_minutes,
            ),
            carriers=self.carriers.channels,
        )
        scheduler.start()
        retry_task = loop.create_task(self._retry_resolution(), name="omnibridge-resolve-retry")
        log().info(
            "daemon.started",
            host=self.options.host,
            port=self.options.port,
            channels=sorted(self.engine.channels),
            carriers=sorted(self.carriers.channels),
            poll_seconds=self.options.poll_seconds,
            readback_minutes=self.options.readback_minutes,
            jobs=[job.id for job in scheduler.get_jobs()],
        )
        stop_task = loop.create_task(self._stop.wait())
        try:
            done, _ = await asyncio.wait({stop_task, server_task, worker_task}, return_when=asyncio.FIRST_COMPLETED)
            for task in done - {stop_task}:
                # the server or the worker ended on its own: stop everything, and say why
                error = task.exception()
                self.request_stop(f"{task.get_name()} ended" + (f": {error}" if error else ""))
        finally:
            self.state.stopping = True
            server.should_exit = True
            scheduler.shutdown(wait=False)
            self.worker.stop()
            retry_task.cancel()
            stop_task.cancel()
            await self._finish(worker_task)
            results = await asyncio.gather(worker_task, server_task, retry_task, return_exceptions=True)
            for sig in HANDLED_SIGNALS:
                loop.remove_signal_handler(sig)
            sock.close()
        for result in results[:2]:
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                raise result

    async def _finish(self, worker_task: asyncio.Task[None]) -> None:
        """Wait for the worker's pass in flight; past the stop timeout, cancel it."""
        done, _ = await asyncio.wait({worker_task}, timeout=self.options.stop_timeout_seconds)
        if not done:
            log().warning(
                "daemon.stop_timeout",
                seconds=self.options.stop_timeout_seconds,
                note="cancelled the pass in flight; its deliveries stay pending and are resumed at the next start",
            )
            worker_task.cancel()

    async def _retry_resolution(self) -> None:
        """While a channel's locations are unresolved, queue a resolution with exponential backoff."""
        delay = 1.0
        while True:
            await asyncio.sleep(delay)
            if not self.state.catch_up_done:
                continue
            if not self.state.unresolved:
                return
            self.queue.enqueue(Job(RESOLVE_LOCATIONS))
            delay = min(delay * 2, self.options.resolve_retry_max_seconds)


async def run_daemon(profile: Path, options: DaemonOptions) -> None:
    """Load ``profile``, take the store's daemon lock (a second daemon on the same store is refused with
    :class:`~omnibridge.errors.StoreInUseError`), open the store, build its channels and serve until stopped;
    closes everything after."""
    loaded = load_profile(profile)
    with daemon_lock(loaded.store_url), open_store(loaded.store_url) as store:
        for location in loaded.locations:
            store.upsert_location(location)
        channels = build_channels(loaded)
        if not channels:
            raise OmnibridgeError(
                f"{loaded.path}: no enabled sales channel to sync; add one under 'channels' (see docs/configuration.md)"
            )
        carriers = CarrierRuntime.for_profile(store, loaded)
        routing = service_for_profile(store, loaded)
        engine = SyncEngine(
            store,
            channels,
            policy=loaded.availability,
            fetch_wait=DAEMON_FETCH_WAIT,
            foreign_channels=carriers.channels,
            placer=routing if loaded.routing.enabled else None,
        )
        try:
            await Daemon(engine, options, carriers, routing).serve()
        finally:
            await engine.aclose()
            await carriers.aclose()
        log().info("daemon.stopped", inbox_pending=inbox_stats(store).pending)
