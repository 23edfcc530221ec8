"""Every CLI command module imports on its own in a fresh interpreter, as ``omnibridge <command>`` loads it (an
import cycle hidden by the test session's import order would otherwise reach a merchant as an internal error)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from omnibridge.cli.app import COMMANDS

MODULES = sorted({module for module, _, _ in COMMANDS.values()} | {"omnibridge.returns.service"})


@pytest.mark.parametrize("module", MODULES)
def test_command_module_imports_in_a_fresh_interpreter(module: str) -> None:
    result = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
