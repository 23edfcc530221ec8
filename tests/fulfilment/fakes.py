"""Small in-test connectors that keep the fulfilment protocols (they are not vendor emulators), a recording
re-router, and a seeded store with one web order routed to locations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from sync.fake_channel import SPEC, FakeChannel, FakeSettings

from omnibridge.config import LoadedChannel, MappingTables
from omnibridge.models import Address, Location, LocationType, MovementKind, Product, StockMovement, Variant
from omnibridge.sdk import ConnectorKind
from omnibridge.sdk.channel import OrderEvent, OrderEventKind, OrderLineEvent
from omnibridge.sdk.fulfilment import (
    AssignmentResult,
    ConfirmationResult,
    FulfilmentRequest,
    LineAssignment,
    ShipmentConfirmation,
    Submission,
)
from omnibridge.store import Store
from omnibridge.store.tables import FULFILMENT_ASSIGNMENTS
from omnibridge.sync import ChannelRuntime
from omnibridge.sync.apply import EventApplier

PLACED = datetime(2026, 1, 1, tzinfo=UTC)
Answer = object
"""A scripted answer: a result to return, or an exception to raise."""


def _next(script: list[Answer], default: Answer) -> Answer:
    answer = script.pop(0) if script else default
    if isinstance(answer, Exception):
        raise answer
    return answer


class SalesChannel(FakeChannel):
    """A sales channel that assigns lines (Shopify-like) and confirms shipments; answers from ``script``."""

    def __init__(self, locations: Sequence[str]) -> None:
        super().__init__(locations)
        self.assigned: list[tuple[str, list[LineAssignment], list[str]]] = []
        self.confirmed: list[ShipmentConfirmation] = []
        self.script: list[Answer] = []
        self.during_call: list[object] = []
        """Coroutine functions awaited inside the next calls (a second dispatcher running meanwhile)."""

    async def _during(self) -> None:
        if self.during_call:
            hook = self.during_call.pop(0)
            await hook()  # type: ignore[operator]

    async def assign_lines(
        self, order_ref: str, assignments: Sequence[LineAssignment], *, exclude_refs: Sequence[str] = ()
    ) -> AssignmentResult:
        self.assigned.append((order_ref, list(assignments), list(exclude_refs)))
        await self._during()
        answer = _next(self.script, AssignmentResult(accepted=True))
        assert isinstance(answer, AssignmentResult)
        return answer

    async def confirm_shipment(self, confirmation: ShipmentConfirmation) -> ConfirmationResult:
        self.confirmed.append(confirmation)
        await self._during()
        answer = _next(self.script, ConfirmationResult(accepted=True, channel_ref=f"F-{len(self.confirmed)}"))
        assert isinstance(answer, ConfirmationResult)
        return answer


class Provider(FakeChannel):
    """A 3PL: takes fulfilment requests; answers from ``script``."""

    def __init__(self, locations: Sequence[str]) -> None:
        super().__init__(locations)
        self.requests: list[FulfilmentRequest] = []
        self.script: list[Answer] = []

    async def submit_fulfilment(self, request: FulfilmentRequest) -> Submission:
        self.requests.append(request)
        answer = _next(self.script, Submission(request.reference, True, provider_ref=f"SB-{len(self.requests)}"))
        assert isinstance(answer, Submission)
        return answer


@dataclass
class Rerouter:
    """Records every re-route it is asked for."""

    calls: list[tuple[str, str, str]] = field(default_factory=list)

    def reject(self, order_id: str, location_id: str, reason: str) -> None:
        self.calls.append((order_id, location_id, reason))


def runtime(
    channel_id: str,
    connector: FakeChannel,
    location_map: dict[str, str],
    *,
    kind: ConnectorKind = ConnectorKind.STOREFRONT,
    sku_aliases: dict[str, str] | None = None,
) -> ChannelRuntime:
    loaded = LoadedChannel(
        id=channel_id,
        connector="fake",
        spec=replace(SPEC, kind=kind),
        settings=FakeSettings(),
        profile_path=Path("fake.yaml"),
        mappings=MappingTables(
            location_map=MappingProxyType(location_map), sku_aliases=MappingProxyType(sku_aliases or {})
        ),
    )
    return ChannelRuntime(channel_id, connector, loaded)


def seed(store: Store) -> None:
    """Locations wh, shop and 3pl; SKUs A and B with 10 units at each location."""
    for location_id in ("wh", "shop", "3pl"):
        store.upsert_location(
            Location(id=location_id, name=location_id, type=LocationType.STORE, address=Address(country="US"))
        )
    store.upsert_product(Product(id="P", title="P", variants=[Variant(sku=s, product_id="P") for s in ("A", "B")]))
    for sku in ("A", "B"):
        for location_id in ("wh", "shop", "3pl"):
            store.apply(
                StockMovement(
                    idempotency_key=f"seed:{sku}:{location_id}",
                    source="test",
                    kind=MovementKind.RECEIPT,
                    sku=sku,
                    location_id=location_id,
                    quantity=10,
                    occurred_at=PLACED,
                )
            )


def place_order(store: Store, web: ChannelRuntime, ref: str = "1001") -> None:
    """Order ``ref`` on ``web``: line L1 (2 x A) and L2 (1 x B), both committed at wh (web's location W)."""
    event = OrderEvent(
        ref=ref,
        kind=OrderEventKind.PLACED,
        occurred_at=PLACED,
        lines=(OrderLineEvent("L1", "A", 2, "W"), OrderLineEvent("L2", "B", 1, "W")),
        name=f"#{ref}",
    )
    web.location_ids.update({ref_: target for ref_, target in web.channel.mappings.location_map.items()})
    EventApplier(store, web).apply_all([event])


def add_assignment(store: Store, order_id: str, location_id: str, attempt: int = 1, status: str = "assigned") -> str:
    assignment_id = f"{order_id}@{location_id}#{attempt}"
    with store.unit_of_work() as uow:
        uow.session.execute(
            FULFILMENT_ASSIGNMENTS.insert().values(
                id=assignment_id,
                order_id=order_id,
                attempt=attempt,
                location_id=location_id,
                status=status,
                lines=[],
                created_at=uow.now(),
                updated_at=uow.now(),
            )
        )
    return assignment_id
