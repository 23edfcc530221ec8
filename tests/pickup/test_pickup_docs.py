"""docs/pickup.md stays true: its worked example, run command by command on a copy of the example profile,
prints exactly the output the page shows; and the CLI's errors are one line."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omnibridge.cli.app import app

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "pickup.md").read_text(encoding="utf-8")
runner = CliRunner()


def _block(language: str, containing: str) -> str:
    blocks: list[str] = re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.DOTALL)
    return next(block for block in blocks if containing in block)


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The worked example's commands (after ``omnibridge``), in a copy of the repository's example files."""
    (tmp_path / "config").mkdir()
    for name in ("pickup.example.yaml", "catalog.example.csv"):
        shutil.copy(ROOT / "config" / name, tmp_path / "config" / name)
    monkeypatch.chdir(tmp_path)
    commands = []
    for line in _block("bash", "omnibridge pickup options").splitlines():
        words = shlex.split(line)
        if words[0] == "export":
            name, _, value = words[1].partition("=")
            monkeypatch.setenv(name, value)
        else:
            assert words[0] == "omnibridge"
            commands.append(words[1:])
    return commands


def test_the_worked_example_prints_what_the_page_shows(example: list[list[str]]) -> None:
    *setup, ask = example
    for command in setup:
        assert runner.invoke(app, command).exit_code == 0
    result = runner.invoke(app, ask)
    assert result.exit_code == 0, result.output
    assert result.output == _block("text", "fallback:")


def test_json_and_curbside_as_the_page_says(example: list[list[str]]) -> None:
    *setup, ask = example
    for command in setup:
        runner.invoke(app, command)
    one = [word for word in ask if word not in ("--qty", "2")]
    document = json.loads(runner.invoke(app, [*one, "--format", "json"]).output)
    assert (document["stores"][0]["location_id"], document["stores"][0]["local_window"]) == (
        "boulder",
        "Mon 2026-12-07 10:30-11:00 (America/Denver)",
    )
    curbside = json.loads(runner.invoke(app, [*one, "--curbside", "--format", "json"]).output)
    assert [store["location_id"] for store in curbside["stores"]] == ["boulder", "denver"]


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        (["NOPE", "--near", "80302"], "error: unknown SKU 'NOPE': it is not in the catalog; import it first"),
        (["TENT-2P-GRN", "--near", "moon"], "error: --near 'moon' is not a place: expected 'lat,lon'"),
        (["TENT-2P-GRN", "--near", "80302", "--now", "monday"], "error: --now 'monday': expected ISO 8601"),
    ],
)
def test_errors_are_one_line(example: list[list[str]], extra: list[str], error: str) -> None:
    for command in example[:-1]:
        runner.invoke(app, command)
    result = runner.invoke(app, ["pickup", "options", *extra])
    assert result.exit_code == 1
    assert result.output.startswith(error)
    assert "Traceback" not in result.output
