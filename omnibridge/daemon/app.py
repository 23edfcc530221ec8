"""The daemon's HTTP surface: the webhook receiver plus ``/healthz``, ``/readyz`` and ``/metrics``.

* ``POST /webhooks/{channel}`` (and ``GET /health``) — :func:`omnibridge.sync.receiver_app` unchanged: a delivery
  is acknowledged only after it is committed to the inbox (a carrier channel's by the carrier runtime, every other
  one by the engine). The daemon only watches the answers, to count them and to wake its worker when a delivery
  was stored.
* ``GET /healthz`` — 200 while the process serves requests (liveness).
* ``GET /readyz`` — 200 when the store answers and every channel's locations are resolved; otherwise 503. A
  channel whose webhooks are all being rejected (:data:`~omnibridge.daemon.state.WEBHOOK_REJECT_LIMIT` in a row,
  none accepted since: a wrong signing secret, or forged deliveries) is a warning, never unreadiness. Anyone gets
  the states (each channel ``not_tried``, ``ok`` or ``failed``); an operator
  (:func:`~omnibridge.daemon.operators.is_operator`) also gets ``failed: <why>``, ``reasons`` saying what is
  missing and ``warnings`` (they name the database and quote vendors' errors).
* The store calls of the webhooks, ``/readyz`` and ``/metrics`` run in bounded pools of threads
  (:class:`~omnibridge.sync.offload.StoreThreads`; the operations endpoints have their own), never on the event
  loop.
* ``GET /metrics`` — Prometheus text exposition format 0.0.4 (see docs/operations.md for every metric); open, or
  behind a viewer token when ``metrics_token`` is set (``omnibridge run --metrics-token``).
* ``/api/...`` — the admin API (:mod:`omnibridge.daemon.api`), every route behind a bearer token with a role
  (:mod:`omnibridge.daemon.auth`). Webhook routes never take a token: they are authenticated by signature.
* ``/console/...`` — the operator console (:mod:`omnibridge.console`, docs/console.md): HTML pages behind a
  sign-in with an API token.
* ``/api/orders/{order}/accept|reject|routing`` — order routing (:mod:`omnibridge.daemon.order_api`), served when
  the profile routes orders, behind the same tokens (operator to act, viewer to read).
* ``/api/pickups`` and ``/api/pickups/{id}/ready|collected|reject`` — pickups and staff actions
  (:mod:`omnibridge.daemon.pickup_api`), behind the same tokens.
* ``/api/returns...`` — returns (:mod:`omnibridge.daemon.returns_api`), behind the same tokens.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from omnibridge.access import Role
from omnibridge.console.web import is_console_path
from omnibridge.daemon.api import api_app
from omnibridge.daemon.auth import refusal, with_store
from omnibridge.daemon.metrics import CONTENT_TYPE
from omnibridge.daemon.operators import is_operator
from omnibridge.daemon.order_api import is_order_routing_path
from omnibridge.daemon.pickup_api import is_pickup_path
from omnibridge.daemon.returns_api import is_returns_path, returns_api
from omnibridge.daemon.state import DaemonState, public_readiness, readiness_given, store_answers
from omnibridge.daemon.telemetry import DaemonMetrics
from omnibridge.pickup.desk import PickupDesk
from omnibridge.shipping.runtime import CarrierRuntime
from omnibridge.sync import SyncEngine, receiver_app
from omnibridge.sync.offload import StoreThreads
from omnibridge.sync.webhook_limits import RefusalLog, WebhookLimits

OPS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
WEBHOOK_PREFIX = "/webhooks/"
API_PREFIX = "/api/"
_BODY_LIMIT = 4096
OPS_THREADS = 2
"""Threads of the operations endpoints' own pool, so a flood of webhooks waiting for the store never delays them."""

_STATUS_BY_CODE = {401: "rejected", 404: "unknown_channel", 503: "unavailable"}


def _answer(body: bytes) -> dict[str, object]:
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def receipt_status(http_status: int, body: bytes) -> str:
    """The receiver's receipt status (``stored``, ``duplicate``, ``rejected``...) from its answer."""
    status = _answer(body).get("status")
    return status if isinstance(status, str) else _STATUS_BY_CODE.get(http_status, f"http_{http_status}")


def receipt_message(body: bytes) -> str:
    """The receiver's message (why a delivery was rejected), or an empty string."""
    message = _answer(body).get("message")
    return message if isinstance(message, str) else ""


