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
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import uvicorn
from structlog.stdlib import BoundLogger

from omnibridge.config import LoadedProfile, load_profile
from omnibridge.config.schema import PrivacySection
from omnibridge.console import ConsoleContext, console_app
from omnibridge.console.api_calls import ApiCallLog
from omnibridge.daemon.app import daemon_app
from omnibridge.daemon.gil import DAEMON_SWITCH_INTERVAL, switch_interval
from omnibridge.daemon.http_guard import ServerLimits, accept_error_handler, quiet_uvicorn, server_config
from omnibridge.daemon.jobs import JobRunner
from omnibridge.daemon.order_api import order_api
from omnibridge.daemon.pickup_api import pickup_api
from omnibridge.daemon.schedule import RESOLVE_LOCATIONS, Job, JobQueue, ScheduleOptions, build_scheduler
from omnibridge.daemon.state import DaemonState
from omnibridge.daemon.telemetry import DaemonMetrics, inbox_stats
from omnibridge.daemon.worker import Worker
from omnibridge.errors import OmnibridgeError
from omnibridge.fulfilment.dispatcher import Dispatcher
from omnibridge.fulfilment.setup import dispatcher_for_profile
from omnibridge.logs import get_logger
from omnibridge.pickup.desk import PickupDesk
from omnibridge.pickup.settings import PickupSettings, pickup_states
from omnibridge.pickup.staff import PickupService
from omnibridge.returns.service import ReturnService
from omnibridge.routing.service import RoutingService
from omnibridge.routing.setup import service_for_profile
from omnibridge.shipping.runtime import CarrierRuntime
from omnibridge.store import open_store
from omnibridge.store.daemon_lock import daemon_lock
from omnibridge.sync import SyncEngine, build_channels
from omnibridge.sync.engine import DAEMON_FETCH_WAIT
from omnibridge.sync.webhook_limits import RefusalLog, WebhookLimits

