"""`omnibridge catalog import|list` and `omnibridge inventory receive|adjust|count|history` on a real SQLite store."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support import WriteFile
from typer.testing import CliRunner

from omnibridge.cli.app import app
from omnibridge.models import MovementKind, StockMovement
from omnibridge.store import open_store

runner = CliRunner()
EXAMPLE_CATALOG = Path(__file__).parents[2] / "config" / "catalog.example.csv"


@pytest.fixture
def profile(write: WriteFile, base_profile: str) -> Path:
    """The base profile (one location, ``wh``; store ``omnibridge.db`` beside it) with the example catalog."""
    path = write("omnibridge.yaml", base_profile)
    result = runner.invoke(app, ["catalog", "import", str(EXAMPLE_CATALOG), "--profile", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"imported 8 products, 12 variants from {EXAMPLE_CATALOG}"
    return path


def ob(profile: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--profile", str(profile)])
    return result.exit_code, result.stdout, result.stderr


def available(profile: Path, sku: str) -> int:
    code, out, err = ob(profile, "inventory", "show", sku, "--json")
    assert code == 0, err
    totals: dict[str, int] = json.loads(out)["totals"]
    return totals["available"]


def test_catalog_list(profile: Path) -> None:
    code, out, _ = ob(profile, "catalog", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["SKU", "PRODUCT", "TITLE", "BACKORDERS"]
    column = max(len(line.split()[0]) for line in lines) + 2  # the PRODUCT column starts at the same place
    assert all(line[column - 2 : column] == "  " and line[column] != " " for line in lines)
    assert any(line.split() == ["TENT-4P-GRN", "TENT-4P", "Green", "yes"] for line in lines)
    assert len(lines) == 13  # the header and 12 variants
    document = json.loads(ob(profile, "catalog", "list", "--json")[1])
    assert {"sku": "TENT-4P-GRN", "product_id": "TENT-4P", "title": "Green", "allow_backorder": True} in document[
        "variants"
    ]


def test_bad_catalog_imports_nothing_and_names_each_problem(write: WriteFile, base_profile: str) -> None:
    path = write("omnibridge.yaml", base_profile)
    bad = write("bad.csv", "sku,price,currency\nA,1.00,USD\nB,abc,USD\n")
    code, _, err = ob(path, "catalog", "import", str(bad))
    assert code == 1
    assert err.strip() == f"error: {bad}:3: price: invalid value 'abc' (expected a decimal amount such as 19.99)"
    assert "Traceback" not in err
    code, _, err = ob(path, "catalog", "list")  # nothing was written: not even the store was created
    assert code == 1
    assert err.startswith("error: no database at ")


def test_receive_twice_with_one_key_records_once(profile: Path) -> None:
    args = ("inventory", "receive", "TENT-2P-GRN", "--at", "wh", "--qty", "24", "--key", "po-1001")
    code, out, _ = ob(profile, *args)
    assert code == 0
    assert out.splitlines()[0] == "applied: receipt of 24 TENT-2P-GRN at wh (on hand +24, key po-1001)"
    code, out, _ = ob(profile, *args)
    assert code == 0
    assert out.startswith("duplicate: key 'po-1001' was recorded at ")
    assert out.splitlines()[0].endswith("(receipt of 24 TENT-2P-GRN at wh); nothing changed")
    assert available(profile, "TENT-2P-GRN") == 24


def test_same_key_for_a_different_entry_is_refused(profile: Path) -> None:
    ob(profile, "inventory", "receive", "LAMP-HEAD", "--at", "wh", "--qty", "5", "--key", "k1")
    code, _, err = ob(profile, "inventory", "receive", "LAMP-HEAD", "--at", "wh", "--qty", "6", "--key", "k1")
    assert code == 1
    assert "idempotency key 'k1' already recorded a different movement" in err
    assert available(profile, "LAMP-HEAD") == 5


def test_adjust_count_and_history(profile: Path) -> None:
    ob(profile, "inventory", "receive", "STOVE-CAN", "--at", "wh", "--qty", "10")
    code, out, _ = ob(profile, "inventory", "adjust", "STOVE-CAN", "--at", "wh", "--by", "-2", "--note", "dented")
    assert code == 0
    assert "on hand -2" in out
    code, out, _ = ob(
        profile, "inventory", "count", "STOVE-CAN", "--at", "wh", "--qty", "5", "--occurred-at", "2099-01-01T09:00Z"
    )
    assert code == 0
    assert "now: on hand 5, committed 0, reserved 0, available 5" in out
    code, out, _ = ob(profile, "inventory", "history", "STOVE-CAN", "--json")
    entries = json.loads(out)
    assert [entry["movement"]["kind"] for entry in entries] == ["receipt", "adjustment", "count"]
    assert [entry["delta_on_hand"] for entry in entries] == [10, -2, -3]
    assert entries[1]["movement"]["note"] == "dented"
    code, out, _ = ob(profile, "inventory", "history", "STOVE-CAN")
    assert len(out.splitlines()) == 3


def test_adjusting_below_available_is_refused_with_the_numbers(profile: Path) -> None:
    ob(profile, "inventory", "receive", "FUEL-230", "--at", "wh", "--qty", "3")
    code, _, err = ob(profile, "inventory", "adjust", "FUEL-230", "--at", "wh", "--by", "-5")
    assert code == 1
    assert err.strip() == (
        "error: not enough stock of 'FUEL-230' at 'wh': 5 requested, 3 available (the SKU does not allow backorders)"
    )
    assert available(profile, "FUEL-230") == 3


def test_a_count_below_commitments_is_recorded_with_a_warning(profile: Path, tmp_path: Path) -> None:
    ob(profile, "inventory", "receive", "BAG-20F-REG", "--at", "wh", "--qty", "4")
    with open_store(f"sqlite:///{tmp_path / 'omnibridge.db'}") as store:
        store.apply(
            StockMovement(
                idempotency_key="order-1",
                source="web",
                kind=MovementKind.COMMITMENT,
                sku="BAG-20F-REG",
                location_id="wh",
                quantity=3,
                occurred_at=datetime.now(UTC),
            )
        )
    code, out, err = ob(profile, "inventory", "count", "BAG-20F-REG", "--at", "wh", "--qty", "1")
    assert code == 0
    assert "now: on hand 1, committed 3, reserved 0, available -2" in out
    assert "warning: available is -2: 2 unit(s) promised to orders or holds" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("inventory", "receive", "TENT-2P-GRN", "--at", "nowhere", "--qty", "1"),
            "error: --at: unknown location 'nowhere' (expected one of: wh)",
        ),
        (
            ("inventory", "receive", "NO-SUCH-SKU", "--at", "wh", "--qty", "1"),
            "error: unknown SKU 'NO-SUCH-SKU': it is not in the catalog; import it first with "
            "'omnibridge catalog import FILE'",
        ),
        (
            ("inventory", "count", "TENT-2P-GRN", "--at", "wh", "--qty", "1", "--occurred-at", "2026-01-01T09:00"),
            "error: --occurred-at: time '2026-01-01T09:00' has no timezone (expected a +HH:MM offset or Z)",
        ),
        (
            ("inventory", "adjust", "TENT-2P-GRN", "--at", "wh", "--by", "0"),
            "error: --by: an adjustment of 0 changes nothing (expected a non-zero number)",
        ),
    ],
)
def test_bad_input_is_one_clear_line(profile: Path, args: tuple[str, ...], message: str) -> None:
    code, _, err = ob(profile, *args)
    assert code == 1
    assert err.strip() == message
