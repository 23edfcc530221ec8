"""Refused and aborted requests are logged once per reason per interval with a count, never a line (or a
traceback) each: requests aborted mid-body against the real server, uvicorn's per-request warnings and the event
loop's accept failures when descriptors run out."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from omnibridge.daemon.http_guard import ServerLimits, accept_error_handler, quiet_uvicorn
from omnibridge.sync.webhook_limits import RefusalLog

from .server_support import daemon_world, serving

pytestmark = pytest.mark.anyio


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_requests_aborted_mid_body_give_one_line_and_no_traceback(tmp_path: Path) -> None:
    lines: list[tuple[str, int]] = []
    refusals = RefusalLog(emit=lambda reason, count: lines.append((reason, count)))
    captured = Records()
    uvicorn_log = logging.getLogger("uvicorn.error")
    uvicorn_log.addHandler(captured)
    try:
        with daemon_world(tmp_path, refusals) as (app, _):
            async with serving(app, ServerLimits(), refusals) as server:
                for _ in range(50):
                    _, writer = await asyncio.open_connection("127.0.0.1", server.config.port)
                    writer.write(b'POST /webhooks/web HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n{"delivery"')
                    await writer.drain()
                    writer.close()
                for _ in range(200):
                    if refusals.totals["client_disconnected"] == 50:
                        break
                    await asyncio.sleep(0.02)
    finally:
        uvicorn_log.removeHandler(captured)
    assert refusals.totals["client_disconnected"] == 50
    assert lines == [("client_disconnected", 1)]  # the other 49 wait for the next interval's line
    assert [record for record in captured.records if record.exc_info] == []


def test_uvicorn_warnings_and_accept_failures_are_rate_limited() -> None:
    lines: list[tuple[str, int]] = []
    refusals = RefusalLog(emit=lambda reason, count: lines.append((reason, count)))
    captured = Records()
    uvicorn_log = logging.getLogger("uvicorn.error")
    uvicorn_log.addHandler(captured)
    undo = quiet_uvicorn(refusals)
    try:
        for _ in range(1000):
            uvicorn_log.warning("Invalid HTTP request received.")
        uvicorn_log.warning("Started server process")
    finally:
        undo()
        uvicorn_log.removeHandler(captured)
    assert [record.getMessage() for record in captured.records] == ["Started server process"]

    loop = asyncio.new_event_loop()
    try:
        handle = accept_error_handler(refusals)
        for _ in range(1000):
            handle(loop, {"message": "socket.accept() out of system resource", "exception": OSError(24, "EMFILE")})
    finally:
        loop.close()
    assert lines == [("invalid_http", 1), ("accept_failed", 1)]
    assert (refusals.totals["invalid_http"], refusals.totals["accept_failed"]) == (1000, 1000)
