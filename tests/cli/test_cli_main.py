"""The console script never shows a traceback: our errors and bugs exit 1 with one line, usage errors exit 2."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from omnibridge import __version__
from omnibridge.cli.app import app, main
from omnibridge.errors import StoreError

runner = CliRunner()


def _boom(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("boom at the bottom")


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"omnibridge {__version__}\n"
    assert __version__ == "0.1.0"


def test_main_exits_with_the_command_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out == "omnibridge 0.1.0\n"


def test_unexpected_exception_is_one_line_exit_1(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("omnibridge.cli.profile_commands.load_profile", _boom)
    result = runner.invoke(app, ["validate", str(tmp_path / "x.yaml")])
    assert result.exit_code == 1
    assert result.stderr == (
        "internal error: RuntimeError: boom at the bottom — set OMNIBRIDGE_DEBUG=1 for the traceback\n"
    )


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("omnibridge.cli.profile_commands.load_profile", _boom)
    result = runner.invoke(app, ["validate", str(tmp_path / "x.yaml")], env={"OMNIBRIDGE_DEBUG": "1"})
    assert result.exit_code == 1
    assert "Traceback" in result.stderr
    assert result.stderr.rstrip().endswith("set OMNIBRIDGE_DEBUG=1 for the traceback")


def test_omnibridge_error_prints_error_line_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    def down() -> None:
        raise StoreError("database at db:5432 is unreachable")

    monkeypatch.setattr("omnibridge.cli.connectors.discover_connectors", down)
    result = runner.invoke(app, ["connectors", "list"])
    assert result.exit_code == 1
    assert result.stderr == "error: database at db:5432 is unreachable\n"


def test_main_handles_errors_outside_commands(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("omnibridge.cli.profile_commands.load_profile", _boom)
    with pytest.raises(SystemExit) as caught:
        main(["validate", "x.yaml"])
    assert caught.value.code == 1
    assert "internal error: RuntimeError" in capsys.readouterr().err


def test_usage_error_exit_2_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["no-such-command"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "No such command" in err
    assert "Traceback" not in err


def _console_script() -> str:
    script = Path(sys.executable).parent / "omnibridge"
    found = str(script) if script.exists() else shutil.which("omnibridge")
    if found is None:
        pytest.fail("the omnibridge console script is not installed (pip install -e .)")
    return found


def test_console_script_reports_a_bad_profile_without_traceback(tmp_path: Path) -> None:
    profile = tmp_path / "omnibridge.yaml"
    profile.write_text("version: 1\nmerchant:\n  name: x\n   currency: USD\n", encoding="utf-8")
    done = subprocess.run(
        [_console_script(), "validate", str(profile)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(f"{profile}:4: merchant: invalid YAML:")


def test_console_script_version_and_python_m() -> None:
    done = subprocess.run([_console_script(), "--version"], capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout) == (0, "omnibridge 0.1.0\n")
    for module in ("omnibridge", "omnibridge.cli"):
        done = subprocess.run(
            [sys.executable, "-m", module, "--version"], capture_output=True, text=True, timeout=60, check=False
        )
        assert (done.returncode, done.stdout) == (0, "omnibridge 0.1.0\n")
