"""docs/returns.md stays true: its worked example, run command by command against its profile (EasyPost's
emulator for the label), prints exactly what the page shows (the label URL's date aside)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from returns_support import world
from support import WriteFile, serve_in_thread
from typer.testing import CliRunner

from connectors.easypost.emulator import EasyPostEmulator
from omnibridge.cli.app import app
from omnibridge.config import load_profile
from omnibridge.config.starter import PROFILE_ENV
from omnibridge.models import Address
from omnibridge.store import open_store

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "returns.md").read_text(encoding="utf-8")
CUSTOMER = Address(
    name="Ada Lovelace", line1="179 N Harbor Dr", city="Redondo Beach", region="CA", postal_code="90277", country="US"
)


def _block(language: str) -> str:
    found: list[str] = re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.DOTALL)
    return found[0]


def _steps() -> list[tuple[str, str]]:
    steps: list[tuple[str, str]] = []
    for chunk in _block("console").split("$ ")[1:]:
        command, _, output = chunk.partition("\n")
        steps.append((command, output))
    return steps


def _undated(text: str) -> str:
    return re.sub(r"/postage_label/\d{8}/", "/postage_label/DATE/", text)


def test_the_worked_example_prints_what_the_page_shows(write: WriteFile, monkeypatch: pytest.MonkeyPatch) -> None:
    write("connectors/easypost.yaml", (ROOT / "config" / "connectors" / "easypost.yaml").read_text())
    profile = write("omnibridge.yaml", _block("yaml"))
    emu = EasyPostEmulator()
    with serve_in_thread(emu.app) as urls:
        monkeypatch.setenv("EASYPOST_BASE_URL", f"{urls[0]}/v2")
        monkeypatch.setenv(PROFILE_ENV, str(profile))
        with open_store(load_profile(profile).store_url) as store:
            world(store)  # web:1001: 2 x TEE-M (line-1), 1 x MUG (line-2), shipped from wh
            order = store.get_order("web:1001")
            assert order is not None
            store.save_order(order.model_copy(update={"ship_to": CUSTOMER}))
        steps = _steps()
        assert len(steps) == 8
        for command, expected in steps:
            args = shlex.split(command)
            assert args[0] == "omnibridge"
            result = CliRunner().invoke(app, args[1:])
            assert _undated(result.output) == _undated(expected), command
