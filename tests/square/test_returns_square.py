"""Square returns and refunds: a return at the till (a return order at a store) is a ReturnEvent restocking at
that store, a refund without items a money-only RefundEvent; from webhooks and from read-back. The emulator's
RefundPayment, GetPaymentRefund and till returns behave as Square documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.square import returns
from omnibridge.sdk.channel import OrderEvent, RefundEvent
from omnibridge.sdk.returns import Disposition, ReturnEvent, ReturnState

from .test_client_emulator import TOKEN, World
from .test_shipments import recorded_world, spec_problems


async def delivered(w: World) -> list[Any]:
    await w.emu.webhooks.drain()
    events: list[Any] = []
    for headers, body in w.received:
        delivery = w.client.verify_webhook(body, headers, "http://internal/hook")
        events.extend(await w.client.webhook_events(delivery))
    w.received.clear()
    return events


def api(w: World) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=w.emu.app),
        base_url="http://square.emulator",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )


def test_a_return_at_another_store_is_a_return_event_restocking_there_once() -> None:
    world = World()

    async def scenario(w: World) -> None:
        sale = w.emu.pos_sale(w.main, [("TEE-RED-M", 2)])
        await delivered(w)
        line = sale["line_items"][0]
        back = w.emu.till_return(sale["id"], [(line["uid"], 1)], location_id=w.mall, reason="Too small")
        events = await delivered(w)
        topics = [e["type"] for e in w.emu.events[-4:]]
        assert topics == ["refund.created", "refund.updated", "order.updated", "inventory.count.updated"]
        found = [e for e in events if isinstance(e, ReturnEvent)]
        assert {e.ref for e in found} == {back["id"]}  # refund.created, refund.updated, order.updated: one return
        event = found[0]
        assert (event.order_ref, event.state, event.at_store, event.location_ref) == (
            sale["id"],
            ReturnState.CLOSED,
            True,
            w.mall,
        )
        (returned,) = event.lines
        assert (returned.line_ref, returned.sku, returned.quantity) == (line["uid"], "TEE-RED-M", 1)
        assert (returned.disposition, returned.location_ref) == (Disposition.RESTOCK, w.mall)
        assert (event.refund, event.currency) == ("2500", "USD")
        assert not [e for e in events if isinstance(e, RefundEvent | OrderEvent)]  # never restocked twice

    world.run(scenario)


def test_returns_and_money_only_refunds_arrive_on_read_back(tmp_path: Path) -> None:
    world = recorded_world(tmp_path)

    async def scenario(w: World) -> None:
        first = await w.client.pull_events(None)
        sale = w.emu.pos_sale(w.main, [("TEE-RED-M", 2)])
        payment = w.emu.pay(sale["id"])
        back = w.emu.till_return(sale["id"], [(sale["line_items"][0]["uid"], 2)])
        async with api(w) as client:
            body = {
                "idempotency_key": "goodwill-1",
                "payment_id": payment,
                "amount_money": {"amount": 500, "currency": "USD"},
                "reason": "Late delivery",
            }
            answer = await client.post("/v2/refunds", json=body)
        assert answer.status_code == 400  # the till return refunded the whole payment already
        assert answer.json()["errors"][0]["code"] == "REFUND_AMOUNT_INVALID"
        second = await w.client.pull_events(first.bookmark)
        (returned,) = [e for e in second.events if isinstance(e, ReturnEvent)]
        assert (returned.ref, returned.order_ref, returned.location_ref) == (back["id"], sale["id"], w.main)
        assert [(ln.quantity, ln.disposition) for ln in returned.lines] == [(2, Disposition.RESTOCK)]
        assert [e for e in second.events if isinstance(e, RefundEvent)] == []
        assert [e.ref for e in second.events if isinstance(e, OrderEvent)] == [sale["id"]]

    world.run(scenario)
    assert spec_problems(tmp_path) == []


def test_a_refund_without_items_is_money_only_by_webhook_and_read_back(tmp_path: Path) -> None:
    world = recorded_world(tmp_path)

    async def scenario(w: World) -> None:
        first = await w.client.pull_events(None)
        sale = w.emu.pos_sale(w.main, [("TEE-RED-M", 1)])
        payment = w.emu.pay(sale["id"])
        await delivered(w)
        body = {
            "idempotency_key": "goodwill-1",
            "payment_id": payment,
            "amount_money": {"amount": 500, "currency": "USD"},
            "reason": "Late delivery",
        }
        async with api(w) as client:
            answer = await client.post("/v2/refunds", json=body)
            replay = await client.post("/v2/refunds", json=body)
            fetched = await client.get(f"/v2/refunds/{answer.json()['refund']['id']}")
        refund = answer.json()["refund"]
        assert (answer.status_code, refund["status"], refund["order_id"]) == (200, "PENDING", sale["id"])
        assert replay.json() == answer.json()
        assert fetched.json()["refund"]["status"] == "COMPLETED"
        hooked = await delivered(w)
        assert [e["type"] for e in w.emu.events[-2:]] == ["refund.created", "refund.updated"]
        money = [e for e in hooked if isinstance(e, RefundEvent)]
        assert {(e.ref, e.order_ref, e.lines) for e in money} == {(refund["id"], sale["id"], ())}
        assert [e for e in hooked if isinstance(e, ReturnEvent)] == []
        second = await w.client.pull_events(first.bookmark)
        polled = [e for e in second.events if isinstance(e, RefundEvent)]
        assert [(e.ref, e.lines) for e in polled] == [(refund["id"], ())]

    world.run(scenario)
    assert spec_problems(tmp_path) == []


def test_refund_payment_is_checked_as_square_does() -> None:
    world = World()

    async def scenario(w: World) -> None:
        sale = w.emu.pos_sale(w.main, [("TEE-RED-M", 1)])
        payment = w.emu.pay(sale["id"])
        assert w.emu.pay(sale["id"]) == payment  # paid once

        def body(key: str, amount: int, **extra: Any) -> dict[str, Any]:
            return {"idempotency_key": key, "amount_money": {"amount": amount, "currency": "USD"}} | extra

        async with api(w) as client:
            cases = [
                (body("a", 2600, payment_id=payment), 400, "REFUND_AMOUNT_INVALID"),
                (body("b", 100, payment_id="NOPE"), 404, "NOT_FOUND"),
                (body("c", 100, unlinked=True, location_id=w.main), 400, "BAD_REQUEST"),
                (body("k" * 46, 100, payment_id=payment), 400, "VALUE_TOO_LONG"),
            ]
            for sent, status, code in cases:
                answer = await client.post("/v2/refunds", json=sent)
                assert (answer.status_code, answer.json()["errors"][0]["code"]) == (status, code)
            assert (await client.post("/v2/refunds", json=body("d", 2000, payment_id=payment))).status_code == 200
            reused = await client.post("/v2/refunds", json=body("d", 100, payment_id=payment))
            assert reused.json()["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
            over = await client.post("/v2/refunds", json=body("e", 501, payment_id=payment))
            assert over.json()["errors"][0]["code"] == "REFUND_AMOUNT_INVALID"
            missing = await client.get("/v2/refunds/NOPE")
            assert (missing.status_code, missing.json()["errors"][0]["code"]) == (404, "NOT_FOUND")
        assert len(w.emu.state.orders[sale["id"]]["refunds"]) == 1

    world.run(scenario)


def test_returning_more_than_was_sold_is_refused_at_the_till() -> None:
    world = World()

    async def scenario(w: World) -> None:
        sale = w.emu.pos_sale(w.main, [("TEE-RED-M", 2)])
        uid = sale["line_items"][0]["uid"]
        w.emu.till_return(sale["id"], [(uid, 1)])
        with pytest.raises(ValueError, match="1 left to return"):
            w.emu.till_return(sale["id"], [(uid, 2)])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=w.emu.app), base_url="http://e") as client:
            path = f"/_emulator/orders/{sale['id']}/till-return"
            answer = await client.post(path, json={"lines": [{"uid": uid, "quantity": 1}], "restock": False})
            refused = await client.post(path, json={"lines": [{"uid": uid, "quantity": 1}]})
        assert answer.status_code == 200
        assert answer.json()["order"]["returns"][0]["source_order_id"] == sale["id"]
        assert (refused.status_code, "0 left to return" in refused.json()["error"]) == (400, True)
        assert w.emu.quantity("TEE-RED-M", w.main) == 9  # 10 - 2 sold + 1 restocked (the second not restocked)

    world.run(scenario)


def test_return_orders_with_several_sources_and_dead_refunds() -> None:
    line = {"uid": "R1", "source_line_item_uid": "L1", "catalog_object_id": "V1", "quantity": "1"}
    order = {
        "id": "RET",
        "location_id": "LOC",
        "created_at": "2026-03-02T15:00:00Z",
        "returns": [
            {"uid": "A", "source_order_id": "O1", "return_line_items": [line]},
            {"uid": "B", "source_order_id": "O2", "return_line_items": [line | {"quantity": "0.5"}]},
        ],
    }
    events, messages = returns.return_events(order, {"V1": "TEE"})
    assert [(e.ref, e.order_ref, len(e.lines)) for e in events] == [("RET:A", "O1", 1), ("RET:B", "O2", 0)]
    assert [m.field_path for m in messages] == ["returns.1.return_line_items.0"]
    plain = {
        "id": "O1",
        "updated_at": "2026-03-02T15:00:00Z",
        "refunds": [{"id": "F1", "status": "REJECTED"}, {"id": "F2", "status": "APPROVED"}],
    }
    assert [e.ref for e in returns.refund_events(plain)] == ["F2"]
    assert returns.refund_events(order) == []


def test_a_return_the_till_did_not_restock_leaves_the_disposition_to_staff() -> None:
    world = World()

    async def scenario(w: World) -> None:
        sale = w.emu.pos_sale(w.main, [("TEE-RED-M", 2), ("MUG-BLUE", 1)])
        await delivered(w)
        tee, mug = (line["uid"] for line in sale["line_items"])
        w.emu.till_return(sale["id"], [(tee, 1)], restock=False, reason="Stained")
        events = await delivered(w)
        (event,) = {e.ref: e for e in events if isinstance(e, ReturnEvent)}.values()
        assert event.state is ReturnState.RECEIVED
        assert [(ln.line_ref, ln.disposition, ln.location_ref) for ln in event.lines] == [(tee, None, None)]
        w.emu.till_return(sale["id"], [(tee, 1), (mug, 1)])
        later = [e for e in await delivered(w) if isinstance(e, ReturnEvent) and e.ref != event.ref]
        assert {e.state for e in later} == {ReturnState.CLOSED}
        assert [(ln.line_ref, ln.disposition) for ln in later[0].lines] == [
            (tee, Disposition.RESTOCK),
            (mug, Disposition.RESTOCK),
        ]

    world.run(scenario)