class WebhookObserver:
    """ASGI middleware around the receiver: counts each answer, tells ``state`` (when given) which channel's
    delivery was accepted or rejected, and calls ``on_stored`` after a stored delivery.

    The channel label is the path's channel when the profile has it, else ``unknown`` (so forged paths cannot
    create unbounded metric series).
    """

    def __init__(
        self,
        app: ASGIApp,
        metrics: DaemonMetrics,
        channels: frozenset[str],
        on_stored: Callable[[], None],
        state: DaemonState | None = None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.channels = channels
        self.on_stored = on_stored
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not path.startswith(WEBHOOK_PREFIX):
            await self.app(scope, receive, send)
            return
        name = path.removeprefix(WEBHOOK_PREFIX).strip("/")
        channel = name if name in self.channels else "unknown"
        started = time.perf_counter()
        status_code = 0
        body = bytearray()

        async def capture(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = int(message["status"])
            elif message["type"] == "http.response.body" and len(body) < _BODY_LIMIT:
                body.extend(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, capture)
        status = receipt_status(status_code, bytes(body))
        self.metrics.record_webhook(channel, status, time.perf_counter() - started)
        if self.state is not None:
            self.state.webhook_answered(channel, status, receipt_message(bytes(body)))
        if status == "stored":
            self.on_stored()


def ops_app(
    engine: SyncEngine,
    state: DaemonState,
    metrics: DaemonMetrics,
    queue_depth: Callable[[], int],
    carriers: CarrierRuntime | None = None,
    metrics_token: bool = False,
    refusals: RefusalLog | None = None,
    threads: StoreThreads | None = None,
) -> Starlette:
    """The operations endpoints alone (``/healthz``, ``/readyz``, ``/metrics``); ``metrics_token``: ``/metrics``
    needs a token of the viewer role or above; their store calls run in ``threads`` (a pool of its own when
    None)."""
    pool = threads if threads is not None else StoreThreads(OPS_THREADS)

    scraping = asyncio.Lock()  # one scrape at a time: each observes the writes landed since the previous one

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> JSONResponse:
        ready, body = readiness_given(state, await pool.run(store_answers, engine.store))
        if not await pool.run(is_operator, request):
            body = public_readiness(body)
        return JSONResponse(body, status_code=200 if ready else 503)

    async def metrics_endpoint(request: Request) -> Response:
        refused = await refusal(request, Role.VIEWER) if metrics_token else None
        if refused is not None:
            return refused
        if refusals is not None:
            metrics.count_refusals(refusals.totals)
        async with scraping:
            try:
                ready, _body = readiness_given(state, await pool.run(store_answers, engine.store))
                reads = await pool.run(metrics.read_store, engine.store)
                metrics.collect(engine, state, ready=ready, queue_depth=queue_depth(), carriers=carriers, reads=reads)
            except Exception as exc:  # the store is down: still export what is in memory
                metrics.ready.set(0)
                return Response(
                    metrics.registry.render() + f"# collect failed: {type(exc).__name__}\n", media_type=CONTENT_TYPE
                )
        return Response(metrics.registry.render(), media_type=CONTENT_TYPE)

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
        ]
    )


def daemon_app(
    engine: SyncEngine,
    state: DaemonState,
    metrics: DaemonMetrics,
    *,
    on_stored: Callable[[], None],
    queue_depth: Callable[[], int] = lambda: 0,
    carriers: CarrierRuntime | None = None,
    metrics_token: bool = False,
    orders: ASGIApp | None = None,
    limits: WebhookLimits | None = None,
    pickups: ASGIApp | None = None,
    refusals: RefusalLog | None = None,
    pickup: PickupDesk | None = None,
    console: ASGIApp | None = None,
) -> ASGIApp:
    """The whole ASGI app the daemon serves (see the module docstring); ``carriers`` receives the deliveries of
    carrier channels; ``metrics_token`` puts ``/metrics`` behind a viewer token; ``orders`` (when given) serves
    the order routing routes (:mod:`omnibridge.daemon.order_api`), ``pickups`` the pickup routes
    (:mod:`omnibridge.daemon.pickup_api`); ``limits`` and ``refusals`` are the webhook port's
    (:mod:`omnibridge.sync.webhook_limits`); ``pickup`` answers ``/api/pickup-options``; ``console`` (when given)
    serves ``/console`` (:mod:`omnibridge.console`). The operations endpoints never wait behind webhook requests."""
    refusals = refusals if refusals is not None else RefusalLog()
    threads = StoreThreads()
    ops = ops_app(engine, state, metrics, queue_depth, carriers, metrics_token, refusals, StoreThreads(OPS_THREADS))
    api = api_app(engine.store, on_requeued=on_stored, pickup=pickup)
    channels = frozenset(engine.channels) | frozenset(carriers or ())
    receiver = receiver_app(engine, carriers, limits=limits, refusals=refusals, threads=threads)
    returns = returns_api(
        engine.store,
        [channel.id for channel in engine.channels.values() if not channel.stock_source],
        lambda: [location.id for location in engine.store.list_locations()],
    )
    webhooks = WebhookObserver(receiver, metrics, channels, on_stored, state)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] == "http" and path in OPS_PATHS:
            await ops(scope, receive, send)
        elif console is not None and scope["type"] == "http" and is_console_path(path):
            await console(scope, receive, send)
        elif orders is not None and scope["type"] == "http" and is_order_routing_path(path):
            await orders(scope, receive, send)
        elif pickups is not None and scope["type"] == "http" and is_pickup_path(path):
            await pickups(scope, receive, send)
        elif scope["type"] == "http" and is_returns_path(path):
            await returns(scope, receive, send)
        elif scope["type"] == "http" and (path.startswith(API_PREFIX) or path == API_PREFIX.rstrip("/")):
            await api(scope, receive, send)
        else:
            await webhooks(scope, receive, send)

    return with_store(app, engine.store)
