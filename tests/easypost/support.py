"""Helpers for the EasyPost tests: a stepping clock, an emulator with a connector wired to it, a webhook sink."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from support import ManualMonotonic

from connectors.easypost.client import EasyPostConnector
from connectors.easypost.emulator import EasyPostEmulator, EasyPostEmulatorConfig
from connectors.easypost.emulator.inprocess import connect

API_KEY = "EZTKtest0000000000000000"
SECRET = "whsec-test"
HOOK_URL = "https://hooks.example.com/omnibridge/easypost"


class SteppingClock:
    """Wall clock that moves one minute forward on every reading (distinct tracking timestamps)."""

    def __init__(self, start: datetime = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


@dataclass
class Sink:
    """An ASGI webhook endpoint that records every delivery (headers, raw body)."""

    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            self.received.append((dict(request.headers), await request.body()))
            return Response(status_code=200)

        return Starlette(routes=[Route("/omnibridge/easypost", hook, methods=["POST"])])


@dataclass
class Rig:
    emu: EasyPostEmulator
    connector: EasyPostConnector
    sink: Sink
    mono: ManualMonotonic


def make_rig(*, secret: str = SECRET, max_attempts: int = 3) -> Rig:
    sink = Sink()
    mono = ManualMonotonic()
    emu = EasyPostEmulator(
        EasyPostEmulatorConfig(api_key=API_KEY, webhook_secret=secret, webhook_url=HOOK_URL),
        SteppingClock(),
        monotonic=mono,
        webhook_transport=httpx.ASGITransport(app=sink.app()),
    )
    return Rig(emu, connect(emu, max_attempts=max_attempts), sink, mono)
