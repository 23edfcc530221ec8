"""`omnibridge demo` exits non-zero when the channels disagree with the ledger, and --json is one object."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from omnibridge.cli.app import app
from omnibridge.demo.run import DemoReport, Mismatch
from omnibridge.demo.script import EventRecord, Expectation


def report(mismatches: list[Mismatch]) -> DemoReport:
    sale = EventRecord("in_store_sale", "pos", "POS sale", [Expectation("web", "A", "boulder", 3, 2, 42.0)])
    sale.outcome, sale.ms_until_all_channels = "propagated", 42.0
    return DemoReport(
        first_sync={},
        events=[sale],
        final_read_back={"web": {"pushed": {"applied": 0}}},
        levels_checked=2,
        mismatches=mismatches,
        api_calls={"web": {"total": 3, "throttled": 0}},
        webhooks={"web": {"deliveries": 1, "duplicates_sent": 0, "attempts": 1, "delivered": 1}},
        engine={"received": 1, "duplicates": 0, "rejected": 0, "dead": 0},
        skus=60,
    )


def fake(result: DemoReport) -> Callable[..., Any]:
    async def run_demo(workdir: Path, emit: Callable[[str], None], settings: object = None) -> DemoReport:
        emit("demo line")
        return result

    return run_demo


@pytest.mark.parametrize(
    ("mismatches", "code", "expected"),
    [
        ([], 0, "all 2 levels on every sales channel"),
        ([Mismatch("web", "A", "boulder", 3, 2)], 1, "1 of 2 levels DISAGREE"),
    ],
)
def test_exit_code_follows_agreement(
    monkeypatch: pytest.MonkeyPatch, mismatches: list[Mismatch], code: int, expected: str
) -> None:
    monkeypatch.setattr("omnibridge.demo.run.run_demo", fake(report(mismatches)))
    result = CliRunner().invoke(app, ["demo"])
    assert result.exit_code == code
    assert expected in result.stdout
    assert "demo line" in result.stdout


def test_json_is_one_object_with_latency_per_event(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("omnibridge.demo.run.run_demo", fake(report([])))
    result = CliRunner().invoke(app, ["demo", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["ok"] is True
    [event] = data["events"]
    assert (event["kind"], event["source_channel"], event["ms_until_all_channels"]) == ("in_store_sale", "pos", 42.0)
    assert event["channels"][0]["ms"] == 42.0


def act(ok: bool) -> dict[str, Any]:
    scene = {"kind": "store_reject", "source_channel": "web", "outcome": "re-routed", "ok": ok}
    if not ok:
        scene["outcome"] = "NOT re-routed: no open assignment"
    return {
        "ok": ok,
        "events": [scene],
        "traffic": {"requests": 51, "problems": [], "refused_by_validation": 0},
        "inconsistencies": [],
    }


@pytest.mark.parametrize(("ok", "code"), [(True, 0), (False, 1)])
def test_the_fulfilment_act_is_reported_and_decides_the_exit_code(
    monkeypatch: pytest.MonkeyPatch, ok: bool, code: int
) -> None:
    played = report([])
    played.fulfilment = act(ok)
    monkeypatch.setattr("omnibridge.demo.run.run_demo", fake(played))
    result = CliRunner().invoke(app, ["demo"])
    assert result.exit_code == code
    verdict = "every scene did what it should" if ok else "FAILED; 51 vendor requests"
    assert f"RESULT      fulfilment: {verdict}" in result.stdout
    assert ("FAILED      store_reject (web): NOT re-routed" in result.stdout) is not ok
    data = json.loads(CliRunner().invoke(app, ["demo", "--json"]).stdout)
    assert data["fulfilment"]["ok"] is ok


def test_emulator_lists_every_built_in_connector_from_the_registry() -> None:
    result = CliRunner().invoke(app, ["emulator"])
    assert result.exit_code == 0
    for name in ("shopify", "square", "amazon", "clover", "easypost", "files", "acme-wms"):
        assert name in result.stdout


def test_emulator_names_an_unknown_connector_and_an_unknown_setting() -> None:
    unknown = CliRunner().invoke(app, ["emulator", "nope"])
    assert unknown.exit_code == 1
    assert "no connector 'nope' is installed; connectors with an emulator: " in unknown.stderr
    bad = CliRunner().invoke(app, ["emulator", "shopify", "--set", "latency=3"])
    assert bad.exit_code == 1
    assert "unknown emulator setting 'latency'" in bad.stderr
    assert "Traceback" not in unknown.stderr + bad.stderr


@pytest.mark.anyio
async def test_a_third_party_connector_emulator_runs_through_its_spec() -> None:
    import httpx

    from omnibridge.cli.emulator import build_emulator
    from omnibridge.sdk.emulator import free_port, run_server

    port = free_port()
    server, chosen = build_emulator("acme-wms", port=port, settings={"warehouse": "WH7"})
    assert chosen == port
    async with run_server(server.app, port=port), httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        answer = await http.get("/v1/warehouses/WH7/locations", headers={"X-Api-Key": "acme-emulator-key"})
    assert answer.status_code == 200
    assert answer.json()["locations"]


@pytest.mark.parametrize(("ok", "code"), [(True, 0), (False, 1)])
def test_the_collect_act_is_reported_and_decides_the_exit_code(
    monkeypatch: pytest.MonkeyPatch, ok: bool, code: int
) -> None:
    played = report([])
    played.fulfilment = act(True)
    played.collect = act(ok)
    played.collect["events"][0].update(kind="curbside", source_channel="pos")
    monkeypatch.setattr("omnibridge.demo.run.run_demo", fake(played))
    result = CliRunner().invoke(app, ["demo"])
    assert result.exit_code == code
    verdict = "every scene did what it should" if ok else "FAILED; 51 vendor requests"
    assert f"RESULT      collect: {verdict}" in result.stdout
    assert ("FAILED      curbside (pos): NOT re-routed" in result.stdout) is not ok
    data = json.loads(CliRunner().invoke(app, ["demo", "--json"]).stdout)
    assert data["collect"]["ok"] is ok
