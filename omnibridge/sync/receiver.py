"""The webhook receiver: an ASGI app with one endpoint per channel, ``POST /webhooks/{channel}``.

It answers 200 only after the delivery is stored (or recognised as a duplicate), 401 for a forged or unsigned
delivery, 404 for a channel the profile does not have and 503 when the store is unavailable, so the vendor
retries exactly the deliveries that were not kept.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from omnibridge.sync.engine import SyncEngine


def receiver_app(engine: SyncEngine) -> Starlette:
    async def webhook(request: Request) -> JSONResponse:
        body = await request.body()
        receipt = engine.receive(request.path_params["channel"], body, dict(request.headers), str(request.url))
        return JSONResponse({"status": receipt.status, "message": receipt.message}, status_code=receipt.http_status)

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "channels": sorted(engine.channels)})

    return Starlette(
        routes=[Route("/webhooks/{channel}", webhook, methods=["POST"]), Route("/health", health, methods=["GET"])]
    )
