"""`omnibridge inventory show`: a SKU's positions per location, read from the profile's store."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support import WriteFile
from typer.testing import CliRunner

from omnibridge.cli.app import app
from omnibridge.models import Location, LocationType, MovementKind, Product, StockMovement, Variant
from omnibridge.store import open_store

runner = CliRunner()
WHEN = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def _move(key: str, kind: MovementKind, location: str, quantity: int) -> StockMovement:
    return StockMovement(
        idempotency_key=key,
        source="test",
        kind=kind,
        sku="TENT-2P",
        location_id=location,
        quantity=quantity,
        occurred_at=WHEN,
    )


@pytest.fixture
def stocked_profile(write: WriteFile, base_profile: str, tmp_path: Path) -> Path:
    """A profile whose SQLite store holds TENT-2P: 10 received at wh (3 committed, 2 safety), 4 expected at shop."""
    text = base_profile + (
        "  - {id: shop, name: Main Street shop, type: store}\nstore:\n  url: sqlite:///data/ledger.db\n"
    )
    path = write("omnibridge.yaml", text)
    (tmp_path / "data").mkdir()
    with open_store(f"sqlite:///{tmp_path / 'data' / 'ledger.db'}") as store:
        store.upsert_location(Location(id="wh", name="Warehouse", type=LocationType.WAREHOUSE))
        store.upsert_location(Location(id="shop", name="Main Street shop", type=LocationType.STORE))
        store.upsert_product(Product(id="TENT", title="Tent", variants=[Variant(sku="TENT-2P", product_id="TENT")]))
        store.apply(_move("r1", MovementKind.RECEIPT, "wh", 10))
        store.apply(_move("c1", MovementKind.COMMITMENT, "wh", 3))
        store.set_safety_stock("TENT-2P", "wh", 2)
        store.apply(_move("e1", MovementKind.EXPECTED, "shop", 4))
    return path


def test_table(stocked_profile: Path) -> None:
    result = runner.invoke(app, ["inventory", "show", "TENT-2P", "--profile", str(stocked_profile)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "TENT-2P"
    assert lines[1].split() == ["LOCATION", "ON_HAND", "COMMITTED", "RESERVED", "SAFETY_STOCK", "INCOMING", "AVAILABLE"]
    assert lines[2].split() == ["shop", "(Main", "Street", "shop)", "0", "0", "0", "0", "4", "0"]
    assert lines[3].split() == ["wh", "(Warehouse)", "10", "3", "0", "2", "0", "5"]
    assert lines[4].split() == ["total", "10", "3", "0", "2", "4", "5"]


def test_json(stocked_profile: Path) -> None:
    result = runner.invoke(app, ["inventory", "show", "TENT-2P", "--profile", str(stocked_profile), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["sku"] == "TENT-2P"
    wh = next(row for row in document["positions"] if row["location_id"] == "wh")
    assert wh == {
        "location_id": "wh",
        "location_name": "Warehouse",
        "on_hand": 10,
        "committed": 3,
        "reserved": 0,
        "safety_stock": 2,
        "incoming": 0,
        "available": 5,
    }
    assert document["totals"]["incoming"] == 4


def test_unknown_sku(stocked_profile: Path) -> None:
    result = runner.invoke(app, ["inventory", "show", "NOPE", "--profile", str(stocked_profile)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: unknown SKU 'NOPE': it is not in the store at sqlite:///")
    assert "Traceback" not in result.output


def test_profile_from_environment(stocked_profile: Path) -> None:
    result = runner.invoke(app, ["inventory", "show", "TENT-2P"], env={"OMNIBRIDGE_PROFILE": str(stocked_profile)})
    assert result.exit_code == 0, result.output


def test_bad_profile_lists_its_problems(write: WriteFile, base_profile: str) -> None:
    path = write("omnibridge.yaml", base_profile.replace("USD", "XYZ"))
    result = runner.invoke(app, ["inventory", "show", "TENT-2P", "--profile", str(path)])
    assert result.exit_code == 1
    expected = "unknown currency 'XYZ' (expected an ISO 4217 currency code such as USD)"
    assert result.stderr == f"error: {path}:4: merchant.currency: {expected}\n"
