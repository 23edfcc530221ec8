"""A channel's ReturnEvents recorded once per channel ref, mapped to order lines, dispositions applied once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from returns_support import MUG, TEE, world
from sync.fake_channel import NOW, FakeChannel, receive, runtime

from omnibridge.sdk.returns import Disposition, ReturnEvent, ReturnLineEvent, ReturnState
from omnibridge.store import Store
from omnibridge.sync import SyncEngine
from omnibridge.sync.lines import LineBook
from omnibridge.sync.outcome import ApplyOutcome


def event(
    state: ReturnState,
    *lines: ReturnLineEvent,
    minutes: int = 0,
    ref: str = "gid://shopify/Return/1",
    location: str | None = None,
) -> ReturnEvent:
    return ReturnEvent(
        ref, "1001", state, NOW + timedelta(minutes=minutes), tuple(lines), location_ref=location, refund="25.00"
    )


def tee(quantity: int = 1, disposition: Disposition | None = None, where: str | None = None) -> ReturnLineEvent:
    return ReturnLineEvent("rl-1", "line-1", TEE, quantity, "SIZE_TOO_SMALL", disposition, where)


def test_a_channel_return_is_recorded_once_and_its_restock_applied_once(store: Store) -> None:
    w = world(store)
    opened = event(ReturnState.OPEN, tee(2), minutes=1)
    closed = event(
        ReturnState.CLOSED,
        tee(1, Disposition.RESTOCK, "W-SOHO"),
        ReturnLineEvent("rl-1", "line-1", TEE, 1, "", Disposition.DAMAGED),
        minutes=2,
    )
    w.applier.apply_all([opened, opened])
    rma = w.service.get("web:return:gid://shopify/Return/1")
    assert (rma.state, rma.lines[0].quantity, rma.lines[0].order_line_id) == (
        ReturnState.OPEN,
        2,
        "web:order:1001:line-1",
    )
    first = w.applier.apply_all([closed])
    again = w.applier.apply_all([closed])
    assert (first.applied, again.applied) == (1, 0)
    assert first.touched == {(TEE, "soho")}
    rma = w.service.get(rma.id)
    assert (rma.state, rma.lines[0].restocked, rma.lines[0].damaged) == (ReturnState.CLOSED, 1, 1)
    assert rma.refund == {"amount": "25.00", "currency": None}
    assert w.on_hand(TEE, "soho") == 1
    assert w.verified()


def test_an_older_event_never_undoes_a_newer_one(store: Store) -> None:
    w = world(store)
    w.applier.apply_all([event(ReturnState.CLOSED, tee(1, Disposition.RESTOCK, "W-WH"), minutes=5)])
    late = w.applier.apply_all([event(ReturnState.OPEN, tee(1), minutes=1)])
    assert late.duplicates == 1
    assert w.service.get("web:return:gid://shopify/Return/1").state is ReturnState.CLOSED
    assert w.on_hand(TEE, "wh") == 9


def test_inspected_units_reported_later_as_restocked_come_back_once(store: Store) -> None:
    w = world(store)
    w.applier.apply_all([event(ReturnState.RECEIVED, tee(1, Disposition.INSPECT), minutes=1)])
    assert w.on_hand(TEE, "wh") == 8
    w.applier.apply_all([event(ReturnState.CLOSED, tee(1, Disposition.RESTOCK, "W-WH"), minutes=2)] * 2)
    rma = w.service.get("web:return:gid://shopify/Return/1")
    assert (rma.lines[0].inspect, rma.lines[0].restocked, w.on_hand(TEE, "wh")) == (0, 1, 9)


def test_unknown_lines_and_too_many_units_are_skipped_with_a_message_never_silently(store: Store) -> None:
    w = world(store)
    outcome = w.applier.apply_all(
        [
            event(
                ReturnState.OPEN,
                ReturnLineEvent("rl-9", "line-404", TEE, 1),
                ReturnLineEvent("rl-2", "line-2", MUG, 2),
                tee(1),
            )
        ]
    )
    assert len(outcome.messages) == 2
    assert "order line 'line-404' of order 1001 is not known; skipped" in outcome.messages[0]
    assert "2 to return but order line line-2 (MUG) can take back 1 (shipped 1, 0 in returns)" in (outcome.messages[1])
    rma = w.service.get("web:return:gid://shopify/Return/1")
    assert [line.channel_line_ref for line in rma.lines] == ["rl-1"]
    assert {incident.kind for incident in store.incidents()} == {"skipped_line"}


def test_a_return_with_no_known_line_is_not_recorded(store: Store) -> None:
    w = world(store)
    outcome = w.applier.apply_all([event(ReturnState.OPEN, ReturnLineEvent("rl-9", "line-404", TEE, 1))])
    assert outcome.messages[-1] == "web: return gid://shopify/Return/1: no line could be matched; skipped"
    assert w.service.list_returns() == []


def test_a_restock_reported_by_one_channel_is_pushed_to_the_others(store: Store) -> None:
    w = world(store)
    receive(store, TEE, "soho", 3)  # the store's counted stock
    pos = FakeChannel(["P-SOHO"])
    pos.levels[(TEE, "P-SOHO")] = 3
    w.fake.levels.update({(TEE, "W-WH"): 8, (TEE, "W-SOHO"): 3})
    engine = SyncEngine(store, [w.channel, runtime("pos", pos, {"P-SOHO": "soho"})])
    engine.observe_grace = 0  # an increase is otherwise pushed after a short grace
    asyncio.run(engine.sync_once())
    w.fake.add_event(event(ReturnState.CLOSED, tee(1, Disposition.RESTOCK, "W-SOHO")))
    w.fake.levels[(TEE, "W-SOHO")] = 4  # the web store restocked its own count when it processed the return
    asyncio.run(engine.sync_once())
    assert w.on_hand(TEE, "soho") == 4
    assert pos.levels[(TEE, "P-SOHO")] == 4


def test_the_same_restock_key_never_moves_stock_twice(store: Store) -> None:
    w = world(store)
    key = "web:1001:r1:1:restock"
    outcomes = []
    for _ in range(2):
        with store.unit_of_work() as uow:
            book = LineBook(uow, ApplyOutcome())
            outcomes.append(book.return_restocked("web:order:1001:line-1", key, "wh", 1, shown=False))
    assert outcomes == [True, False]
    assert w.on_hand(TEE, "wh") == 9
    with store.unit_of_work() as uow:
        line = uow.peek_line("web:order:1001:line-1")
    assert line is not None
    assert line.returned == 1


def test_a_restock_at_an_unmapped_location_is_skipped_not_moved_elsewhere(store: Store) -> None:
    w = world(store)
    outcome = w.applier.apply_all([event(ReturnState.CLOSED, tee(1, Disposition.RESTOCK, "W-NOWHERE"))])
    assert outcome.messages == [
        "web: return gid://shopify/Return/1 line rl-1: location 'W-NOWHERE' is not mapped (mappings.location_map); "
        "skipped"
    ]
    assert (w.on_hand(TEE, "wh"), w.on_hand(TEE, "soho")) == (8, 0)
    assert w.service.get("web:return:gid://shopify/Return/1").lines[0].pending == 1
