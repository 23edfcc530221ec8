"""Serve an ASGI app (an emulator, or omnibridge's webhook receiver) on a local port with uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import uvicorn

__all__ = ["RunningServer", "free_port", "run_server", "serve_forever"]


@dataclass
class RunningServer:
    """A server started by :func:`run_server`; ``url`` has no trailing slash."""

    url: str
    port: int
    server: uvicorn.Server
    task: asyncio.Task[None]

    async def stop(self) -> None:
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def run_server(app: Any, *, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[RunningServer]:
    """Run ``app`` in the current event loop for the duration of the ``async with`` block."""
    chosen = port or free_port(host)
    config = uvicorn.Config(app, host=host, port=chosen, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # re-raise why it could not start (port taken...)
            raise RuntimeError(f"server on {host}:{chosen} stopped before it started")
        await asyncio.sleep(0.01)
    running = RunningServer(f"http://{host}:{chosen}", chosen, server, task)
    try:
        yield running
    finally:
        await running.stop()


def serve_forever(app: Any, *, host: str = "127.0.0.1", port: int) -> None:
    """Block serving ``app`` until interrupted (Ctrl-C)."""
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False, lifespan="off")
