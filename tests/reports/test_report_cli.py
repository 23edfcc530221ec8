"""`omnibridge report`: the three formats, `report list`, and one-line errors for bad names, dates and groupings."""

from __future__ import annotations

import csv
import io
import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omnibridge.cli.app import app
from omnibridge.config import load_profile
from omnibridge.store import open_store

from .figures import build

runner = CliRunner()

PROFILE = textwrap.dedent(
    """
    version: 1
    merchant:
      name: Trail & Co
      currency: USD
      timezone: UTC
    locations:
      - id: wh
        name: Warehouse
        type: warehouse
        capabilities: [ships]
    """
).lstrip("\n")

WEEK = ["--from", "2026-03-01", "--to", "2026-03-07"]


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    path = tmp_path / "omnibridge.yaml"
    path.write_text(PROFILE, encoding="utf-8")
    with open_store(load_profile(path).store_url) as store:
        build(store)
    return path


def invoke(profile: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["report", *args, "--profile", str(profile)])
    return result.exit_code, result.stdout, result.stderr


def test_table_format(profile: Path) -> None:
    code, out, _ = invoke(profile, "sync-lag", *WEEK)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Sync lag by channel (seconds)"
    assert lines[1].split() == [
        "channel", "writes", "landed", "failed", "pending", "avg_seconds", "max_seconds", "fail_rate"
    ]  # fmt: skip
    assert lines[2].split() == ["pos", "2", "1", "0", "1", "1.0", "1.0", "0.0"]
    assert lines[3].split() == ["web", "3", "2", "1", "0", "3.0", "4.0", "0.3333"]
    assert lines[4].startswith("note: stock writes recorded in the period")


def test_json_format(profile: Path) -> None:
    code, out, _ = invoke(profile, "returns", *WEEK, "--by", "sku", "--format", "json")
    assert code == 0
    body = json.loads(out)
    assert body["report"] == "returns"
    assert body["by"] == "sku"
    assert body["from"] == "2026-03-01T00:00:00+00:00"
    assert body["to"] == "2026-03-08T00:00:00+00:00"  # --to names the last day, included
    assert body["rows"][0] == {
        "sku": "A",
        "shipped_units": 2,
        "returned_units": 1,
        "return_rate": 0.5,
        "reasons": "too small: 1",
    }
    assert body["series"] == [
        {"name": "returned units by reason", "points": [["(none given)", 1.0], ["too small", 1.0]]}
    ]


def test_csv_format(profile: Path) -> None:
    code, out, _ = invoke(profile, "delivery-speed", *WEEK, "--format", "csv")
    assert code == 0
    assert list(csv.reader(io.StringIO(out))) == [
        ["channel", "shipped", "delivered", "delivered_rate", "avg_days", "min_days", "max_days"],
        ["web", "2", "1", "0.5", "2.0", "2.0", "2.0"],
    ]


def test_csv_leaves_a_figure_that_could_not_be_computed_empty(profile: Path) -> None:
    code, out, _ = invoke(profile, "sell-through", *WEEK, "--format", "csv")
    assert code == 0
    assert out.splitlines()[1] == "pos,2,0,,0.2"


def test_report_list_names_every_report_and_its_groupings(profile: Path) -> None:
    code, out, _ = invoke(profile, "list")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()[1:]] == [
        "order-accuracy", "time-to-ship", "delivery-speed", "sync-lag", "stock-outs", "sell-through", "returns"
    ]  # fmt: skip
    assert "channel, location" in out.splitlines()[2]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["order-acuracy", *WEEK], "error: no report named 'order-acuracy'; expected one of: order-accuracy, "),
        (["returns", "--from", "2026-13-01", "--to", "2026-03-07"], "error: --from '2026-13-01' is not a date"),
        (["returns", "--from", "2026-03-08", "--to", "2026-03-01"], "error: --to 2026-03-01 is not after --from"),
        (["returns", "--from", "2026-03-01"], "error: a report needs --from DATE and --to DATE"),
        (["time-to-ship", *WEEK, "--by", "sku"], "error: --by 'sku': report time-to-ship can be grouped by channel"),
        (["returns", *WEEK, "--format", "xml"], "error: --format 'xml': expected one of: table, json, csv"),
    ],
)
def test_bad_input_is_one_line_naming_the_choices(profile: Path, args: list[str], message: str) -> None:
    code, out, err = invoke(profile, *args)
    assert code == 1
    assert err.startswith(message)
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + out


def test_export_warehouse_writes_once_then_nothing(profile: Path, tmp_path: Path) -> None:
    target = tmp_path / "dwh"
    first = runner.invoke(app, ["export", "warehouse", "--to", str(target), "--profile", str(profile)])
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines()[0] == "orders: 3 row(s)"
    assert (target / "orders" / "date=2026-03-01").is_dir()
    again = runner.invoke(app, ["export", "warehouse", "--to", str(target), "--json", "--profile", str(profile)])
    assert json.loads(again.stdout) == {
        "rows": {"orders": 0, "order_lines": 0, "movements": 0, "shipments": 0, "returns": 0, "incidents": 0},
        "files": [],
    }


def test_export_warehouse_to_a_file_is_refused(profile: Path) -> None:
    result = runner.invoke(app, ["export", "warehouse", "--to", str(profile), "--profile", str(profile)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: --to {profile}: is a file; expected a folder")
