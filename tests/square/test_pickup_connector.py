"""SquareConnector and pickups against the emulator: PickupEvents from order.fulfillment.updated webhooks and from
read-back of changes made at the till (which fire no webhook), and the PickupStatusWriter moving the PICKUP
fulfillment through UpdateOrder (every request checked against Square's OpenAPI spec)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.square.client import SquareConnector
from connectors.square.pickup_writer import PICKUP_STATES
from omnibridge.errors import RetriableConnectorError
from omnibridge.sdk.channel import OrderEvent
from omnibridge.sdk.pickup import PickupEvent, PickupState, PickupStatusWriter, PickupUpdate

from .test_client_emulator import World
from .test_shipments import recorded_world, spec_problems

RECIPIENT = {"display_name": "Jaiden Urie", "phone_number": "+13035550100"}
UPDATE = "PUT /v2/orders/{order_id}"


def pickup_order(w: World, **details: Any) -> dict[str, Any]:
    return w.emu.pickup_order(w.main, [("TEE-RED-M", 1)], RECIPIENT, **details)


def fulfillment(w: World, order_id: str) -> dict[str, Any]:
    found: dict[str, Any] = w.emu.state.orders[order_id]["fulfillments"][0]
    return found


def update(order: dict[str, Any], state: PickupState, **extra: Any) -> PickupUpdate:
    return PickupUpdate(reference=f"pickup-1:{state.value}", order_ref=order["id"], state=state, **extra)


async def webhook_events(w: World) -> list[Any]:
    await w.emu.webhooks.drain()
    events: list[Any] = []
    for headers, body in w.received:
        delivery = w.client.verify_webhook(body, headers, "http://internal/hook")
        events.extend(await w.client.webhook_events(delivery))
    w.received.clear()
    return events


def pickup_events(events: list[Any]) -> list[tuple[str, PickupState]]:
    return [(e.ref, e.state) for e in events if isinstance(e, PickupEvent)]


def test_the_connector_is_a_pickup_status_writer_for_everything_square_can_show() -> None:
    world = World()

    async def scenario(w: World) -> None:
        assert isinstance(w.client, PickupStatusWriter)

    world.run(scenario)
    assert SquareConnector.pickup_states == PICKUP_STATES
    assert PickupState.ARRIVED not in PICKUP_STATES  # the buyer says so, not the merchant


def test_reserve_ready_collect_through_update_order(tmp_path: Path) -> None:
    world = recorded_world(tmp_path)

    async def scenario(w: World) -> None:
        order = pickup_order(w)
        pickup_at = w.clock.now + timedelta(hours=2)
        reserve = update(
            order,
            PickupState.RESERVED,
            location_ref=w.main,
            pickup_at=pickup_at,
            window_minutes=30,
            prep_minutes=45,
            expires_at=pickup_at + timedelta(days=2),
            curbside=True,
        )
        result = await w.client.update_pickup(reserve)
        assert (result.accepted, result.duplicate) == (True, False)
        details = fulfillment(w, order["id"])["pickup_details"]
        assert fulfillment(w, order["id"])["state"] == "RESERVED"
        assert (details["pickup_window_duration"], details["prep_time_duration"]) == ("PT30M", "PT45M")
        assert details["is_curbside_pickup"] is True
        assert details["expires_at"].startswith((pickup_at + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"))
        assert pickup_events(await webhook_events(w)) == []  # reserved: the order event carries it
        uid = fulfillment(w, order["id"])["uid"]
        for state, square in ((PickupState.READY, "PREPARED"), (PickupState.COLLECTED, "COMPLETED")):
            assert (await w.client.update_pickup(update(order, state))).accepted
            assert fulfillment(w, order["id"])["state"] == square
            events = await webhook_events(w)
            assert pickup_events(events) == [(f"{order['id']}:{uid}:{state.value}", state)]
        assert w.emu.calls[UPDATE] == 3
        orders = [e for e in events if isinstance(e, OrderEvent)]
        assert orders[-1].pickup is not None
        assert orders[-1].pickup.state is PickupState.COLLECTED

    world.run(scenario)
    assert spec_problems(tmp_path) == []


def test_a_repeat_is_a_duplicate_without_a_write_and_a_backward_move_is_refused() -> None:
    world = World()

    async def scenario(w: World) -> None:
        order = pickup_order(w)
        assert (await w.client.update_pickup(update(order, PickupState.READY))).accepted
        again = await w.client.update_pickup(update(order, PickupState.READY))
        assert (again.accepted, again.duplicate) == (True, True)
        back = await w.client.update_pickup(update(order, PickupState.RESERVED))
        assert back.accepted is False
        assert back.message == "the pickup is PREPARED on Square and cannot become RESERVED"
        assert w.emu.calls[UPDATE] == 1

    world.run(scenario)


def test_cancel_expire_and_reject_cancel_with_a_reason() -> None:
    world = World()

    async def scenario(w: World) -> None:
        for state, reason in (
            (PickupState.CANCELLED, "Customer called"),
            (PickupState.EXPIRED, "not collected before the hold expired"),
            (PickupState.REJECTED, "Damaged in store"),
        ):
            order = pickup_order(w)
            sent = reason if state is not PickupState.EXPIRED else ""
            assert (await w.client.update_pickup(update(order, state, reason=sent))).accepted
            found = fulfillment(w, order["id"])
            assert (found["state"], found["pickup_details"]["cancel_reason"]) == ("CANCELED", reason)
            finished = await w.client.update_pickup(update(order, PickupState.READY))
            assert finished.accepted is False
            assert "CANCELED" in finished.message

    world.run(scenario)


def test_an_expiry_beyond_seven_days_is_refused_before_any_call() -> None:
    world = World()

    async def scenario(w: World) -> None:
        order = pickup_order(w)
        calls = sum(w.emu.calls.values())
        late = update(order, PickupState.RESERVED, expires_at=w.clock.now + timedelta(days=7, minutes=5))
        result = await w.client.update_pickup(late)
        assert result.accepted is False
        assert "at most 7 days from now" in result.message
        assert sum(w.emu.calls.values()) == calls
        arrived = await w.client.update_pickup(update(order, PickupState.ARRIVED))
        assert arrived.accepted is False
        assert "cannot be told a pickup is arrived" in arrived.message

    world.run(scenario)


def test_a_stale_version_is_read_again_and_retried_once() -> None:
    world = World()

    async def scenario(w: World) -> None:
        order = pickup_order(w)
        real = w.client.pickups._orders._order
        moved = False

        async def read_then_race(order_id: str) -> Any:
            nonlocal moved
            got = await real(order_id)
            if not moved:  # staff change the order at the till between our read and our write
                moved = True
                w.emu.till_pickup(order_id, "RESERVED")
            return got

        w.client.pickups._orders._order = read_then_race  # type: ignore[method-assign]
        result = await w.client.update_pickup(update(order, PickupState.READY))
        assert (result.accepted, result.duplicate) == (True, False)
        assert fulfillment(w, order["id"])["state"] == "PREPARED"
        assert w.emu.calls[UPDATE] == 2

        async def always_stale(order_id: str) -> Any:
            got = await real(order_id)
            w.emu.till_pickup(order_id, arrived=True)
            return got

        w.client.pickups._orders._order = always_stale  # type: ignore[method-assign]
        with pytest.raises(RetriableConnectorError, match="kept changing"):
            await w.client.update_pickup(update(order, PickupState.COLLECTED))

    world.run(scenario)


def test_till_changes_and_curbside_arrival_arrive_on_read_back_once() -> None:
    world = World()

    async def scenario(w: World) -> None:
        order = pickup_order(w, is_curbside_pickup=True)
        first = await w.client.pull_events(None)
        (placed,) = [e for e in first.events if isinstance(e, OrderEvent)]
        assert placed.pickup is not None
        assert (placed.pickup.location_ref, placed.pickup.curbside) == (w.main, True)
        assert pickup_events(first.events) == []
        w.emu.till_pickup(order["id"], "PREPARED")
        w.emu.till_pickup(order["id"], arrived=True, note="Grey estate car")
        second = await w.client.pull_events(first.bookmark)
        uid = fulfillment(w, order["id"])["uid"]
        (arrived,) = [e for e in second.events if isinstance(e, PickupEvent)]
        assert (arrived.ref, arrived.state, arrived.note) == (
            f"{order['id']}:{uid}:arrived",
            PickupState.ARRIVED,
            "Grey estate car",
        )
        assert await webhook_events(w) != []  # order.created only: no webhook told of the till changes
        assert w.emu.events[-1]["type"] == "order.created"
        again = await w.client.pull_events(second.bookmark)  # the overlap reads the order again
        assert pickup_events(again.events) == []
        w.emu.till_pickup(order["id"], "COMPLETED")
        third = await w.client.pull_events(again.bookmark)
        assert pickup_events(third.events) == [(f"{order['id']}:{uid}:collected", PickupState.COLLECTED)]

    world.run(scenario)


def test_a_redelivered_fulfillment_webhook_repeats_nothing() -> None:
    world = World()

    async def scenario(w: World) -> None:
        order = pickup_order(w)
        assert (await w.client.update_pickup(update(order, PickupState.READY))).accepted
        assert len(pickup_events(await webhook_events(w))) == 1
        w.emu.redeliver_last("order.fulfillment.updated")
        assert pickup_events(await webhook_events(w)) == []  # the same state: already reported

    world.run(scenario)


def test_fulfillment_webhooks_handled_late_still_report_each_state_they_announced() -> None:
    world = World()

    async def scenario(w: World) -> None:
        order = pickup_order(w)
        for state in (PickupState.RESERVED, PickupState.READY, PickupState.COLLECTED):
            assert (await w.client.update_pickup(update(order, state))).accepted
        uid = fulfillment(w, order["id"])["uid"]
        reported = pickup_events(await webhook_events(w))  # every order read now shows COMPLETED
        assert sorted(reported) == [
            (f"{order['id']}:{uid}:collected", PickupState.COLLECTED),
            (f"{order['id']}:{uid}:ready", PickupState.READY),
        ]

    world.run(scenario)
