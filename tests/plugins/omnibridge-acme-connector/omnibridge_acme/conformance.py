"""The ACME connector's conformance harness: the real connector (built by ``connector.factory``) against
:mod:`omnibridge_acme.emulator`, served on a local port.

``tests/conformance/test_acme.py`` runs omnibridge's standard suite on it::

    TestAcmeConformance = conformance_suite(AcmeHarness)
    TestAcmeAdjustConformance = conformance_suite(AcmeAdjustHarness)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Literal

from omnibridge.sdk.emulator import run_server
from omnibridge.testing import ConformanceHarness, ConformanceSession, EmulatorControl, MapperFixture
from omnibridge_acme import connector
from omnibridge_acme.emulator import AcmeEmulator, AcmeEmulatorConfig
from omnibridge_acme.mapper import StockLevel, map_stock_row, stock_update_body
from omnibridge_acme.settings import AcmeSettings

__all__ = ["AcmeAdjustHarness", "AcmeControl", "AcmeHarness"]

WAREHOUSE = "WH1"
LOCATION = "A-01"
API_KEY = "acme-conformance-key"  # the emulator's credential, not a real one


class AcmeControl(EmulatorControl):
    """The emulator's back door, as the suite needs it (inventory hooks and failure injection)."""

    def __init__(self, emulator: AcmeEmulator) -> None:
        self.emulator = emulator

    def refused_requests(self) -> int:
        return self.emulator.refused

    def api_requests(self) -> int:
        return self.emulator.api_requests

    def fail_next(self, status: int, *, count: int = 1) -> None:
        self.emulator.fail_next(status, count=count)

    def lose_next_response(self, *, count: int = 1) -> None:
        self.emulator.lose_next_response(count=count)

    def seed_stock(self, sku: str, location_ref: str, quantity: int) -> None:
        self.emulator.seed(sku, location_ref, quantity)

    def shown_stock(self, sku: str, location_ref: str) -> int:
        return self.emulator.quantity(sku, location_ref)


class AcmeHarness(ConformanceHarness):
    """ACME with absolute writes (``write_mode: set``)."""

    spec = connector
    write_mode: Literal["set", "adjust"] = "set"
    rate_probe_requests = 25
    """Above the emulator's burst of 10: the client's bucket must pace the rest."""

    @asynccontextmanager
    async def session(self) -> AsyncIterator[ConformanceSession]:
        emulator = AcmeEmulator(
            AcmeEmulatorConfig(warehouse_code=WAREHOUSE, api_key=API_KEY, requests_per_second=50.0, burst=10)
        )
        async with run_server(emulator.app) as server:
            settings = AcmeSettings.model_validate(
                {
                    "base_url": server.url,
                    "api_key": API_KEY,
                    "warehouse_code": WAREHOUSE,
                    "requests_per_second": 50.0,
                    "burst": 5,
                    "write_mode": self.write_mode,
                    "retry_attempts": 3,
                    "retry_initial_backoff_seconds": 0.05,
                }
            )
            assert connector.factory is not None
            client = connector.factory(settings)
            try:
                yield ConformanceSession(
                    client, settings, AcmeControl(emulator), sku="CONF-SKU-1", location_ref=LOCATION
                )
            finally:
                await client.aclose()

    def mapper_fixtures(self) -> Sequence[MapperFixture]:
        def parse(row: object) -> StockLevel | None:
            return map_stock_row(row, default_location=WAREHOUSE).value

        def render(level: StockLevel) -> dict[str, object]:
            return {"item_code": level.sku, **stock_update_body(level)}

        return (
            MapperFixture(
                "stock row (v1 API, number)",
                {"item_code": "SKU-1", "location": "A-01", "qty_on_hand": 12},
                parse,
                StockLevel("SKU-1", "A-01", 12),
                render,
            ),
            MapperFixture(
                "stock row (CSV-backed warehouse, string, no location)",
                {"item_code": " SKU-2 ", "qty_on_hand": "3"},
                parse,
                StockLevel("SKU-2", WAREHOUSE, 3),
                render,
            ),
            MapperFixture("stock row without item_code", {"qty_on_hand": 1}, parse, None),
        )


class AcmeAdjustHarness(AcmeHarness):
    """ACME with adjustments (``write_mode: adjust``): the idempotency key is what makes retries safe."""

    write_mode = "adjust"
