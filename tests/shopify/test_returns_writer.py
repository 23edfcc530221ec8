"""ShopifyClient.write_return against the emulator: request, create, approve, label, and process (returnProcess
from 2025-07, reverseFulfillmentOrderDispose + returnRefund + returnClose before), with repeats and refusals.
Every request the client sends is checked against Shopify's official schema of its version."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.shopify.client import ShopifyClient
from connectors.shopify.emulator.return_state import ReturnRecord
from omnibridge.sdk.returns import Disposition, ReturnLineEvent, ReturnRequest, ReturnResult, ReturnState, ReturnWriter

from .fulfilment_support import STOVE, TENT, Shop

NEW, OLD = "2026-04", "2025-01"
LABEL = "https://labels.example/return-1.pdf"


def shipped_order(shop: Shop, tents: int = 2) -> tuple[str, dict[str, str]]:
    order, lines = shop.order([(TENT, tents), (STOVE, 1)])
    shop.emu.fulfill(order)
    return order, lines


def request(
    order: str, lines: dict[str, str], state: ReturnState, *rows: ReturnLineEvent, **extra: object
) -> ReturnRequest:
    chosen = rows or (ReturnLineEvent("rma-1/1", lines[TENT], TENT, 2, reason="size_too_small"),)
    return ReturnRequest("RMA-1", order, state, tuple(chosen), **extra)  # type: ignore[arg-type]


def closing(order: str, lines: dict[str, str], store: str, **extra: object) -> ReturnRequest:
    return request(
        order,
        lines,
        ReturnState.CLOSED,
        ReturnLineEvent("rma-1/1", lines[TENT], TENT, 1, disposition=Disposition.RESTOCK, location_ref=store),
        ReturnLineEvent("rma-1/2", lines[TENT], TENT, 1, disposition=Disposition.DAMAGED),
        **extra,
    )


def emulated_returns(shop: Shop, order: str) -> list[ReturnRecord]:
    return shop.emu.state.order(int(order.rsplit("/", 1)[1])).returns


@pytest.mark.parametrize("version", [OLD, NEW])
def test_open_creates_the_return_with_its_label_once(tmp_path: Path, version: str) -> None:
    shop = Shop(version, tmp_path / "requests.jsonl")
    order, lines = shipped_order(shop)
    ask = request(order, lines, ReturnState.OPEN, tracking_number="9400100000000000000001", label_url=LABEL)

    async def scenario(client: ShopifyClient) -> tuple[ReturnResult, ReturnResult]:
        return await client.write_return(ask), await client.write_return(ask)

    first, again = shop.run(scenario)
    assert first.accepted, first
    assert not first.duplicate
    assert again.accepted
    assert again.duplicate
    assert again.channel_return_ref == first.channel_return_ref
    (record,) = emulated_returns(shop, order)
    assert record.status == "OPEN"
    assert [(line.quantity, line.reason) for line in record.lines] == [(2, "SIZE_TOO_SMALL")]
    assert "[omnibridge RMA RMA-1]" in record.lines[0].reason_note
    (delivery,) = record.deliveries
    assert (delivery.tracking_number, delivery.label_url) == ("9400100000000000000001", LABEL)
    assert shop.operations().count("CreateReturn") == 1
    assert shop.operations().count("AttachReturnLabel") == 1
    assert shop.invalid_requests() == []


def test_requested_then_open_requests_and_approves_the_same_return(tmp_path: Path) -> None:
    shop = Shop(NEW, tmp_path / "requests.jsonl")
    order, lines = shipped_order(shop)

    async def scenario(client: ShopifyClient) -> list[ReturnResult]:
        return [
            await client.write_return(request(order, lines, ReturnState.REQUESTED)),
            await client.write_return(request(order, lines, ReturnState.REQUESTED)),
            await client.write_return(request(order, lines, ReturnState.OPEN)),
            await client.write_return(request(order, lines, ReturnState.OPEN)),
        ]

    asked, asked_again, opened, opened_again = shop.run(scenario)
    assert asked.accepted
    assert not asked.duplicate
    assert asked_again.duplicate
    assert opened.accepted
    assert not opened.duplicate
    assert opened_again.duplicate
    assert {asked.channel_return_ref, opened.channel_return_ref} == {asked.channel_return_ref}
    (record,) = emulated_returns(shop, order)
    assert record.status == "OPEN"
    assert [op for op in shop.operations() if op != "ReturnOrder"] == ["RequestReturn", "ApproveReturn"]
    assert shop.invalid_requests() == []


@pytest.mark.parametrize(
    ("version", "calls"),
    [(NEW, ["ProcessReturn"]), (OLD, ["DisposeReturn", "RefundReturn", "CloseReturn"])],
)
def test_closed_records_dispositions_and_the_refund_restocking_only_what_is_restocked(
    tmp_path: Path, version: str, calls: list[str]
) -> None:
    shop = Shop(version, tmp_path / "requests.jsonl")
    order, lines = shipped_order(shop)
    main_before, store_before = shop.emu.available(TENT, shop.main), shop.emu.available(TENT, shop.store)
    done = closing(order, lines, shop.store, refund="199.00", currency="USD")

    async def scenario(client: ShopifyClient) -> tuple[ReturnResult, ReturnResult]:
        assert (await client.write_return(request(order, lines, ReturnState.OPEN))).accepted
        return await client.write_return(done), await client.write_return(done)

    first, again = shop.run(scenario)
    assert first.accepted, first
    assert not first.duplicate
    assert again.accepted
    assert again.duplicate
    (record,) = emulated_returns(shop, order)
    assert record.status == "CLOSED"
    assert sorted(d.type for line in record.reverse_lines for d in line.dispositions) == ["NOT_RESTOCKED", "RESTOCKED"]
    assert shop.emu.available(TENT, shop.store) == store_before + 1  # the restocked unit, at the named store
    assert shop.emu.available(TENT, shop.main) == main_before  # the damaged one is not sellable
    (refund,) = shop.emu.state.order(int(order.rsplit("/", 1)[1])).refunds
    assert refund.return_id == record.id
    assert [op for op in shop.operations() if op not in ("ReturnOrder", "CreateReturn")] == calls
    assert shop.invalid_requests() == []


@pytest.mark.parametrize("version", [OLD, NEW])
def test_writes_the_channel_cannot_take_are_refused_with_the_reason(tmp_path: Path, version: str) -> None:
    shop = Shop(version, tmp_path / "requests.jsonl")
    order, lines = shipped_order(shop)
    unshipped, unshipped_lines = shop.order([(TENT, 1)])
    too_many = ReturnLineEvent("rma-1/1", lines[TENT], TENT, 3)
    undecided = ReturnLineEvent("rma-1/1", lines[TENT], TENT, 2)
    nowhere = ReturnLineEvent("rma-1/1", lines[TENT], TENT, 2, disposition=Disposition.RESTOCK)

    async def scenario(client: ShopifyClient) -> list[ReturnResult]:
        results = [
            await client.write_return(request(order, lines, ReturnState.OPEN, too_many)),
            await client.write_return(request(unshipped, unshipped_lines, ReturnState.OPEN)),
            await client.write_return(request(order, lines, ReturnState.CLOSED)),
            await client.write_return(request(order, lines, ReturnState.RECEIVED)),
        ]
        assert (await client.write_return(request(order, lines, ReturnState.OPEN))).accepted
        results.append(await client.write_return(request(order, lines, ReturnState.CLOSED, undecided)))
        results.append(await client.write_return(request(order, lines, ReturnState.CLOSED, nowhere)))
        return results

    too_much, not_shipped, nothing_to_close, received, no_disposition, no_location = shop.run(scenario)
    assert not too_much.accepted
    assert "1 of 3 units are not fulfilled units outside a return" in too_much.message
    assert not not_shipped.accepted
    assert "not fulfilled" in not_shipped.message
    assert not nothing_to_close.accepted
    assert "no return for RMA RMA-1" in nothing_to_close.message
    assert not received.accepted
    assert "expected requested, open or closed" in received.message
    assert not no_disposition.accepted
    assert "needs a disposition" in no_disposition.message
    assert not no_location.accepted
    assert "needs the location" in no_location.message
    (record,) = emulated_returns(shop, order)
    assert record.status == "OPEN"
    assert not any(line.dispositions for line in record.reverse_lines)
    assert shop.invalid_requests() == []


def test_the_client_is_a_return_writer(tmp_path: Path) -> None:
    shop = Shop(NEW, tmp_path / "requests.jsonl")
    assert isinstance(shop.client, ReturnWriter)
    shop.run(lambda client: client.aclose())
