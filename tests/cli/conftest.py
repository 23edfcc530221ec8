"""Fixtures for CLI tests: a scratch profile directory and a fake connector registry used by discovery."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, HttpUrl, SecretStr

from omnibridge.sdk.metadata import Capability, ConnectorKind, ConnectorSpec
from omnibridge.sdk.registry import ConnectorRegistry, LoadFailure, RegisteredConnector


class AcmeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: HttpUrl
    api_key: SecretStr
    warehouse_code: str


FAKE_REGISTRY = ConnectorRegistry(
    connectors={
        "acme-wms": RegisteredConnector(
            ConnectorSpec(
                id="acme-wms",
                label="ACME WMS",
                kind=ConnectorKind.ERP_WMS,
                settings_model=AcmeSettings,
                capabilities=frozenset({Capability.INVENTORY_READ, Capability.INVENTORY_WRITE}),
            ),
            "omnibridge_acme:connector",
            "omnibridge-acme-connector",
            "0.1.0",
        )
    },
    failures=[LoadFailure("broken", "broken_pkg:spec", "broken-dist", "ImportError: No module named 'broken_pkg'")],
)


@pytest.fixture(autouse=True)
def fake_discovery(monkeypatch: pytest.MonkeyPatch) -> ConnectorRegistry:
    """Connector discovery returns :data:`FAKE_REGISTRY`, whatever is installed."""
    monkeypatch.setattr("omnibridge.sdk.registry.discover_connectors", lambda: FAKE_REGISTRY)
    monkeypatch.setattr("omnibridge.cli.connectors.discover_connectors", lambda: FAKE_REGISTRY)
    monkeypatch.delenv("OMNIBRIDGE_PROFILE", raising=False)
    monkeypatch.delenv("OMNIBRIDGE_DEBUG", raising=False)
    return FAKE_REGISTRY


WriteFile = Callable[[str, str], Path]


@pytest.fixture
def write(tmp_path: Path) -> WriteFile:
    """``write(relative_path, text)``: write dedented ``text`` under ``tmp_path`` and return the path."""

    def _write(relative: str, text: str) -> Path:
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    return _write


@pytest.fixture
def base_profile() -> str:
    """A valid profile (one warehouse, no channels); line 11 is the last line."""
    return textwrap.dedent(
        """
        version: 1
        merchant:
          name: Trail & Co
          currency: USD
          timezone: America/Denver
        locations:
          - id: wh
            name: Warehouse
            type: warehouse
            capabilities: [ships]
        """
    ).lstrip("\n")
