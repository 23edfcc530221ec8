"""Fixtures for CLI tests: a scratch profile directory and a fake connector registry used by discovery."""

from __future__ import annotations

import textwrap

import pytest
from support import acme_registry

from omnibridge.sdk.registry import ConnectorRegistry

FAKE_REGISTRY = acme_registry(broken="broken")


@pytest.fixture(autouse=True)
def fake_discovery(monkeypatch: pytest.MonkeyPatch) -> ConnectorRegistry:
    """Connector discovery returns :data:`FAKE_REGISTRY`, whatever is installed."""
    monkeypatch.setattr("omnibridge.sdk.registry.discover_connectors", lambda: FAKE_REGISTRY)
    monkeypatch.setattr("omnibridge.cli.connectors.discover_connectors", lambda: FAKE_REGISTRY)
    monkeypatch.delenv("OMNIBRIDGE_PROFILE", raising=False)
    monkeypatch.delenv("OMNIBRIDGE_DEBUG", raising=False)
    return FAKE_REGISTRY


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
