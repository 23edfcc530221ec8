"""`omnibridge explain SKU`: each sales channel's quantity per location and why, from the profile's store."""

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

from .profiles import sales_registry, write_profile

runner = CliRunner()
WHEN = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
AVAILABILITY = """\
availability:
  mode: shared
  safety_stock: [{location: shop, quantity: 2}]
  channels:
    pos: {buffer: 1, cap: 3}
"""


@pytest.fixture
def profile(write: WriteFile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The profile of tests/policy/profiles.py with a SQLite store: TENT-2P has 10 at wh (3 committed), 7 at shop."""
    monkeypatch.setattr("omnibridge.sdk.registry.discover_connectors", sales_registry)
    monkeypatch.delenv("OMNIBRIDGE_PROFILE", raising=False)
    write_profile(write, AVAILABILITY)
    with open_store(f"sqlite:///{tmp_path / 'ledger.db'}") as store:
        store.upsert_location(Location(id="wh", name="Warehouse", type=LocationType.WAREHOUSE))
        store.upsert_location(Location(id="shop", name="Main Street shop", type=LocationType.STORE))
        store.upsert_product(
            Product(id="TENT", title="Tent", variants=[Variant(sku="TENT-2P", product_id="TENT", title="Tent 2P")])
        )
        for key, kind, location, quantity in [
            ("r1", MovementKind.RECEIPT, "wh", 10),
            ("c1", MovementKind.COMMITMENT, "wh", 3),
            ("r2", MovementKind.RECEIPT, "shop", 7),
        ]:
            store.apply(
                StockMovement(
                    idempotency_key=key,
                    source="test",
                    kind=kind,
                    sku="TENT-2P",
                    location_id=location,
                    quantity=quantity,
                    occurred_at=WHEN,
                )
            )
    return tmp_path / "omnibridge.yaml"


def test_table(profile: Path) -> None:
    result = runner.invoke(app, ["explain", "TENT-2P", "--profile", str(profile)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "TENT-2P: shared mode, SKU group 'default'"
    assert lines[1].split() == ["CHANNEL", "LOCATION", "AVAILABLE", "SHOW", "RULE", "WHY"]
    rows = [line.split(maxsplit=5) for line in lines[2:]]
    assert rows == [
        ["web", "wh", "7", "7", "pool", "available 7 at wh"],
        ["pos", "shop", "7", "3", "cap", "available 7 at shop - safety 2 - buffer 1 = 4, capped at 3"],
        ["pos", "wh", "7", "3", "cap", "available 7 at wh - buffer 1 = 6, capped at 3"],
    ]


def test_json(profile: Path) -> None:
    result = runner.invoke(app, ["explain", "TENT-2P", "--profile", str(profile), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert {key: document[key] for key in ("sku", "title", "mode", "group", "available")} == {
        "sku": "TENT-2P",
        "title": "Tent 2P",
        "mode": "shared",
        "group": "default",
        "available": {"shop": 7, "wh": 7},
    }
    assert document["allocations"][1] == {
        "channel": "pos",
        "location_id": "shop",
        "quantity": 3,
        "rule": "cap",
        "explanation": "available 7 at shop - safety 2 - buffer 1 = 4, capped at 3",
        "unknown": False,
    }


def test_unknown_sku(profile: Path) -> None:
    result = runner.invoke(app, ["explain", "NOPE", "--profile", str(profile)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: unknown SKU 'NOPE': it is not in the store at sqlite:///")
    assert result.stdout == ""


def test_bad_availability_section(profile: Path) -> None:
    profile.write_text(profile.read_text().replace("pos: {buffer", "post: {buffer"))
    result = runner.invoke(app, ["explain", "TENT-2P", "--profile", str(profile)])
    assert result.exit_code == 1
    assert "availability.channels.post: unknown channel 'post'; did you mean 'pos'?" in result.stderr
    assert "Traceback" not in result.output
