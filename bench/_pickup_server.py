"""The server side of the ``pickup`` benchmark, run in its own process (``python -m bench._pickup_server``).

``PROFILE PORT``: the daemon's admin API (:func:`omnibridge.daemon.api.api_app`, with the profile's
:class:`~omnibridge.pickup.desk.PickupDesk`, behind the same token check as in the daemon) over the profile's
store, served by uvicorn (one process, one event loop, no access log), plus ``GET /health`` to wait for it.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import uvicorn
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from omnibridge.config import load_profile
from omnibridge.daemon.api import api_app
from omnibridge.daemon.auth import with_store
from omnibridge.pickup.desk import PickupDesk
from omnibridge.store import open_store


def build(profile: Path) -> ASGIApp:
    loaded = load_profile(profile)
    store = open_store(loaded.store_url)
    api = with_store(api_app(store, pickup=PickupDesk.for_profile(store, loaded)), store)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") == "/health":
            await JSONResponse({"status": "ok"})(scope, receive, send)
            return
        await api(scope, receive, send)

    return app


def main(argv: list[str]) -> int:
    config = uvicorn.Config(
        build(Path(argv[0])), host="127.0.0.1", port=int(argv[1]), log_level="warning", access_log=False,
        lifespan="off",
    )  # fmt: skip
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
