"""``omnibridge sync --once`` with an ERP/WMS file feed: a rejected file makes the pass fail (exit 1)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from omnibridge.cli.app import app
from omnibridge.store import open_store

from .world import drop, load, seed, write_profile


def test_sync_once_exits_1_when_a_file_was_rejected_and_names_file_and_row(tmp_path: Path) -> None:
    profile = write_profile(tmp_path)
    loaded = load(tmp_path)
    with open_store(loaded.store_url) as store:
        seed(store, loaded)
    drop(tmp_path, "counts.csv", "sku,location,quantity\nTENT,WH-01,5\nGHOST,WH-01,2\n")
    result = CliRunner().invoke(app, ["sync", "--once", "--profile", str(profile)])
    assert result.exit_code == 1, result.stdout
    assert (
        "  note: erp: counts.csv: moved to failed/ with 1 problem(s), nothing applied; first: row 3, field 'sku': "
        "SKU 'GHOST' is not in the omnibridge catalog" in result.stdout
    )
