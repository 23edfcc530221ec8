"""The webhook receiver: an ASGI app with one endpoint per channel, ``POST /webhooks/{channel}``.

It answers 200 only after the delivery is stored (or recognised as a duplicate), 401 for a forged or unsigned
delivery, 404 for a channel the profile does not have and 503 when the store is unavailable, so the vendor
retries exactly the deliveries that were not kept. Deliveries for a carrier channel go to ``carriers`` (a
:class:`~omnibridge.shipping.runtime.CarrierRuntime`, same answers), every other one to the sync engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from omnibridge.sync.engine import SyncEngine

if TYPE_CHECKING:
    from omnibridge.shipping.runtime import CarrierRuntime


def receiver_app(engine: SyncEngine, carriers: CarrierRuntime | None = None) -> Starlette:
    async def webhook(request: Request) -> JSONResponse:
        channel = request.path_params["channel"]
        body = await request.body()
        target = carriers if carriers is not None and channel in carriers else engine
        receipt = target.receive(channel, body, dict(request.headers), str(request.url))
        return JSONResponse({"status": receipt.status, "message": receipt.message}, status_code=receipt.http_status)

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "channels": sorted([*engine.channels, *(carriers or ())])})

    return Starlette(
        routes=[Route("/webhooks/{channel}", webhook, methods=["POST"]), Route("/health", health, methods=["GET"])]
    )
