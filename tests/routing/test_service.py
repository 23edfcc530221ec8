"""The routing service (issue 13): decide, reserve where it ships in the same transaction, record every decision,
re-route on rejection with the reservation moved, park what cannot be routed — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from routing_service_support import network
from routing_service_support import order as web_order
from sync.fake_channel import NOW, receive

from omnibridge.models import FulfilmentMethod, LineStatus
from omnibridge.routing import LocationRules, RouteOutcome
from omnibridge.routing.service import RoutingError
from omnibridge.sdk.channel import FulfilmentEvent, FulfilmentLineEvent, OrderEvent, OrderEventKind
from omnibridge.store import Store
from omnibridge.store.propagation import LevelNote
from omnibridge.sync.lines import LineBook, LineFact
from omnibridge.sync.outcome import ApplyOutcome


def test_a_web_order_is_committed_at_the_nearest_location_that_has_it_in_the_same_transaction(store: Store) -> None:
    net = network(store, {("TENT", "wh"): 5, ("TENT", "nyc"): 2, ("TENT", "chi"): 2})
    outcome = net.place("1001", ("TENT", 2), at="W-WH")
    assert outcome.messages == []
    # the channel named the warehouse; routing reserved at the New York store, nearest to Newark
    assert net.committed("TENT") == {"nyc": 2}
    line = store.order_line("web:order:1001:1")
    assert line is not None
    assert (line.location_id, line.channel_location_id, line.committed) == ("nyc", "wh", 2)
    [decision] = net.service.decisions("web:1001")
    assert (decision.attempt, decision.trigger, decision.outcome) == (1, "placed", "routed")
    assert decision.decision["reserved"] == {"web:order:1001:1": "nyc"}
    verdicts = {v["location_id"]: v["kind"] for v in decision.decision["verdicts"]}
    assert verdicts == {"nyc": "chosen", "chi": "ranked", "wh": "ranked", "tpl": "eliminated"}
    [assignment] = net.service.assignments("web:1001")
    assert (assignment.id, assignment.status) == ("web:1001@nyc#1", "assigned")
    assert net.tasks() == [("assign:web:1001#1", "web", "pending")]
    order = store.get_order("web:1001")
    assert order is not None
    assert order.lines[0].location_id == "nyc"
    assert store.verify() == []


def test_the_decision_and_its_reservation_go_together_when_the_unit_fails(store: Store) -> None:
    net = network(store, {("TENT", "nyc"): 2})

    def apply_then_fail() -> None:
        with store.unit_of_work() as uow:
            net.applier().apply_all([_order("1001")], uow=uow)
            raise RuntimeError("the delivery failed after the order was applied")

    with pytest.raises(RuntimeError):
        apply_then_fail()
    assert net.committed("TENT") == {}
    assert net.service.decisions("web:1001") == []
    assert net.tasks() == []


def test_a_later_update_naming_the_original_location_is_not_a_move(store: Store) -> None:
    net = network(store, {("TENT", "wh"): 5, ("TENT", "nyc"): 2})
    net.place("1001", ("TENT", 2), at="W-WH")
    again = net.place("1001", ("TENT", 2), at="W-WH", seconds=30)
    assert again.applied == 0
    assert net.committed("TENT") == {"nyc": 2}
    assert len(net.service.decisions("web:1001")) == 1


def test_a_pos_sale_is_fulfilled_where_it_is(store: Store) -> None:
    net = network(store, {("TENT", "nyc"): 1, ("TENT", "wh"): 5})
    net.applier(net.pos).apply_all([_order("p-1", at="P-NYC")])
    assert net.committed("TENT") == {"nyc": 1}
    assert net.service.decisions("pos:p-1") == []


def test_an_unroutable_order_keeps_todays_behaviour_and_is_parked(store: Store) -> None:
    net = network(store, {("TENT", "wh"): 1})
    outcome = net.place("1001", ("TENT", 3), at="W-WH")
    # nobody has 3: committed where the channel named it, the shortfall reported for the resolver
    assert net.committed("TENT") == {"wh": 3}
    assert outcome.shortfalls == [(("TENT", "wh"), 2)]
    [parked] = net.service.parked()
    assert (parked.order_id, parked.outcome) == ("web:1001", "unroutable")
    assert net.service.assignments("web:1001") == []
    assert net.tasks() == []


def test_a_rejection_reroutes_excluding_it_moves_the_reservation_and_supersedes_tasks(store: Store) -> None:
    net = network(store, {("TENT", "wh"): 5, ("TENT", "nyc"): 2, ("TENT", "chi"): 2})
    net.place("1001", ("TENT", 2))
    decision = net.service.reject("web:1001", "nyc", "  shelf  empty ")
    assert decision.outcome is RouteOutcome.ROUTED
    assert decision.locations == ("chi",)
    assert net.committed("TENT") == {"chi": 2}
    statuses = [(a.id, a.status, a.reason) for a in net.service.assignments("web:1001")]
    assert statuses == [("web:1001@nyc#1", "rejected", "shelf empty"), ("web:1001@chi#2", "assigned", None)]
    assert net.tasks() == [("assign:web:1001#1", "web", "cancelled"), ("assign:web:1001#2", "web", "pending")]
    second = net.service.decisions("web:1001")[1]
    assert (second.attempt, second.trigger) == (2, "rejected at nyc: shelf empty")
    assert second.decision["excluded"] == ["nyc"]
    verdicts = {v["location_id"]: (v["kind"], v["rule"]) for v in second.decision["verdicts"]}
    assert verdicts["nyc"][0] == "eliminated"
    assert verdicts["chi"] == ("chosen", verdicts["chi"][1])
    assert store.verify() == []


def test_every_location_that_rejected_stays_excluded_and_bounded_reroutes_park_the_order(store: Store) -> None:
    net = network(store, {("TENT", "wh"): 5, ("TENT", "nyc"): 2, ("TENT", "chi"): 2}, max_reroutes=2)
    net.place("1001", ("TENT", 2))
    assert net.service.reject("web:1001", "nyc", "no staff").locations == ("chi",)
    assert net.service.reject("web:1001", "chi", "damaged").locations == ("wh",)
    parked = net.service.reject("web:1001", "wh", "too busy")
    assert parked.outcome is RouteOutcome.UNROUTABLE
    assert "max_reroutes" in parked.reason
    # parked: the units stay committed where they last were, never released silently
    assert net.committed("TENT") == {"wh": 2}
    assert [d.order_id for d in net.service.parked()] == ["web:1001"]
    assert [d.attempt for d in net.service.decisions("web:1001")] == [1, 2, 3, 4]


def test_a_pickup_order_rejected_at_its_store_is_parked_never_shipped(store: Store) -> None:
    net = network(store, {("TENT", "wh"): 5, ("TENT", "nyc"): 2})
    net.place("1001", ("TENT", 1))
    order = store.get_order("web:1001")
    assert order is not None
    store.save_order(order.model_copy(update={"fulfilment_method": FulfilmentMethod.PICKUP_IN_STORE}))
    decision = net.service.reject("web:1001", "nyc", "cannot prepare it")
    assert decision.outcome is RouteOutcome.UNROUTABLE
    assert "never re-routed to shipping" in decision.reason
    assert net.committed("TENT") == {"nyc": 1}
    assert [a.status for a in net.service.assignments("web:1001")] == ["rejected"]


def test_accept_and_ship_move_the_assignment_through_its_states(store: Store) -> None:
    net = network(store, {("TENT", "nyc"): 2})
    net.place("1001", ("TENT", 1))
    accepted = net.service.accept("web:1001", "nyc")
    assert accepted.status == "accepted"
    assert net.service.accept("web:1001", "nyc").status == "accepted"  # again: the same answer
    with store.unit_of_work() as uow:
        net.service.mark_shipped(uow, "web:1001", "nyc")
    assert [a.status for a in net.service.assignments("web:1001")] == ["shipped"]
    with pytest.raises(RoutingError, match="no open assignment at 'nyc'"):
        net.service.reject("web:1001", "nyc", "too late")


def test_accepting_where_the_order_is_not_assigned_names_the_problem(store: Store) -> None:
    net = network(store, {("TENT", "nyc"): 2})
    net.place("1001", ("TENT", 1))
    with pytest.raises(RoutingError, match=r"order web:1001 has no open assignment at 'chi'"):
        net.service.accept("web:1001", "chi")
    with pytest.raises(RoutingError, match="no order 'web:9'"):
        net.service.accept("web:9", "nyc")


def test_a_3pl_assignment_is_submitted_through_the_channel_that_maps_it(store: Store) -> None:
    net = network(store, {("LAMP", "tpl"): 4})
    net.place("1001", ("LAMP", 1))
    assert net.committed("LAMP") == {"tpl": 1}
    assert net.tasks() == [
        ("assign:web:1001#1", "web", "pending"),
        ("submit:web:1001@tpl#1", "shipbob", "pending"),
    ]
    decision = net.service.reject("web:1001", "tpl", "out of stock at the 3PL")
    assert decision.outcome is RouteOutcome.UNROUTABLE  # nobody else holds a lamp
    assert ("submit:web:1001@tpl#1", "shipbob", "cancelled") in net.tasks()


def test_daily_capacity_counts_todays_assignments(store: Store) -> None:

    net = network(
        store,
        {("TENT", "nyc"): 5, ("TENT", "chi"): 5},
        locations={"nyc": LocationRules(daily_capacity=1)},
    )
    net.place("1001", ("TENT", 1))
    net.place("1002", ("TENT", 1))
    assert net.service.assignments("web:1001")[0].location_id == "nyc"
    second = net.service.decisions("web:1002")[0].decision
    assert second["reserved"] == {"web:order:1002:1": "chi"}
    assert any(v["location_id"] == "nyc" and v["kind"] == "eliminated" for v in second["verdicts"])


def test_a_dry_run_writes_nothing_and_shows_every_candidate(store: Store) -> None:
    net = network(store, {("TENT", "wh"): 1})
    net.place("1001", ("TENT", 2))  # unroutable: committed at wh, parked

    receive(store, "TENT", "chi", 3)
    before = (net.committed("TENT"), net.tasks(), len(net.service.decisions("web:1001")))
    preview = net.service.preview("web:1001", exclude=["nyc"])
    assert preview.locations == ("chi",)
    assert {v.location_id for v in preview.verdicts} == {"wh", "nyc", "chi", "tpl"}
    assert (net.committed("TENT"), net.tasks(), len(net.service.decisions("web:1001"))) == before
    # routing it for real moves the parked order's commitment
    with store.unit_of_work() as uow:
        decided = net.service.route_order(uow, "web:1001", trigger="manual")
    assert decided.locations == ("chi",)
    assert net.committed("TENT") == {"chi": 2}
    assert net.service.parked() == []
    line = store.order_line("web:order:1001:1")
    assert line is not None
    assert (line.status, line.location_id) == (LineStatus.OPEN, "chi")
    assert store.verify() == []


def _order(ref: str, *, at: str = "W-NYC") -> OrderEvent:
    return web_order(ref, ("TENT", 1), at=at)


def test_a_routed_line_whose_place_lacks_the_units_is_committed_where_the_channel_named_it(store: Store) -> None:

    network(store, {("TENT", "wh"): 5})
    fact = LineFact("web", "1001", "1", "TENT", 2, "wh", NOW)
    with store.unit_of_work() as uow:
        LineBook(uow, ApplyOutcome()).placed(fact, at="chi")  # chi holds none: refused there, nothing left behind
    line = store.order_line(fact.line_id)
    assert line is not None
    assert (line.location_id, line.channel_location_id, line.committed) == ("wh", "wh", 2)
    assert store.position("TENT", "chi").committed == 0
    assert store.verify() == []


def test_the_dispatcher_marks_a_provider_assignment_submitted(store: Store) -> None:
    net = network(store, {("LAMP", "tpl"): 4})
    net.place("1001", ("LAMP", 1))
    with store.unit_of_work() as uow:
        net.service.mark_submitted(uow, "web:1001@tpl#1", "web:1001")
    [assignment] = net.service.assignments("web:1001")
    assert assignment.status == "submitted"
    with store.unit_of_work() as uow:
        net.service.mark_shipped(uow, "web:1001", "tpl")
    assert [a.status for a in net.service.assignments("web:1001")] == ["shipped"]


def test_a_rejection_reroutes_only_the_lines_it_held(store: Store) -> None:
    net = network(store, {("TENT", "nyc"): 1, ("TENT", "wh"): 1, ("LAMP", "chi"): 1})
    net.place("1001", ("TENT", 1), ("LAMP", 1))
    assert [(a.location_id, a.status) for a in net.service.assignments("web:1001")] == [
        ("chi", "assigned"),
        ("nyc", "assigned"),
    ]
    decision = net.service.reject("web:1001", "nyc", "no staff")
    assert decision.locations == ("wh",)
    assert (net.committed("TENT"), net.committed("LAMP")) == ({"wh": 1}, {"chi": 1})
    assert [(a.location_id, a.attempt, a.status) for a in net.service.assignments("web:1001")] == [
        ("chi", 1, "assigned"),
        ("nyc", 1, "rejected"),
        ("wh", 2, "assigned"),
    ]
    [task] = [t for t in net.service.tasks("web:1001") if t["status"] == "pending"]
    assert task["id"] == "assign:web:1001#2"
    where = {line["line_ref"]: line["location_id"] for line in task["payload"]["lines"]}
    assert where == {"1": "wh", "2": "chi"}  # the channel is told where every open line is now


def test_what_the_channel_shows_moves_where_it_took_the_sale_off_not_where_it_ships(store: Store) -> None:

    net = network(store, {("TENT", "wh"): 5, ("TENT", "nyc"): 2})
    store.remember_levels(
        "web", {("TENT", "wh"): LevelNote(5, "push", None, 5), ("TENT", "nyc"): LevelNote(2, "push", None, 2)}
    )
    net.place("1001", ("TENT", 2), at="W-WH")  # the web store took 2 off its warehouse; routing ships from nyc
    known = store.known_levels("web", ["TENT"])
    assert (known[("TENT", "wh")].quantity, known[("TENT", "nyc")].quantity) == (3, 2)
    assert net.committed("TENT") == {"nyc": 2}


def test_a_cancelled_order_cancels_its_assignments_and_pending_tasks(store: Store) -> None:

    net = network(store, {("LAMP", "tpl"): 4})
    net.place("1001", ("LAMP", 1))
    placed = web_order("1001", ("LAMP", 1))

    net.applier().apply_all([OrderEvent("1001", OrderEventKind.CANCELLED, NOW + timedelta(minutes=5), placed.lines)])
    assert net.committed("LAMP") == {}
    assert [(a.status, a.reason) for a in net.service.assignments("web:1001")] == [("cancelled", "order cancelled")]
    assert {task_id: status for task_id, _, status in net.tasks()} == {
        "assign:web:1001#1": "cancelled",
        "submit:web:1001@tpl#1": "cancelled",
    }


def test_a_shipment_the_channel_reports_ships_the_assignment_once_every_unit_left(store: Store) -> None:

    net = network(store, {("TENT", "nyc"): 5})
    net.place("1001", ("TENT", 2))

    def shipped(ref: str, units: int) -> FulfilmentEvent:
        return FulfilmentEvent(
            ref, "1001", NOW + timedelta(hours=1), (FulfilmentLineEvent("1", "TENT", units),), "W-NYC"
        )

    net.applier().apply_all([shipped("f-1", 1)])
    assert [a.status for a in net.service.assignments("web:1001")] == ["assigned"]  # one unit still to go
    net.applier().apply_all([shipped("f-2", 1)])
    assert [a.status for a in net.service.assignments("web:1001")] == ["shipped"]
    assert net.committed("TENT") == {}


def test_units_the_channel_shipped_from_elsewhere_close_the_assignment_where_they_were(store: Store) -> None:
    net = network(store, {("TENT", "nyc"): 5, ("TENT", "chi"): 5})
    net.place("1001", ("TENT", 1))
    left = FulfilmentEvent("f-1", "1001", NOW + timedelta(hours=1), (FulfilmentLineEvent("1", "TENT", 1),), "W-CHI")
    net.applier().apply_all([left])
    assert [(a.location_id, a.status, a.reason) for a in net.service.assignments("web:1001")] == [
        ("nyc", "cancelled", "shipped from chi")
    ]
    assert net.committed("TENT") == {}
