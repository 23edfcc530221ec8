"""A provider's events (a 3PL, a supplier's files) applied to the order they ship, in the delivery's unit of work:
the ORIGINAL order's lines ship from the provider's location, the assignment is marked shipped and the
confirmation for the order's channel is enqueued once, however often the event arrives."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fulfilment.fakes import Provider, Rerouter, SalesChannel, add_assignment, place_order, runtime, seed
from omnibridge.fulfilment import assignments, queue
from omnibridge.fulfilment.dispatcher import Dispatcher
from omnibridge.models import LineStatus
from omnibridge.sdk import ConnectorKind
from omnibridge.sdk.channel import FulfilmentEvent, FulfilmentLineEvent, FulfilmentStatus, FulfilmentStatusEvent
from omnibridge.store import Store
from omnibridge.sync import ChannelRuntime
from omnibridge.sync.apply import EventApplier

pytestmark = pytest.mark.anyio

ORDER = "web:1001"
SHIPPED_AT = datetime(2026, 1, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def shipbob(store: Store) -> ChannelRuntime:
    seed(store)
    place_order(store, runtime("web", SalesChannel(["W"]), {"W": "wh"}))
    channel = runtime(
        "shipbob",
        Provider(["FC-7"]),
        {"FC-7": "3pl"},
        kind=ConnectorKind.THIRD_PARTY_LOGISTICS,
        sku_aliases={"SB-B": "B"},
    )
    channel.location_ids["FC-7"] = "3pl"
    return channel


def _shipped(assignment_id: str) -> FulfilmentEvent:
    return FulfilmentEvent(
        ref="SHP-88",
        order_ref=assignment_id,
        occurred_at=SHIPPED_AT,
        lines=(FulfilmentLineEvent("web:order:1001:L1", "A", 2), FulfilmentLineEvent("999", "SB-B", 1)),
        location_ref="FC-7",
        tracking_number="1Z999",
        carrier="UPS",
    )


def _tasks(store: Store) -> list[queue.TaskView]:
    with store.unit_of_work() as uow:
        return queue.list_tasks(uow.session)


def _status(store: Store, assignment_id: str) -> str:
    with store.unit_of_work() as uow:
        found = assignments.get(uow.session, assignment_id)
    assert found is not None
    return found.status


def test_a_provider_shipment_ships_the_original_order_at_the_provider(store: Store, shipbob: ChannelRuntime) -> None:
    assignment = add_assignment(store, ORDER, "3pl")
    applier = EventApplier(store, shipbob)
    first = applier.apply_all([_shipped(assignment)])
    again = applier.apply_all([_shipped(assignment)])  # the same event delivered twice

    assert first.messages == []
    lines = {line.line_ref: line for line in store.order_lines("web", "1001")}
    assert (lines["L1"].status, lines["L1"].shipped, lines["L1"].committed) == (LineStatus.SHIPPED, 2, 0)
    assert (lines["L2"].status, lines["L2"].shipped) == (LineStatus.SHIPPED, 1)
    assert store.position("A", "3pl").on_hand == 8  # left from the provider's location
    assert store.position("A", "wh").committed == 0  # the commitment followed the units
    assert again.applied == 0
    (task,) = _tasks(store)
    assert (task.id, task.kind, task.channel, task.order_id) == ("confirm:shipbob:SHP-88", "confirm", "web", ORDER)
    assert _status(store, assignment) == "shipped"
    order = store.get_order(ORDER)
    assert order is not None
    assert order.status.value == "fulfilled"


async def test_the_confirmation_carries_the_channel_line_refs_and_tracking(
    store: Store, shipbob: ChannelRuntime
) -> None:
    assignment = add_assignment(store, ORDER, "3pl")
    EventApplier(store, shipbob).apply_all([_shipped(assignment)])
    web = SalesChannel(["W", "X"])
    await Dispatcher(store, {"web": runtime("web", web, {"W": "wh", "X": "3pl"})}).run_once()
    (sent,) = web.confirmed
    assert (sent.order_ref, sent.location_ref, sent.carrier, sent.tracking_number) == ("1001", "X", "UPS", "1Z999")
    assert [(line.line_ref, line.quantity) for line in sent.lines] == [("L1", 2), ("L2", 1)]
    assert sent.shipped_at == SHIPPED_AT


async def test_the_channels_notice_of_our_confirmation_is_an_echo_not_a_second_shipment(
    store: Store, shipbob: ChannelRuntime
) -> None:
    """The provider's shipment is in the ledger; the fulfilment our confirmation creates on the channel comes back
    as the channel's own notification (before or after the confirmation's answer): nothing ships twice."""
    assignment = add_assignment(store, ORDER, "3pl")
    EventApplier(store, shipbob).apply_all([_shipped(assignment)])
    web = runtime("web", SalesChannel(["W", "X"]), {"W": "wh", "X": "3pl"})
    lines = (FulfilmentLineEvent("L1", "A", 2), FulfilmentLineEvent("L2", "B", 1))
    early = FulfilmentEvent("gid://shopify/Fulfillment/1", "1001", SHIPPED_AT, lines, "X", "1Z999", "UPS")
    echoed = EventApplier(store, web).apply_all([early])  # overtakes the confirmation: same tracking number
    assert (echoed.applied, store.position("A", "3pl").on_hand) == (0, 8)
    await Dispatcher(store, {"web": web}).run_once()
    untracked = FulfilmentEvent("F-1", "1001", SHIPPED_AT, lines, "X")  # the fulfilment id the channel answered
    assert EventApplier(store, web).apply_all([untracked]).applied == 0
    shipped = {line.line_ref: line.shipped for line in store.order_lines("web", "1001")}
    assert shipped == {"L1": 2, "L2": 1}
    assert store.position("A", "3pl").on_hand == 8


async def test_a_provider_rejection_reroutes_once(store: Store, shipbob: ChannelRuntime) -> None:
    assignment = add_assignment(store, ORDER, "3pl")
    rejected = FulfilmentStatusEvent("MSG-1", assignment, FulfilmentStatus.REJECTED, SHIPPED_AT, "out of stock")
    applier = EventApplier(store, shipbob)
    applier.apply_all([rejected])
    applier.apply_all([rejected])
    (task,) = _tasks(store)
    assert task.id == f"reroute:{assignment}"
    rerouter = Rerouter()
    await Dispatcher(store, {}, rerouter=rerouter).run_once()
    assert rerouter.calls == [(ORDER, "3pl", "out of stock")]


def test_an_acknowledgement_accepts_the_assignment(store: Store, shipbob: ChannelRuntime) -> None:
    assignment = add_assignment(store, ORDER, "3pl")
    ack = FulfilmentStatusEvent("MSG-2", assignment, FulfilmentStatus.ACKNOWLEDGED, SHIPPED_AT)
    EventApplier(store, shipbob).apply_all([ack])
    assert _status(store, assignment) == "accepted"
    assert _tasks(store) == []


def test_an_unknown_reference_is_reported_not_applied(store: Store, shipbob: ChannelRuntime) -> None:
    outcome = EventApplier(store, shipbob).apply_all([_shipped("web:9999@3pl#1")])
    assert outcome.messages == ["shipbob: reference 'web:9999@3pl#1' names no fulfilment assignment; skipped"]
    assert _tasks(store) == []
    assert store.position("A", "3pl").on_hand == 10


def test_a_file_feeds_own_shipment_is_applied_as_before(store: Store, shipbob: ChannelRuntime) -> None:
    feed = runtime("feed", Provider(["F-WH"]), {"F-WH": "wh"}, kind=ConnectorKind.ERP_WMS)
    feed.location_ids["F-WH"] = "wh"
    own = FulfilmentEvent("S-1", "PO-77", SHIPPED_AT, (FulfilmentLineEvent("1", "A", 1),), location_ref="F-WH")
    outcome = EventApplier(store, feed).apply_all([own])
    assert outcome.messages == []
    assert outcome.applied == 1  # a sale of the feed's own order line at wh
    assert store.position("A", "wh").on_hand == 9
    assert _tasks(store) == []


def test_a_shipment_of_a_rejected_assignment_stands_with_an_incident(store: Store, shipbob: ChannelRuntime) -> None:
    assignment = add_assignment(store, ORDER, "3pl", status="rejected")  # re-routed before the 3PL shipped it
    outcome = EventApplier(store, shipbob).apply_all([_shipped(assignment)])
    assert store.position("A", "3pl").on_hand == 8  # the units did leave the 3PL
    (incident,) = store.incidents()
    assert (incident.kind, incident.decision, incident.order_id) == ("fulfilment", "shipped_after_reroute", ORDER)
    assert outcome.messages == [incident.summary]
    assert _status(store, assignment) == "rejected"
