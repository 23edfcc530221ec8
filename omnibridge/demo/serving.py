"""Serve the demo's apps on sockets bound before anything is configured, so no port can be taken in between.

:func:`omnibridge.sdk.emulator.free_port` answers a port that is free *now*; with six servers, and tests of other
suites starting servers on the same machine, one of them is sometimes taken before uvicorn binds it. The demo
binds every socket first (the OS picks the ports), writes the URLs into the emulators and the profile, then hands
each bound socket to uvicorn.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn

HOST = "127.0.0.1"


def bind_sockets(names: tuple[str, ...]) -> dict[str, socket.socket]:
    """One listening-ready TCP socket on ``127.0.0.1`` per name, each on a port the OS picked."""
    sockets: dict[str, socket.socket] = {}
    try:
        for name in names:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets[name] = sock
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((HOST, 0))
    except OSError:
        for sock in sockets.values():
            sock.close()
        raise
    return sockets


def url_of(sock: socket.socket) -> str:
    return f"http://{HOST}:{sock.getsockname()[1]}"


@contextlib.asynccontextmanager
async def serve(app: Any, sock: socket.socket) -> AsyncIterator[None]:
    """Serve ``app`` on the bound ``sock`` for the duration of the block (the socket is closed after)."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # re-raise why it could not start
                raise RuntimeError(f"server on {url_of(sock)} stopped before it started")
            await asyncio.sleep(0.01)
        yield
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sock.close()
