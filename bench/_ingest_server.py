"""The server side of the ``ingest`` benchmark, run in its own process (``python -m bench._ingest_server``).

``receiver URL PORT PROFILE``: omnibridge's webhook receiver (:func:`omnibridge.sync.receiver.receiver_app`) over
the store at URL, for the channels of PROFILE. Only the receiver runs: no worker, so the inbox only grows.

``floor URL PORT``: the baseline, a trivial Starlette endpoint that commits one ``INSERT`` (unique key) into a bare
table per request, through an engine configured exactly like the store's (WAL, ``BEGIN IMMEDIATE`` on SQLite),
blocking the event loop for the commit as the receiver does.

``http URL PORT``: no database; answers 200 after reading the body (HTTP and the load generator alone).

All serve ``GET /health`` and ``POST /webhooks/{channel}`` with uvicorn (one process, one event loop, no access
log). With ``OMNIBRIDGE_BENCH_PROFILE=FILE`` the server runs under cProfile and writes its stats to FILE on exit.
"""

from __future__ import annotations

import cProfile
import os
import signal
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from omnibridge.config import load_profile
from omnibridge.store import open_store
from omnibridge.store.engine import create_store_engine, write_engine
from omnibridge.sync import SyncEngine, receiver_app

PROFILE_ENV = "OMNIBRIDGE_BENCH_PROFILE"


def floor_app(url: str) -> Starlette:
    engine = write_engine(create_store_engine(url))
    meta = sa.MetaData()
    table = sa.Table(
        "bench_floor",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(255), unique=True, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )
    meta.create_all(engine)
    insert = table.insert()

    async def webhook(request: Request) -> JSONResponse:
        body = await request.body()
        with engine.begin() as conn:
            conn.execute(insert, {"key": request.headers.get("x-shopify-event-id", ""), "body": body})
        return JSONResponse({"status": "stored", "message": ""})

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[Route("/webhooks/{channel}", webhook, methods=["POST"]), Route("/health", health, methods=["GET"])]
    )


def http_app() -> Starlette:
    """No database at all: what HTTP on loopback and the load generator cost by themselves."""

    async def webhook(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"status": "stored", "message": ""})

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[Route("/webhooks/{channel}", webhook, methods=["POST"]), Route("/health", health, methods=["GET"])]
    )


def build(argv: list[str]) -> Any:
    mode, url = argv[0], argv[1]
    if mode == "floor":
        return floor_app(url)
    if mode == "http":
        return http_app()
    profile = load_profile(Path(argv[3]))
    store = open_store(url)
    return receiver_app(SyncEngine.for_profile(store, profile))


def main(argv: list[str]) -> int:
    app = build(argv)
    port = int(argv[2])
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    target = os.environ.get(PROFILE_ENV)
    # uvicorn re-raises the SIGTERM it handled once it has shut down; end with a normal exit instead, so the
    # profile below is written.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if target:
        profiler = cProfile.Profile()
        profiler.enable()
        try:
            server.run()
        finally:
            profiler.disable()
            profiler.dump_stats(target)
    else:
        server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
