"""The webhook receiver: an ASGI app with one endpoint per channel, ``POST /webhooks/{channel}``.

It answers 200 only after the delivery is stored (or recognised as a duplicate, or kept as a dead letter because
it cannot be stored as received), 401 for a forged or unsigned delivery, 404 for a channel the profile does not
have and 503 when the store is unavailable, so the vendor retries exactly the deliveries that were not kept.
Deliveries for a carrier channel go to ``carriers`` (a :class:`~omnibridge.shipping.runtime.CarrierRuntime`, same
answers), every other one to the sync engine.

Before a body is read the request passes the port's limits (:mod:`omnibridge.sync.webhook_limits`): an unknown
channel is answered 404 without reading; a body over the channel's limit 413, one slower than the body timeout
408, and when too many webhook requests are in flight 503. Those answers close the connection; each refusal is
counted in ``refusals``, which logs one line per reason per interval.

Verifying and storing a delivery is a blocking store call. Given ``threads``
(:class:`~omnibridge.sync.offload.StoreThreads`, bounded) it runs in one of their worker threads, so an answer
never waits behind other work on the event loop and the loop never waits for the database; the daemon and the
demo world (so the benchmarks) pass them. :meth:`SyncEngine.receive` wakes :meth:`SyncEngine.run_worker` from
whichever thread it runs on (``call_soon_threadsafe`` onto the worker's loop). Without ``threads`` the call runs on
the event loop. The answer is the same either way: 200 only once the delivery is committed. Deliveries stored
on several threads at once are committed together, in one write turn (:mod:`omnibridge.store.admission`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from omnibridge.sync.engine import Receipt, SyncEngine
from omnibridge.sync.offload import StoreThreads
from omnibridge.sync.webhook_limits import RefusalLog, Refused, WebhookGate, WebhookLimits, read_body

if TYPE_CHECKING:
    from omnibridge.shipping.runtime import CarrierRuntime


def receiver_app(
    engine: SyncEngine,
    carriers: CarrierRuntime | None = None,
    *,
    limits: WebhookLimits | None = None,
    refusals: RefusalLog | None = None,
    threads: StoreThreads | None = None,
) -> Starlette:
    """The receiver over ``engine`` (and ``carriers``) with ``limits`` (the defaults when None); deliveries are
    stored in ``threads`` (on the event loop when None: see the module docstring)."""

    async def store(target: SyncEngine | CarrierRuntime, channel: str, body: bytes, request: Request) -> Receipt:
        headers, url = dict(request.headers), str(request.url)
        if threads is None:
            return target.receive(channel, body, headers, url)
        return await threads.run(target.receive, channel, body, headers, url)

    gate = WebhookGate(limits or WebhookLimits())
    log = refusals if refusals is not None else RefusalLog()

    def refused(error: Refused) -> Response:
        log.note(error.reason)
        return JSONResponse(
            {"status": error.reason, "message": error.message},
            status_code=error.status,
            headers={"connection": "close"},
        )

    async def webhook(request: Request) -> Response:
        channel = request.path_params["channel"]
        target = carriers if carriers is not None and channel in carriers else engine
        body = b""
        if target is not engine or channel in engine.channels:  # an unknown channel is answered 404 unread
            try:
                async with gate.slot() as slot, gate.reading(slot):
                    body = await read_body(request, gate.limits.body_limit(channel))
            except Refused as error:
                return refused(error)
        receipt = await store(target, channel, body, request)
        return JSONResponse({"status": receipt.status, "message": receipt.message}, status_code=receipt.http_status)

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "channels": sorted([*engine.channels, *(carriers or ())])})

    return Starlette(
        routes=[Route("/webhooks/{channel}", webhook, methods=["POST"]), Route("/health", health, methods=["GET"])]
    )
