"""The conformance kit on fulfilment providers: a provider that answers a repeat as a duplicate passes; one that
takes the same request twice fails the fulfilment_provider and idempotent_retry checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, ConfigDict

from omnibridge.errors import RetriableConnectorError
from omnibridge.sdk.channel import ShipTo
from omnibridge.sdk.fulfilment import FulfilmentLine, FulfilmentRequest, Submission
from omnibridge.sdk.metadata import Capability, ConnectorKind, ConnectorSpec
from omnibridge.testing import ConformanceHarness, ConformanceSession, EmulatorControl
from omnibridge.testing.checks_common import ConformanceFailure
from omnibridge.testing.suite import CHECKS, run_check

BY_NAME = {check.name: check for check in CHECKS}


class ProviderSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    dedupe: bool = True


class Warehouse:
    """The vendor: orders by id; ``lose_next`` applies a write and then fails its answer."""

    def __init__(self) -> None:
        self.orders: list[str] = []
        self.lose_next = 0
        self.answered = 0


class Provider:
    def __init__(self, warehouse: Warehouse, dedupe: bool) -> None:
        self.warehouse = warehouse
        self.dedupe = dedupe

    async def submit_fulfilment(self, request: FulfilmentRequest) -> Submission:
        self.warehouse.answered += 1
        if self.dedupe and request.reference in self.warehouse.orders:
            ref = str(self.warehouse.orders.index(request.reference))
            return Submission(request.reference, accepted=True, provider_ref=ref, duplicate=True)
        self.warehouse.orders.append(request.reference)
        if self.warehouse.lose_next:
            self.warehouse.lose_next -= 1
            raise RetriableConnectorError("answer lost", connector="provider", op="submit")
        return Submission(request.reference, accepted=True, provider_ref=str(len(self.warehouse.orders) - 1))

    async def aclose(self) -> None:
        return None


class Control(EmulatorControl):
    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    def api_requests(self) -> int:
        return self.warehouse.answered

    def lose_next_response(self, *, count: int = 1) -> None:
        self.warehouse.lose_next += count

    def sample_fulfilment(self, reference: str) -> FulfilmentRequest:
        line = FulfilmentLine("line-1", "SKU-1", 1)
        return FulfilmentRequest(reference, "#1", "FC-1", (line,), ShipTo("US"), datetime(2026, 1, 1, tzinfo=UTC))

    def fulfilments_held(self, reference: str) -> int:
        return self.warehouse.orders.count(reference)


class ProviderHarness(ConformanceHarness):
    dedupe: ClassVar[bool] = True
    spec = ConnectorSpec(
        id="toy-provider",
        label="Toy provider",
        kind=ConnectorKind.THIRD_PARTY_LOGISTICS,
        settings_model=ProviderSettings,
        capabilities=frozenset({Capability.FULFILLMENT_WRITE}),
        factory=lambda settings: Provider(Warehouse(), settings.dedupe),
    )

    @asynccontextmanager
    async def session(self) -> AsyncIterator[ConformanceSession]:
        warehouse = Warehouse()
        settings = ProviderSettings(dedupe=self.dedupe)
        yield ConformanceSession(Provider(warehouse, self.dedupe), settings, Control(warehouse))


class CarelessHarness(ProviderHarness):
    dedupe: ClassVar[bool] = False


@pytest.mark.parametrize("name", ["fulfilment_provider", "idempotent_retry"])
def test_a_provider_that_answers_repeats_as_duplicates_passes(name: str) -> None:
    run_check(BY_NAME[name], ProviderHarness, timeout=20)


@pytest.mark.parametrize("name", ["fulfilment_provider", "idempotent_retry"])
def test_a_provider_that_takes_a_request_twice_fails(name: str) -> None:
    with pytest.raises(ConformanceFailure) as caught:
        run_check(BY_NAME[name], CarelessHarness, timeout=20)
    found: Any = caught.value
    assert found.check == name
    assert "2" in found.seen or "duplicate" in found.expected
