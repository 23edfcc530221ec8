"""`./dev`: shows progress while it sets up .venv, and a second run with an up-to-date .venv installs nothing."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

ROOT = Path(__file__).parents[2]

# Stands in for python3 and the venv's python: `-m venv DIR` makes DIR/bin/python (this script), anything else
# (pip) is only logged, so the test needs neither the network nor a real install.
FAKE_PYTHON = """#!/usr/bin/env bash
echo "$*" >> "$FAKE_PYTHON_LOG"
if [ "$1 $2" = "-m venv" ]; then mkdir -p "$3/bin" && cp "$0" "$3/bin/python"; fi
"""


def _dev(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHON": str(tmp_path / "python3"),
        "OMNIBRIDGE_VENV": str(tmp_path / "venv"),
        "FAKE_PYTHON_LOG": str(tmp_path / "calls.log"),
    }
    return subprocess.run([str(ROOT / "dev"), *args], env=env, capture_output=True, text=True, timeout=60, check=False)


def _pip_installs(tmp_path: Path) -> list[str]:
    log = tmp_path / "calls.log"
    lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return [line for line in lines if line.startswith("-m pip install") and "-e" in line.split()]


def test_second_setup_with_an_up_to_date_venv_installs_nothing(tmp_path: Path) -> None:
    fake = tmp_path / "python3"
    fake.write_text(FAKE_PYTHON, encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)

    first = _dev(tmp_path, "setup")
    assert first.returncode == 0, first.stderr
    assert "setting up" in first.stderr
    assert "first run only" in first.stderr
    assert _pip_installs(tmp_path) == ["-m pip install --disable-pip-version-check -e .[test,carriers]"]

    second = _dev(tmp_path, "setup")
    assert second.returncode == 0, second.stderr
    assert second.stderr == ""
    assert len(_pip_installs(tmp_path)) == 1  # nothing reinstalled, no network

    stamp = tmp_path / "venv" / ".omnibridge-setup"
    stamp.write_text("0 0\ntest carriers\n", encoding="utf-8")  # as if pyproject.toml had changed
    third = _dev(tmp_path, "setup")
    assert third.returncode == 0, third.stderr
    assert "updating" in third.stderr
    assert len(_pip_installs(tmp_path)) == 2
