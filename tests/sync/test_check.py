"""`omnibridge check`: each enabled channel's credentials and reachability, read-only, against the emulators."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from demo_emulators import served_demo_emulators
from typer.testing import CliRunner

from omnibridge.cli.app import app


@pytest.fixture
def demo_profile(tmp_path: Path) -> Iterator[Path]:
    """The demo's full profile (Shopify, Square, Amazon, Clover, an ERP folder, EasyPost), every emulator served
    from a background event loop (the CLI runs its own)."""
    with served_demo_emulators(tmp_path) as served:
        yield served.profile


def _set(path: Path, key: str, value: object) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["settings"][key] = value
    path.write_text(yaml.safe_dump(document), encoding="utf-8")


def test_a_good_profile_passes_every_channel(demo_profile: Path) -> None:
    result = CliRunner().invoke(app, ["check", "--json", "--profile", str(demo_profile)])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    statuses = {row["channel"]: row["status"] for row in document["channels"]}
    assert statuses == {"web": "ok", "pos": "ok", "amazon": "ok", "clover": "ok", "erp": "ok", "parcels": "ok"}
    assert document["ok"] is True
    assert not (demo_profile.parent / "omnibridge.db").exists()  # read-only: no database is created

    table = CliRunner().invoke(app, ["check", "--profile", str(demo_profile)])
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["CHANNEL", "CONNECTOR", "STATUS", "DETAIL"]
    assert lines[-1] == "every channel is reachable"


def test_a_wrong_token_fails_naming_the_channel_and_the_reason(demo_profile: Path) -> None:
    _set(demo_profile.parent / "connectors" / "shopify.yaml", "access_token", "shpat_wrong")
    _set(demo_profile.parent / "connectors" / "parcels.yaml", "api_key", "EZTKwrong")
    result = CliRunner().invoke(app, ["check", "--profile", str(demo_profile)])
    assert result.exit_code == 1
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:-1]}
    assert [rows["web"].split()[2], rows["parcels"].split()[2]] == ["failed", "failed"]
    assert "401" in rows["web"]
    assert "401" in rows["parcels"]
    assert rows["pos"].split()[2] == "ok"  # one broken channel never hides the others
    assert result.stdout.splitlines()[-1] == "2 of 6 channel(s) failed"
    assert "shpat_wrong" not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_a_missing_erp_inbox_fails_with_the_fix(demo_profile: Path) -> None:
    _set(demo_profile.parent / "connectors" / "erp.yaml", "inbox", str(demo_profile.parent / "no-such-inbox"))
    result = CliRunner().invoke(app, ["check", "--json", "--profile", str(demo_profile)])
    assert result.exit_code == 1
    [erp] = [row for row in json.loads(result.stdout)["channels"] if row["channel"] == "erp"]
    assert erp["status"] == "failed"
    assert "no-such-inbox does not exist: create it" in erp["detail"]
