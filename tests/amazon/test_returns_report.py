"""Amazon returns from the returns report (Reports API 2021-06-30): parsing the documented columns, the 60-day
split, each row read once across polls, malformed rows counted, FATAL and slow reports; every request the
connector sends is checked against Amazon's models."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.amazon.emulator import AmazonEmulatorConfig
from connectors.amazon.returns import split_range
from connectors.amazon.returns_report import COLUMNS, parse_document, return_events, row_key
from omnibridge.sdk.emulator import read_recorded
from omnibridge.sdk.returns import ReturnEvent, ReturnState

from .test_client_emulator import EMU_URL, World, world

RETURNS: dict[str, Any] = {
    "returns_report": True,
    "returns_lookback_days": 90,
    "report_poll_seconds": 1.0,
    "returns_poll_minutes": 10,
}
# Time moves less than an hour in each test: the orders poller's restricted data token is cached on the real
# monotonic clock, so the fake clock must not outlive it.


def document(*rows: dict[str, str]) -> str:
    lines = ["\t".join(COLUMNS)]
    lines += ["\t".join(row.get(column, "") for column in COLUMNS) for row in rows]
    return "\n".join(lines) + "\n"


def row(**values: str) -> dict[str, str]:
    base = {
        "Order ID": "111-0000001-0000001",
        "Return request date": "2026-02-20T10:00:00Z",
        "Return request status": "Approved",
        "Amazon RMA ID": "DABC123",
        "Merchant SKU": "TENT-1",
        "Return quantity": "1",
        "Return Reason": "DEFECTIVE",
        "Currency code": "USD",
    }
    return {**base, **{name.replace("_", " "): value for name, value in values.items()}}


def returns_of(events: list[Any]) -> list[ReturnEvent]:
    return [event for event in events if isinstance(event, ReturnEvent)]


def report_bodies(w: World) -> list[Any]:
    return [r["body"] for r in read_recorded(w.record) if r.get("path") == "/reports/2021-06-30/reports"]


def test_rows_of_one_request_are_one_return_with_a_line_per_sku() -> None:
    text = document(
        row(Return_delivery_date="2026-02-25T09:00:00Z", Tracking_ID="1Z1", Return_carrier="UPS"),
        row(Merchant_SKU="STOVE-2", Return_quantity="2", Refunded_Amount="30.00"),
        row(Order_ID="222-0000002-0000002", Amazon_RMA_ID="", Return_request_status="Pending"),
    )
    rows, messages = parse_document(text)
    assert messages == []
    first, second = return_events(rows)
    assert first.ref == "111-0000001-0000001:DABC123"
    assert first.state is ReturnState.RECEIVED  # approved and delivered
    assert [(line.return_line_ref, line.sku, line.quantity, line.disposition) for line in first.lines] == [
        ("111-0000001-0000001:DABC123:TENT-1", "TENT-1", 1, None),
        ("111-0000001-0000001:DABC123:STOVE-2", "STOVE-2", 2, None),
    ]
    assert (first.tracking_number, first.carrier, first.currency) == ("1Z1", "UPS", "USD")
    assert first.lines[0].reason == "DEFECTIVE"
    assert second.state is ReturnState.REQUESTED
    assert second.ref.startswith("222-0000002-0000002:row-")
    assert return_events(parse_document(text)[0])[1].ref == second.ref  # stable without an RMA id


def test_malformed_rows_are_skipped_with_their_line_and_the_rest_map() -> None:
    text = document(
        row(),
        row(Merchant_SKU=""),
        row(Return_quantity="two"),
        row(Return_request_status="Lost in space"),
        row(Return_request_date="yesterday"),
    )
    rows, messages = parse_document(text)
    assert len(rows) == 1
    assert [m.field_path for m in messages] == ["line 3", "line 4", "line 5", "line 6"]
    assert "Return quantity 'two' is not a positive whole number" in messages[1].message
    assert "'Lost in space' is not one of" in messages[2].message
    assert all(m.level.value == "error" for m in messages)
    _, header = parse_document("Order ID\tFoo\n1\t2\n")
    assert "header lacks Return request date" in header[0].message


def test_a_status_change_is_a_new_row_key_the_same_row_is_not() -> None:
    [one] = parse_document(document(row()))[0]
    [same] = parse_document(document(row()))[0]
    [closed] = parse_document(document(row(Return_request_status="Closed")))[0]
    assert row_key(one) == row_key(same)
    assert row_key(one) != row_key(closed)


def test_ranges_are_split_into_at_most_sixty_days() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert split_range(start, start + timedelta(days=60)) == [(start, start + timedelta(days=60))]
    parts = split_range(start, start + timedelta(days=125))
    assert [(b - a).days for a, b in parts] == [60, 60, 5]
    assert parts[0][1] == parts[1][0]
    assert split_range(start, start) == []


@pytest.mark.anyio
async def test_ninety_days_are_two_reports_and_each_row_is_read_once(tmp_path: Path) -> None:
    async with world(tmp_path, None, **RETURNS) as w:
        now = w.time.now()
        w.emu.control.add_return("TENT-1", 1, order_id="111-1", rma_id="R1", requested_at=now - timedelta(days=80))
        w.emu.control.add_return("STOVE-2", 2, order_id="111-2", rma_id="R2", requested_at=now - timedelta(days=10))
        w.time.t += 180
        first = await w.client.pull_events(None)
        assert sorted(e.ref for e in returns_of(first.events)) == ["111-1:R1", "111-2:R2"]
        bodies = report_bodies(w)
        assert len(bodies) == 2
        spans = [
            datetime.fromisoformat(b["dataEndTime"].replace("Z", "+00:00"))
            - datetime.fromisoformat(b["dataStartTime"].replace("Z", "+00:00"))
            for b in bodies
        ]
        assert all(span <= timedelta(days=60) for span in spans)
        assert bodies[0]["dataEndTime"] == bodies[1]["dataStartTime"]
        # later: a new report reaching a day back shows the recent one again plus a new one; only the new one comes
        w.time.t += 600
        w.emu.control.add_return("TENT-1", 1, order_id="111-3", rma_id="R3")
        w.time.t += 60
        second = await w.client.pull_events(first.bookmark)
        assert [e.ref for e in returns_of(second.events)] == ["111-3:R3"]
        w.time.t += 700
        third = await w.client.pull_events(second.bookmark)
        assert returns_of(third.events) == []
        assert json.loads(third.bookmark or "{}")["returns"]["pending"] == []
        assert w.spec_problems() == []


@pytest.mark.anyio
async def test_a_gzip_document_with_malformed_rows_counts_them_and_keeps_the_rest(tmp_path: Path) -> None:
    async with world(tmp_path, AmazonEmulatorConfig(report_compression="GZIP"), **RETURNS) as w:
        w.emu.control.add_return("TENT-1", 1, order_id="111-1", rma_id="R1", status="Closed")
        w.emu.control.add_raw_return_row("111-9\tnot a date\tApproved")
        w.time.t += 180
        pulled = await w.client.pull_events(None)
        [event] = returns_of(pulled.events)
        assert (event.ref, event.state) == ("111-1:R1", ReturnState.CLOSED)
        skipped = [m for m in pulled.messages if m.field_path.startswith("line ")]
        assert len(skipped) == 1
        assert skipped[0].record_id == "111-9"
        assert w.client.returns.malformed_rows == 1
        w.time.t += 700  # the next report reaches back over both rows: neither comes again
        again = await w.client.pull_events(pulled.bookmark)
        assert returns_of(again.events) == []
        assert [m for m in again.messages if m.field_path.startswith("line ")] == []
        assert w.client.returns.malformed_rows == 1
        assert w.emu.control.calls()["createReport"] == 3  # 90 days in two, then one reaching a day back
        assert w.spec_problems() == []


@pytest.mark.anyio
async def test_a_fatal_report_is_one_message_and_its_range_is_asked_again(tmp_path: Path) -> None:
    async with world(tmp_path, None, **{**RETURNS, "returns_lookback_days": 30}) as w:
        w.emu.control.add_return("TENT-1", 1, order_id="111-1", rma_id="R1", requested_at=w.time.now())
        w.emu.control.fail_next_report()
        w.time.t += 180
        first = await w.client.pull_events(None)
        assert returns_of(first.events) == []
        assert any("(FATAL)" in m.message for m in first.messages)
        w.time.t += 700
        second = await w.client.pull_events(first.bookmark)
        assert [e.ref for e in returns_of(second.events)] == ["111-1:R1"]
        starts = [body["dataStartTime"] for body in report_bodies(w)]
        assert starts[0] == starts[1]  # the failed range again, not an overlap further back


@pytest.mark.anyio
async def test_a_slow_report_stays_pending_and_is_not_requested_twice(tmp_path: Path) -> None:
    config = AmazonEmulatorConfig(report_processing_s=600.0)
    async with world(tmp_path, config, **RETURNS, returns_report_wait_seconds=0.0) as w:
        w.emu.control.add_return("TENT-1", 1, order_id="111-1", rma_id="R1")
        w.time.t += 180
        first = await w.client.pull_events(None)
        assert returns_of(first.events) == []
        assert len(json.loads(first.bookmark or "{}")["returns"]["pending"]) == 2
        w.time.t += 700
        second = await w.client.pull_events(first.bookmark)
        assert [e.ref for e in returns_of(second.events)] == ["111-1:R1"]
        assert w.emu.control.calls()["createReport"] == 2
        assert w.spec_problems() == []


@pytest.mark.anyio
async def test_without_returns_report_no_report_is_requested(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        w.emu.control.add_return("TENT-1", 1)
        w.time.t += 180
        pulled = await w.client.pull_events(None)
        assert returns_of(pulled.events) == []
        assert "createReport" not in w.emu.control.calls()


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"reportType": "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE", "marketplaceIds": ["ATVPDKIKX0DER"]}, None),
        (
            {
                "reportType": "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE",
                "marketplaceIds": ["ATVPDKIKX0DER"],
                "dataStartTime": "2025-11-01T00:00:00Z",
                "dataEndTime": "2026-02-01T00:00:00Z",
            },
            "at most 60 days",
        ),
        ({"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": ["ATVPDKIKX0DER"]}, "serves reportType"),
        ({"reportType": "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE", "marketplaceIds": ["OTHER"]}, "must include"),
    ],
)
async def test_the_emulator_checks_create_report(tmp_path: Path, body: dict[str, Any], message: str | None) -> None:
    async with world(tmp_path) as w:
        token = w.emu.control.issue_access_token()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=w.emu.app), base_url=EMU_URL) as http:
            answer = await http.post("/reports/2021-06-30/reports", json=body, headers={"x-amz-access-token": token})
        if message is None:
            assert answer.status_code == 202
            assert w.emu.control.reports()[0]["processingStatus"] == "IN_QUEUE"
        else:
            assert answer.status_code == 400
            [error] = answer.json()["errors"]
            assert error["code"] == "InvalidInput"
            assert message in error["message"]


@pytest.mark.anyio
async def test_returns_are_seeded_over_the_control_api(tmp_path: Path) -> None:
    async with world(tmp_path, None, **{**RETURNS, "returns_lookback_days": 30}) as w:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=w.emu.app), base_url=EMU_URL) as http:
            seeded = await http.post(
                "/_emulator/returns",
                json={"sku": "TENT-1", "quantity": 2, "order_id": "111-5", "rma_id": "R5", "status": "Pending"},
            )
            unknown = await http.post("/_emulator/returns", json={"sku": "TENT-1", "Colour": "red"})
            w.time.t += 180
            pulled = await w.client.pull_events(None)
            reports = (await http.get("/_emulator/reports")).json()
        assert seeded.json()["Return quantity"] == "2"
        assert unknown.status_code == 400
        [event] = returns_of(pulled.events)
        assert (event.ref, event.state, event.lines[0].quantity) == ("111-5:R5", ReturnState.REQUESTED, 2)
        assert [r["processingStatus"] for r in reports] == ["DONE"]
