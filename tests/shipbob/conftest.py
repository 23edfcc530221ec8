"""Shared fixtures for the ShipBob tests: an emulator on a fake clock and a connector wired to it in process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.shipbob.client import ShipBobConnector
from connectors.shipbob.emulator import ShipBobEmulator, ShipBobEmulatorConfig
from connectors.shipbob.emulator.inprocess import connect
from omnibridge.sdk.channel import ShipTo
from omnibridge.sdk.emulator import RequestRecorder
from omnibridge.sdk.fulfilment import FulfilmentLine, FulfilmentRequest

START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CENTRE = 6


class FakeTime:
    """Monotonic seconds and wall time that move only when something sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def wall(self) -> datetime:
        return START + timedelta(seconds=self.now - 1000.0)

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    return tmp_path / "requests.jsonl"


@pytest.fixture
def emulator(fake_time: FakeTime, recorded: Path) -> ShipBobEmulator:
    emu = ShipBobEmulator(
        ShipBobEmulatorConfig(),
        clock=fake_time.wall,
        monotonic=fake_time,
        recorder=RequestRecorder("shipbob", recorded),
    )
    emu.set_stock("SKU-1", CENTRE, 10)
    return emu


@pytest.fixture
async def client(emulator: ShipBobEmulator, fake_time: FakeTime) -> AsyncIterator[ShipBobConnector]:
    connector = connect(emulator, sleep=fake_time.sleep, clock=fake_time)
    yield connector
    await connector.aclose()


def request(reference: str = "submit:a-1", *, location: str = str(CENTRE), quantity: int = 2) -> FulfilmentRequest:
    """A request for ``quantity`` x SKU-1 (order line ``shopify:1001:L1``) from ``location``."""
    return FulfilmentRequest(
        reference,
        "#1001",
        location,
        (FulfilmentLine("shopify:1001:L1", "SKU-1", quantity, "Blue shirt"),),
        ShipTo("US", "Ada Buyer", "1 Main St", "Apt 2", "Chicago", "IL", "60601", "555-0100"),
        START,
    )
