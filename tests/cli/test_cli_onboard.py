"""``omnibridge onboard``: count files planned, recorded once as counts, and bad rows named by file, row and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import WriteFile
from sync.fake_channel import NOW, receive, seed_store
from typer.testing import CliRunner

from omnibridge.cli.app import app
from omnibridge.onboard import OnboardInputError, apply_onboarding, plan_onboarding, read_count_file
from omnibridge.store import Store

runner = CliRunner()


def test_a_count_file_is_recorded_once_and_known_positions_are_not_touched(store: Store, tmp_path: Path) -> None:
    seed_store(store, ["A", "B", "C"], ["wh", "shop"])
    receive(store, "C", "wh", 3)  # already known: onboarding leaves it alone
    counts = tmp_path / "counts.csv"
    counts.write_text("sku,location,quantity\nA,wh,10\nB,wh,4\nC,wh,9\n", encoding="utf-8")
    shelf = tmp_path / "shelf.csv"
    shelf.write_text("sku,location,quantity,counted_at\nA,wh,8,2026-11-23T09:00:00+00:00\n", encoding="utf-8")
    sources = [read_count_file(path, {"A", "B", "C"}, {"wh", "shop"}, NOW) for path in (counts, shelf)]

    plan = plan_onboarding(store, sources, ["wh", "shop"])
    apply_onboarding(store, plan)

    assert [(o.sku, o.location_id, o.quantity, o.source) for o in plan.to_record] == [
        ("A", "wh", 10, "counts.csv:2"),
        ("B", "wh", 4, "counts.csv:3"),
    ]
    assert [(c.sku, c.chosen.quantity, [o.source for o in c.others]) for c in plan.conflicts] == [
        ("A", 10, ["shelf.csv:2"])
    ]
    assert [o.sku for o in plan.known] == ["C"]
    assert plan.applied == 2
    assert (store.position("A", "wh").on_hand, store.position("C", "wh").on_hand) == (10, 3)
    assert ("A", "shop") in plan.still_unknown

    again = plan_onboarding(store, sources, ["wh", "shop"])
    apply_onboarding(store, again)
    assert (again.applied, len(again.already), len(again.to_record)) == (0, 2, 0)


def test_bad_rows_are_all_named_and_nothing_is_recorded(write: WriteFile, base_profile: str) -> None:
    profile = write("omnibridge.yaml", base_profile)
    catalog = write("catalog.csv", "sku,title\nA,Tent\n")
    assert runner.invoke(app, ["catalog", "import", str(catalog), "--profile", str(profile)]).exit_code == 0
    bad = write("counts.csv", "sku,location,quantity\nA,wh,x\nGHOST,wh,1\nA,moon,2\n")

    result = runner.invoke(app, ["onboard", "--from-file", str(bad), "--apply", "--profile", str(profile)])

    assert result.exit_code == 1
    assert f"error: {bad}, row 2, field 'quantity': 'x'; expected a whole number, 0 or more" in result.stderr
    assert f"error: {bad}, row 3, field 'sku': unknown SKU 'GHOST'" in result.stderr
    assert f"error: {bad}, row 4, field 'location': unknown location 'moon'" in result.stderr
    with pytest.raises(OnboardInputError):
        read_count_file(bad, {"A"}, {"wh"}, NOW)


def test_the_cli_plans_then_applies_then_finds_everything_already_there(write: WriteFile, base_profile: str) -> None:
    profile = write("omnibridge.yaml", base_profile)
    catalog = write("catalog.csv", "sku,title\nA,Tent\nB,Lamp\n")
    assert runner.invoke(app, ["catalog", "import", str(catalog), "--profile", str(profile)]).exit_code == 0
    counts = write("counts.csv", "sku,location,quantity\nA,wh,10\nB,wh,2\n")
    args = ["onboard", "--from-file", str(counts), "--profile", str(profile)]

    planned = runner.invoke(app, args)
    assert planned.exit_code == 0, planned.output
    assert "wh: 2 SKUs, 12 units" in planned.stdout
    assert "nothing was recorded: run again with --apply" in planned.stdout
    applied = runner.invoke(app, [*args, "--apply"])
    assert "applied 2 counts, 0 already there" in applied.stdout
    again = json.loads(runner.invoke(app, [*args, "--apply", "--json"]).stdout)
    assert (again["counts"]["applied"], again["counts"]["already_there"]) == (0, 2)
    explained = runner.invoke(app, ["inventory", "show", "A", "--json", "--profile", str(profile)])
    assert json.loads(explained.stdout)["totals"]["available"] == 10


def test_explain_shows_a_never_counted_location_as_unknown() -> None:
    from omnibridge.cli.explain import render_allocations
    from omnibridge.policy import Allocation

    allocations = [
        Allocation("web", "wh", 0, "pool", "available 0 at wh: nothing to show"),
        Allocation("web", "shop", 4, "pool", "available 4 at shop"),
    ]
    text = render_allocations("A", allocations, {"shop": 4}, unknown=["wh"])
    wh, shop = text.splitlines()[2:]
    assert "unknown (never counted)" in wh
    assert "nothing is written" in wh
    assert "unknown" not in shop
