"""`omnibridge init`: writes a starter profile that validates at once, and never overwrites by accident."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from omnibridge.cli.app import app
from omnibridge.config import starter_profile_text

runner = CliRunner()


def test_init_writes_default_file_in_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "omnibridge.yaml").read_text(encoding="utf-8") == starter_profile_text()
    assert "wrote omnibridge.yaml" in result.stdout


def test_init_then_validate_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "shop" / "omnibridge.yaml"
    path.parent.mkdir()
    assert runner.invoke(app, ["init", str(path)]).exit_code == 0
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert f"profile {path} is valid" in result.stdout
    assert f"store:     sqlite:///{path.parent / 'omnibridge.db'}" in result.stdout
    assert "note: no channels are configured" in result.stdout


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "omnibridge.yaml"
    path.write_text("mine\n", encoding="utf-8")
    result = runner.invoke(app, ["init", str(path)])
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {path}: already exists (expected a new file, or --force to overwrite it)"
    assert path.read_text(encoding="utf-8") == "mine\n"


def test_init_force_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "omnibridge.yaml"
    path.write_text("mine\n", encoding="utf-8")
    result = runner.invoke(app, ["init", str(path), "--force"])
    assert result.exit_code == 0
    assert path.read_text(encoding="utf-8") == starter_profile_text()


def test_init_into_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["init", str(tmp_path / "nope" / "omnibridge.yaml")])
    assert result.exit_code == 1
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.output
