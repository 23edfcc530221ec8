"""The ``return`` task carries omnibridge's returns to a ReturnWriter channel: created open, then closed with
every line's disposition; a refusal is an incident, a 429 a retry."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from returns_support import ACTOR, LOCATIONS, TEE, world
from support import TickingClock
from sync.fake_channel import NOW, FakeChannel, runtime

from omnibridge.errors import RetriableConnectorError
from omnibridge.fulfilment.dispatcher import Dispatcher
from omnibridge.returns.service import Received
from omnibridge.sdk.returns import (
    Disposition,
    ReturnEvent,
    ReturnLineEvent,
    ReturnRequest,
    ReturnResult,
    ReturnState,
    ReturnWriter,
)
from omnibridge.store import Store


class ReturningChannel(FakeChannel):
    """The fake web store, also a ReturnWriter: records each request; answers as told."""

    def __init__(self) -> None:
        super().__init__(list(LOCATIONS))
        self.requests: list[ReturnRequest] = []
        self.refuse: str | None = None
        self.busy = 0

    async def write_return(self, request: ReturnRequest) -> ReturnResult:
        if self.busy:
            self.busy -= 1
            raise RetriableConnectorError("429", connector="web", op="write_return", retry_after=0)
        self.requests.append(request)
        if self.refuse is not None:
            return ReturnResult(False, message=self.refuse)
        return ReturnResult(True, channel_return_ref="gid://shopify/Return/77")


def dispatcher(store: Store, fake: FakeChannel) -> Dispatcher:
    channel = runtime("web", fake, LOCATIONS)
    return Dispatcher(store, {"web": channel})


def test_a_return_is_created_on_the_channel_then_closed_with_its_dispositions(
    store: Store, clock: TickingClock
) -> None:
    w = world(store)
    fake = ReturningChannel()
    assert isinstance(fake, ReturnWriter)
    rid = w.service.create("web:1001", [(TEE, 2)], reason="too small", at_store="soho", actor=ACTOR).id
    fake.busy = 1
    first = asyncio.run(dispatcher(store, fake).run_once())
    assert [item.outcome for item in first.outcomes] == ["retrying"]
    clock.now += timedelta(hours=1)
    asyncio.run(dispatcher(store, fake).run_once())
    opened = fake.requests[0]
    assert (opened.reference, opened.order_ref, opened.state) == (rid, "1001", ReturnState.OPEN)
    assert [(line.line_ref, line.sku, line.quantity) for line in opened.lines] == [("line-1", TEE, 2)]
    assert w.service.get(rid).external_id == "gid://shopify/Return/77"

    w.service.receive(rid, "soho", Received(restock=1, damaged=1), actor=ACTOR)
    asyncio.run(dispatcher(store, fake).run_once())
    closed = fake.requests[-1]
    assert (closed.state, closed.channel_return_ref) == (ReturnState.CLOSED, "gid://shopify/Return/77")
    assert [(line.disposition, line.quantity, line.location_ref) for line in closed.lines] == [
        (Disposition.RESTOCK, 1, "W-SOHO"),
        (Disposition.DAMAGED, 1, None),
    ]
    assert asyncio.run(dispatcher(store, fake).run_once()).outcomes == []  # nothing written twice


def test_a_refusal_is_an_incident_and_a_channel_without_returns_is_skipped(store: Store) -> None:
    w = world(store)
    fake = ReturningChannel()
    fake.refuse = "Return window has expired"
    w.service.create("web:1001", [(TEE, 1)], reason="late", by_post=True, actor=ACTOR)
    report = asyncio.run(dispatcher(store, fake).run_once())
    assert [item.outcome for item in report.outcomes] == ["refused"]
    summaries = [incident.summary for incident in store.incidents(kind="fulfilment")]
    assert any("Return window has expired" in summary for summary in summaries)

    w.service.create("web:1001", [(TEE, 1)], reason="ok", by_post=True, actor=ACTOR)
    plain = asyncio.run(dispatcher(store, FakeChannel(list(LOCATIONS))).run_once())
    assert [item.outcome for item in plain.outcomes] == ["done"]


def test_the_channels_echo_of_a_return_omnibridge_created_updates_it_and_restocks_once(store: Store) -> None:
    w = world(store)
    fake = ReturningChannel()
    rid = w.service.create("web:1001", [(TEE, 2)], reason="too small", by_post=True, actor=ACTOR).id
    asyncio.run(dispatcher(store, fake).run_once())
    gid = "gid://shopify/Return/77"
    echo = ReturnLineEvent("gid://shopify/ReturnLineItem/5", "line-1", TEE, 2, "SIZE_TOO_SMALL")
    processed = replace(echo, quantity=2, disposition=Disposition.RESTOCK, location_ref="W-WH")
    w.applier.apply_all([ReturnEvent(gid, "1001", ReturnState.OPEN, NOW, (echo,))])
    w.applier.apply_all([ReturnEvent(gid, "1001", ReturnState.CLOSED, NOW, (processed,))] * 2)
    rma = w.service.get(rid)
    assert [(line.channel_line_ref, line.quantity, line.restocked) for line in rma.lines] == [
        ("gid://shopify/ReturnLineItem/5", 2, 2)
    ]
    assert (rma.state, w.on_hand(TEE, "wh")) == (ReturnState.CLOSED, 10)
    assert [r.id for r in w.service.list_returns()] == [rid]


def test_an_echo_recorded_before_the_write_back_is_flagged_not_merged_blindly(store: Store) -> None:
    w = world(store)
    fake = ReturningChannel()
    rid = w.service.create("web:1001", [(TEE, 1)], reason="too small", by_post=True, actor=ACTOR).id
    echo = ReturnLineEvent("gid://shopify/ReturnLineItem/5", "line-1", TEE, 1)
    w.applier.apply_all([ReturnEvent("gid://shopify/Return/77", "1001", ReturnState.OPEN, NOW, (echo,))])
    report = asyncio.run(dispatcher(store, fake).run_once())
    assert [item.outcome for item in report.outcomes] == ["done"]
    assert w.service.get(rid).external_id is None
    assert [i.decision for i in store.incidents(kind="fulfilment")] == ["return_duplicate"]
