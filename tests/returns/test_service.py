"""Returns raised, received and decided through the return service: stock comes back once, through a restock."""

from __future__ import annotations

import pytest
from returns_support import ACTOR, MUG, TEE, World, world

from omnibridge.access import audit
from omnibridge.fulfilment import queue
from omnibridge.returns.model import ReturnError
from omnibridge.returns.service import Received
from omnibridge.sdk.returns import ReturnState
from omnibridge.store import Store
from omnibridge.store.fulfilment_tasks import RETURN


def by_post(w: World, *lines: tuple[str, int]) -> str:
    return w.service.create("web:1001", list(lines), reason="too small", by_post=True, actor=ACTOR).id


def test_a_return_by_post_restocks_once_where_it_comes_back_and_damaged_units_never(store: Store) -> None:
    w = world(store)
    assert w.on_hand(TEE, "wh") == 8
    rid = by_post(w, (TEE, 2))
    rma = w.service.get(rid)
    assert (rid, rma.state, rma.location_id, rma.at_store) == ("web:1001:r1", ReturnState.OPEN, "wh", False)

    received = w.service.receive(rid, "wh", Received(restock=1, damaged=1), actor=ACTOR)
    assert received.state is ReturnState.CLOSED
    assert (received.lines[0].restocked, received.lines[0].damaged) == (1, 1)
    assert w.on_hand(TEE, "wh") == 9
    with pytest.raises(ReturnError, match="is closed: nothing to receive"):
        w.service.receive(rid, "wh", Received(restock=1, damaged=1), actor=ACTOR)
    assert w.on_hand(TEE, "wh") == 9
    assert w.verified()
    with store.unit_of_work() as uow:
        line = uow.peek_line("web:order:1001:line-1")
    assert line is not None
    assert line.returned == 1
    assert ("web", TEE) in set(store.pending_work())
    actions = [record.action for record in audit.records(store, subject=rid)]
    assert actions == ["return.create", "return.receive"]


def test_quantities_never_exceed_what_the_line_shipped_less_earlier_returns(store: Store) -> None:
    w = world(store)
    with pytest.raises(ReturnError, match=r"3 to return but 2 can come back \(line line-1: shipped 2, 0 in earlier"):
        by_post(w, (TEE, 3))
    by_post(w, (TEE, 1))
    with pytest.raises(ReturnError, match=r"2 to return but 1 can come back .*shipped 2, 1 in earlier returns"):
        by_post(w, (TEE, 2))
    with pytest.raises(ReturnError, match="has no line with SKU 'NOPE'"):
        by_post(w, ("NOPE", 1))
    assert by_post(w, (TEE, 1), (MUG, 1)) == "web:1001:r2"


def test_an_online_order_returned_at_a_store_counter_restocks_at_that_store(store: Store) -> None:
    w = world(store)
    rid = w.service.create("web:1001", [(MUG, 1)], reason="gift", at_store="soho", actor=ACTOR).id
    assert w.service.get(rid).at_store
    w.service.receive(rid, "soho", Received(restock=1), actor=ACTOR)
    assert (w.on_hand(MUG, "soho"), w.on_hand(MUG, "wh")) == (1, 9)
    assert w.verified()


def test_inspected_units_are_held_until_decided_then_restocked_or_damaged(store: Store) -> None:
    w = world(store)
    rid = by_post(w, (TEE, 2))
    held = w.service.receive(rid, "wh", Received(inspect=2), actor=ACTOR)
    assert (held.state, held.lines[0].inspect, w.on_hand(TEE, "wh")) == (ReturnState.RECEIVED, 2, 8)
    w.service.decide(rid, TEE, restock=1, actor=ACTOR)
    assert w.on_hand(TEE, "wh") == 9
    done = w.service.decide(rid, TEE, damaged=1, actor=ACTOR)
    assert (done.state, done.lines[0].restocked, done.lines[0].damaged) == (ReturnState.CLOSED, 1, 1)
    with pytest.raises(ReturnError, match="closed"):
        w.service.decide(rid, TEE, restock=1, actor=ACTOR)
    assert w.on_hand(TEE, "wh") == 9
    assert w.verified()


def test_partial_receipts_restock_each_step_once_and_missing_units_close_it(store: Store) -> None:
    w = world(store)
    rid = by_post(w, (TEE, 2))
    w.service.receive(rid, "wh", Received(restock=1), actor=ACTOR)
    assert w.service.get(rid).state is ReturnState.RECEIVED
    closed = w.service.receive(rid, "wh", Received(missing=1), actor=ACTOR)
    assert (closed.state, closed.lines[0].missing, w.on_hand(TEE, "wh")) == (ReturnState.CLOSED, 1, 9)


def test_bad_requests_are_one_line_refusals(store: Store) -> None:
    w = world(store)
    rid = by_post(w, (TEE, 1))
    with pytest.raises(ReturnError, match="location 'mars' is not a location of the profile"):
        w.service.receive(rid, "mars", Received(restock=1), actor=ACTOR)
    with pytest.raises(ReturnError, match="--by-post or --at-store"):
        w.service.create("web:1001", [(TEE, 1)], reason="x", actor=ACTOR)
    with pytest.raises(ReturnError, match="no return 'nope'") as raised:
        w.service.get("nope")
    assert raised.value.status == 404
    with pytest.raises(ReturnError, match="no order 'web:9999'"):
        w.service.create("web:9999", [(TEE, 1)], reason="x", by_post=True, actor=ACTOR)


def test_creating_and_closing_a_return_enqueues_its_write_back_tasks(store: Store) -> None:
    w = world(store)
    rid = by_post(w, (TEE, 1))
    w.service.receive(rid, "wh", Received(restock=1), actor=ACTOR)
    with store.unit_of_work() as uow:
        tasks = {view.id: view for view in queue.list_tasks(uow.session) if view.kind == RETURN}
    assert set(tasks) == {f"return:{rid}:open", f"return:{rid}:closed"}
