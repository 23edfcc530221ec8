"""A command that only reads never creates a database: a mistyped SQLite path is an error naming it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from omnibridge.cli.app import app

READ_ONLY = [
    ["inventory", "show", "TENT"],
    ["inventory", "history", "TENT"],
    ["explain", "TENT"],
    ["incidents"],
    ["deadletters", "list"],
    ["deadletters", "retrying"],
    ["verify"],
    ["catalog", "list"],
    ["shipments", "show", "shp_1"],
    ["fulfilment", "tasks"],
    ["db", "current"],
]


@pytest.mark.parametrize("command", READ_ONLY, ids=lambda command: " ".join(command[:2]))
def test_a_read_only_command_refuses_a_missing_store_file(
    tmp_path: Path, base_profile: str, command: list[str]
) -> None:
    missing = tmp_path / "typo" / "omnibrige.db"
    (tmp_path / "typo").mkdir()
    profile = tmp_path / "omnibridge.yaml"
    profile.write_text(base_profile + f"store:\n  url: sqlite:///{missing}\n", encoding="utf-8")
    result = CliRunner().invoke(app, [*command, "--profile", str(profile)])
    assert result.exit_code == 1, result.stdout
    assert result.stderr.startswith(f"error: no database at {missing}: check store.url in the profile"), result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert not missing.exists()


def test_a_writing_command_still_creates_it(tmp_path: Path, base_profile: str) -> None:
    store = tmp_path / "new.db"
    profile = tmp_path / "omnibridge.yaml"
    profile.write_text(base_profile + f"store:\n  url: sqlite:///{store}\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["db", "upgrade", "--profile", str(profile)])
    assert result.exit_code == 0, result.stderr
    assert store.is_file()
    assert CliRunner().invoke(app, ["incidents", "--profile", str(profile)]).stdout == "no incidents\n"