if TYPE_CHECKING:
    from omnibridge.replicas.worker import ReplicaWorker

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
    fulfilment_seconds: float = 5.0
    """Run the fulfilment dispatcher (assign, submit, confirm, re-route) this often."""
    idle_seconds: float = 1.0
    """The worker looks at the inbox at least this often, even when no delivery woke it."""
    graceful_seconds: int = 10
    """How long the server waits for requests in flight when stopping."""
    stop_timeout_seconds: float = 30.0
    """How long a stop waits for the pass or job in flight before cancelling it (it is then resumed at the next
    start, exactly as after a crash: deliveries stay pending, writes left pending are abandoned and re-planned)."""
    resolve_retry_max_seconds: float = 300.0
    metrics_token: bool = False
    """``/metrics`` needs an API token of the viewer role or above (default: open, as before)."""
    webhook_limits: WebhookLimits = field(default_factory=WebhookLimits)
    """Webhook body size, body timeout, requests in flight (docs/security.md)."""
    server_limits: ServerLimits = field(default_factory=ServerLimits)
    """Open connections, request-head timeout, keep-alive (docs/security.md)."""
    privacy: PrivacySection = field(default_factory=PrivacySection)
    """Retention of raw webhook bodies and personal data (the profile's ``privacy:`` section)."""
    privacy_minutes: float = 60.0
    """Act on open privacy requests (data requests, redactions) this often."""
    privacy_dir: Path | None = None
    """Where data-request exports are written (None: ``privacy-exports/`` next to the profile)."""
    warehouse_dir: Path | None = None
    """Where the warehouse export writes (None: no warehouse export; from the profile's ``warehouse:``)."""
    warehouse_minutes: float = 60.0
    """How often the warehouse export runs."""
    replica: bool = False
    """One of several daemons on one PostgreSQL (``--replica``, :mod:`omnibridge.replicas`): no daemon lock; a
    procrastinate worker instead of the in-process worker and APScheduler schedule."""
    switch_interval_seconds: float = DAEMON_SWITCH_INTERVAL
    """How long a thread may run Python before another waiting for the GIL gets it, while the daemon serves
    (:mod:`omnibridge.daemon.gil`: a store call waits less for the GIL between its statements)."""

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise OmnibridgeError(f"--port {self.port}: expected a TCP port between 1 and 65535")
        intervals = (self.poll_seconds, self.readback_minutes, self.tracking_minutes, self.verify_minutes)
        if min(*intervals, self.fulfilment_seconds) <= 0:
            raise OmnibridgeError(
                "--poll-seconds, --readback-minutes, --tracking-minutes, --verify-minutes and --fulfilment-seconds "
                "must be greater than 0"
            )
        if not self.switch_interval_seconds > 0:
            raise OmnibridgeError(
                f"switch_interval_seconds {self.switch_interval_seconds!r}: expected seconds greater than 0"
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
        dispatcher: Dispatcher | None = None,
        pickup: PickupSettings | None = None,
        pickup_desk: PickupDesk | None = None,
        profile: LoadedProfile | None = None,
    ) -> None:
        self.engine = engine
        self.dispatcher = dispatcher
        self.options = options
        self.carriers = carriers if carriers is not None else CarrierRuntime(engine.store, [])
        self.state = DaemonState(tuple(engine.channels), carriers=tuple(self.carriers.channels))
        self.metrics = DaemonMetrics()
        self.refusals = RefusalLog()
        """Refused and aborted HTTP requests, logged once per reason per interval."""
        self.calls = ApiCallLog(engine.store)
        """Vendor API calls per minute and the latest ones, for the console (installed while serving)."""
        self.worker: Worker
        self.queue = JobQueue(
            on_enqueue=lambda _job: self.worker.wake(),
            on_coalesced=lambda job: self.metrics.jobs_coalesced.inc(job=job.kind),
        )
        if dispatcher is not None:
            dispatcher.register_metrics(self.metrics.registry)
        self.runner = JobRunner(
            engine,
            self.state,
            self.metrics,
            self.carriers,
            dispatcher,
            privacy=options.privacy,
            privacy_dir=options.privacy_dir,
            pickup=pickup,
            warehouse_dir=options.warehouse_dir,
        )
        self.worker = Worker(
            engine, self.queue, self.runner, self.metrics, idle_seconds=options.idle_seconds, carriers=self.carriers
        )
        pickups = PickupService(engine.store, pickup or PickupSettings(), routing)
        returns = ReturnService(
            engine.store,
            locations=[location.id for location in engine.store.list_locations()],
            channels=[channel.id for channel in engine.channels.values() if not channel.stock_source],
        )
        console = ConsoleContext(
            engine.store, profile, routing, self.worker.wake, options.poll_seconds, self.calls, pickups, returns
        )
        self.app = daemon_app(
            engine,
            self.state,
            self.metrics,
            on_stored=self._on_stored,
            queue_depth=lambda: len(self.queue),
            carriers=self.carriers,
            orders=order_api(routing) if routing is not None else None,
            metrics_token=options.metrics_token,
            limits=options.webhook_limits,
            refusals=self.refusals,
            pickup=pickup_desk,
            pickups=pickup_api(pickups),
            console=console_app(console),
        )
        self.replica: ReplicaWorker | None = None
        """Set by :meth:`serve` with ``options.replica``."""
        self._stop = asyncio.Event()
        self._signals = 0
        self.server: _Server | None = None

    def _on_stored(self) -> None:
        (self.replica or self.worker).wake()

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
        config = server_config(
            self.app,
            self.options.server_limits,
            self.refusals,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=self.options.graceful_seconds,
        )
        loud_uvicorn = quiet_uvicorn(self.refusals)
        loop.set_exception_handler(accept_error_handler(self.refusals))
        self.server = server = _Server(config)
        server_task = loop.create_task(server.serve(sockets=[sock]), name="omnibridge-http")
        options = self._schedule_options()
        if self.options.replica:
            await self._serve_replica(server, server_task, sock, options, loud_uvicorn)
            return
        worker_task = loop.create_task(self.worker.run(), name="omnibridge-worker")
        scheduler = build_scheduler(
            self.queue,
            self.engine.channels.values(),
            options,
            carriers=self.carriers.channels,
            fulfilment=self.dispatcher is not None,
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

        async def finish() -> None:
            scheduler.shutdown(wait=False)
            self.worker.stop()
            retry_task.cancel()
            await self._finish(worker_task)
            await asyncio.gather(retry_task, return_exceptions=True)

        await self._until_stopped(server, sock, loud_uvicorn, (worker_task, server_task), finish)

    def _schedule_options(self) -> ScheduleOptions:
        return ScheduleOptions(
            poll_seconds=self.options.poll_seconds,
            readback_minutes=self.options.readback_minutes,
            tracking_minutes=self.options.tracking_minutes,
            verify_minutes=self.options.verify_minutes,
            fulfilment_seconds=self.options.fulfilment_seconds,
            privacy_minutes=self.options.privacy_minutes if self.options.privacy_dir else None,
            warehouse_minutes=self.options.warehouse_minutes if self.options.warehouse_dir else None,
        )

    async def _serve_replica(
        self,
        server: _Server,
        server_task: asyncio.Task[None],
        sock: socket.socket,
        schedule: ScheduleOptions,
        loud_uvicorn: Callable[[], None],
    ) -> None:
        """Serve as one replica (:mod:`omnibridge.replicas`) until stopped: the HTTP server as usual, and a
        procrastinate worker in place of the in-process worker and the schedule."""
        from omnibridge.replicas.app import build_app
        from omnibridge.replicas.tasks import ReplicaContext, ReplicaSettings, register, scheduled_jobs
        from omnibridge.replicas.worker import ReplicaWorker

        loop = asyncio.get_running_loop()
        app = build_app(str(self.engine.store.engine.url.render_as_string(hide_password=False)))
        ctx = ReplicaContext(self.engine, self.runner, self.carriers, ReplicaSettings())
        jobs = scheduled_jobs(
            self.engine, schedule, carriers=self.carriers.channels, fulfilment=self.dispatcher is not None
        )
        register(app, ctx, jobs)
        self.replica = ReplicaWorker(app, ctx)
        replica_task = loop.create_task(self.replica.run(self._stop), name="omnibridge-replica")
        log().info(
            "daemon.started",
            host=self.options.host,
            port=self.options.port,
            replica=self.replica.name,
            channels=sorted(self.engine.channels),
            jobs=sorted(job.key for job in jobs),
        )

        async def finish() -> None:
            done, _ = await asyncio.wait({replica_task}, timeout=self.options.stop_timeout_seconds)
            if not done:
                replica_task.cancel()

        await self._until_stopped(server, sock, loud_uvicorn, (replica_task, server_task), finish)

    async def _until_stopped(
        self,
        server: _Server,
        sock: socket.socket,
        loud_uvicorn: Callable[[], None],
        watched: tuple[asyncio.Task[None], ...],
        finish: Callable[[], Awaitable[None]],
    ) -> None:
        """Serve until a stop is requested or one of ``watched`` (the server's task among them) ends on its own, which
        stops everything and says why. Then ``/readyz`` turns 503, the server stops accepting, ``finish`` stops the
        rest and waits for it, and the signal handlers, the socket and the logs are put back; a failure of one of
        ``watched`` is raised, in their order."""
        loop = asyncio.get_running_loop()
        stop_counting = self.calls.install()
        stop_task = loop.create_task(self._stop.wait())
        try:
            done, _ = await asyncio.wait({stop_task, *watched}, return_when=asyncio.FIRST_COMPLETED)
            for task in done - {stop_task}:
                error = task.exception()
                self.request_stop(f"{task.get_name()} ended" + (f": {error}" if error else ""))
        finally:
            self.state.stopping = True
            server.should_exit = True
            stop_task.cancel()
            await finish()
            results = await asyncio.gather(*watched, return_exceptions=True)
            for sig in HANDLED_SIGNALS:
                loop.remove_signal_handler(sig)
            sock.close()
            loud_uvicorn()
            loop.set_exception_handler(None)
            self.refusals.flush()
            stop_counting()
            await asyncio.to_thread(self.calls.flush)
        for result in results:
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


def with_profile_limits(options: DaemonOptions, profile: LoadedProfile) -> DaemonOptions:
    """``options`` with the HTTP port's limits of ``profile`` (its ``server:`` section and each channel's
    ``webhooks.max_body_bytes``)."""
    server = profile.server
    webhooks = WebhookLimits(
        max_body_bytes=options.webhook_limits.max_body_bytes,
        per_channel={channel.id: channel.webhooks.max_body_bytes for channel in profile.channels},
        body_timeout_seconds=server.body_timeout_seconds,
        max_in_flight=server.max_in_flight,
        evict_after_seconds=options.webhook_limits.evict_after_seconds,
    )
    limits = ServerLimits(server.max_connections, server.head_timeout_seconds, server.keep_alive_seconds)
    warehouse = profile.warehouse
    folder = (profile.path.parent / warehouse.directory) if warehouse.directory else options.warehouse_dir
    return replace(
        options,
        webhook_limits=webhooks,
        server_limits=limits,
        warehouse_dir=folder,
        warehouse_minutes=warehouse.interval_minutes,
    )


async def run_daemon(profile: Path, options: DaemonOptions) -> None:
    """Load ``profile``, take the store's daemon lock (a second daemon on the same store is refused with
    :class:`~omnibridge.errors.StoreInUseError`), open the store, build its channels and serve until stopped;
    closes everything after."""
    loaded = load_profile(profile)
    options = with_profile_limits(options, loaded)
    if options.replica:
        from omnibridge.replicas.app import replica_url_error

        error = replica_url_error(loaded.store_url)
        if error is not None:
            raise OmnibridgeError(f"{loaded.path}: {error}")
    lock = contextlib.nullcontext() if options.replica else daemon_lock(loaded.store_url)
    with switch_interval(options.switch_interval_seconds), lock, open_store(loaded.store_url) as store:
        for location in loaded.locations:
            store.upsert_location(location)
        # Replicas share each channel's vendor budget through the store; a lone daemon keeps its own (env switch).
        channels = build_channels(loaded, store, shared_budgets=True if options.replica else None)
        if not channels:
            raise OmnibridgeError(
                f"{loaded.path}: no enabled sales channel to sync; add one under 'channels' (see docs/configuration.md)"
            )
        carriers = CarrierRuntime.for_profile(store, loaded)
        routing = service_for_profile(store, loaded)
        pickup = PickupSettings.from_profile(loaded, pickup_states(channels))
        engine = SyncEngine(
            store,
            channels,
            policy=loaded.availability,
            fetch_wait=DAEMON_FETCH_WAIT,
            foreign_channels=carriers.channels,
            placer=routing if loaded.routing.enabled else None,
            pickup=pickup,
        )
        dispatcher, providers = dispatcher_for_profile(store, loaded, engine.channels.values(), rerouter=routing)
        try:
            privacy_dir = options.privacy_dir or loaded.path.parent / "privacy-exports"
            await Daemon(
                engine,
                replace(options, privacy=loaded.privacy, privacy_dir=privacy_dir),
                carriers,
                routing if loaded.routing.enabled else None,
                dispatcher,
                pickup,
                PickupDesk.for_profile(store, loaded),
                profile=loaded,
            ).serve()
        finally:
            await engine.aclose()
            await carriers.aclose()
            for provider in providers:
                await provider.connector.aclose()
        log().info("daemon.stopped", inbox_pending=inbox_stats(store).pending)
