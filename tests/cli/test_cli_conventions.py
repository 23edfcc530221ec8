"""What every command shares: exit codes (0 ok, 1 error, 2 usage), -h, --json, help without internal types,
and a start-up that imports no command module until one runs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support import WriteFile
from typer.testing import CliRunner

from omnibridge.cli.app import COMMANDS, app, load_command, main

runner = CliRunner()
EXAMPLE_CATALOG = Path(__file__).parents[2] / "config" / "catalog.example.csv"
INTERNAL = re.compile(r"<class |<[\w.]+ object at|PosixPath\(|typing\.|Annotated\[|NoneType")


def _command_paths() -> list[list[str]]:
    paths: list[list[str]] = []
    for name in COMMANDS:
        command = load_command(name)
        subcommands = getattr(command, "commands", None)
        paths.extend([[name, sub] for sub in subcommands] if subcommands else [[name]])
    return paths


def test_short_help_in_the_table_matches_each_command() -> None:
    for name, (_, _, short) in COMMANDS.items():
        command = load_command(name)
        assert command.name == name
        assert short, name
    listing = runner.invoke(app, ["-h"])
    assert listing.exit_code == 0
    assert all(name in listing.stdout for name in COMMANDS)


@pytest.mark.parametrize("path", _command_paths(), ids=" ".join)
def test_every_help_works_with_h_and_shows_no_internal_types(path: list[str]) -> None:
    short, long = runner.invoke(app, [*path, "-h"]), runner.invoke(app, [*path, "--help"])
    assert (short.exit_code, long.exit_code) == (0, 0), short.output
    assert short.stdout == long.stdout
    assert "Usage: omnibridge " + " ".join(path) in " ".join(short.stdout.split())
    assert not INTERNAL.search(short.stdout), short.stdout


@pytest.mark.parametrize(
    "args",
    [["no-such-command"], ["catalog", "list", "--no-such-option"], ["inventory", "receive"], ["db", "nope"]],
)
def test_usage_errors_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(args)
    assert caught.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_reporting_commands_print_json(write: WriteFile, base_profile: str, tmp_path: Path) -> None:
    def ob(*args: str) -> dict[str, object]:
        result = runner.invoke(app, [*args, "--json"])
        assert result.exit_code == 0, result.output
        document: dict[str, object] = json.loads(result.stdout)
        return document

    assert ob("init", str(tmp_path / "starter.yaml"))["wrote"] == str(tmp_path / "starter.yaml")
    profile = str(write("omnibridge.yaml", base_profile))
    assert ob("validate", profile)["valid"] is True
    assert ob("catalog", "import", str(EXAMPLE_CATALOG), "--profile", profile)["variants"] == 12
    assert len(ob("catalog", "list", "--profile", profile)["variants"]) == 12  # type: ignore[arg-type]
    received = ob("inventory", "receive", "TENT-4P-GRN", "--at", "wh", "--qty", "5", "--key", "r1", "-p", profile)
    assert (received["duplicate"], received["delta_on_hand"]) == (False, 5)
    assert ob("inventory", "receive", "TENT-4P-GRN", "--at", "wh", "--qty", "5", "--key", "r1", "-p", profile)[
        "duplicate"
    ]
    adjusted = ob("inventory", "adjust", "TENT-4P-GRN", "--at", "wh", "--by", "-1", "-p", profile)
    assert adjusted["position"] == {"on_hand": 4, "committed": 0, "reserved": 0, "available": 4}
    counted = ob("inventory", "count", "TENT-4P-GRN", "--at", "wh", "--qty", "7", "-p", profile)
    assert (counted["kind"], counted["delta_on_hand"]) == ("count", 3)
    assert ob("db", "upgrade", "--profile", profile)["changed"] is False
    assert ob("db", "current", "--profile", profile)["up_to_date"] is True

    broken = write("broken.yaml", "version: 1\nmerchant: {name: x}\n")
    result = runner.invoke(app, ["validate", str(broken), "--json"])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["valid"] is False
    assert document["errors"]


def test_version_and_help_import_no_command_module() -> None:
    probe = (
        "import sys\n"
        "from omnibridge.cli.app import main\n"
        "for args in (['--version'], ['--help'], ['-h']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ('sqlalchemy', 'httpx', 'starlette', 'uvicorn', 'pydantic', 'yaml', 'structlog', 'rich',\n"
        "         'omnibridge.store', 'omnibridge.config', 'omnibridge.sync', 'omnibridge.cli.sync', 'connectors')\n"
        "print(sorted(name for name in heavy if name in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_a_reader_that_goes_away_stops_the_command_quietly() -> None:
    # `omnibridge ... | head`: the reader has gone before the command prints (its end of the pipe is closed)
    import os
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        run = subprocess.run(
            [sys.executable, "-m", "omnibridge", "connectors", "list"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    errors = run.stderr.decode()
    assert "internal error" not in errors
    assert "Traceback" not in errors
    assert "BrokenPipe" not in errors
    assert run.returncode == 1
