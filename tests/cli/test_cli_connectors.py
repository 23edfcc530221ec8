"""`omnibridge connectors list`: a table or JSON of what discovery found, failures included."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from omnibridge.cli.app import app
from omnibridge.sdk.registry import ConnectorRegistry

runner = CliRunner()


def test_table_lists_connectors_and_failures() -> None:
    result = runner.invoke(app, ["connectors", "list"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "KIND", "LABEL", "CAPABILITIES", "SOURCE"]
    assert lines[1].split("  ")[0] == "acme-wms"
    assert "ACME WMS" in lines[1]
    assert "inventory.read, inventory.write" in lines[1]
    assert lines[1].endswith("omnibridge-acme-connector 0.1.0")
    assert lines[2] == (
        "failed to load: broken (broken_pkg:spec from broken-dist): ImportError: No module named 'broken_pkg'"
    )


def test_json(fake_discovery: ConnectorRegistry) -> None:
    result = runner.invoke(app, ["connectors", "list", "--json"])
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["connectors"] == [
        {
            "id": "acme-wms",
            "kind": "erp/wms",
            "label": "ACME WMS",
            "version": "0",
            "capabilities": ["inventory.read", "inventory.write"],
            "entry_point": "omnibridge_acme:connector",
            "distribution": "omnibridge-acme-connector",
            "distribution_version": "0.1.0",
        }
    ]
    assert document["failures"] == [
        {
            "name": "broken",
            "entry_point": "broken_pkg:spec",
            "distribution": "broken-dist",
            "error": "ImportError: No module named 'broken_pkg'",
        }
    ]


def test_nothing_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("omnibridge.cli.connectors.discover_connectors", lambda: ConnectorRegistry({}, []))
    result = runner.invoke(app, ["connectors", "list"])
    assert result.stdout == "no connectors installed\n"
