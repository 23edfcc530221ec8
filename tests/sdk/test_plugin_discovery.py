"""Discovery of a real, pip-installed third-party connector: tests/plugins/omnibridge-acme-connector."""

from __future__ import annotations

import importlib.metadata

import pytest

from omnibridge.sdk import Capability, ConnectorKind, discover_connectors
from omnibridge.sdk.registry import ENTRY_POINT_GROUP

from .fakes import ACME_DISTRIBUTION, ACME_INSTALL_HINT, acme_installed, requires_acme

pytestmark = requires_acme


def test_the_installed_plugin_is_discovered_with_its_distribution() -> None:
    assert acme_installed(), f"{ACME_DISTRIBUTION} is not installed: run `{ACME_INSTALL_HINT}`"
    registry = discover_connectors()
    acme = registry.get("acme-wms")
    assert acme is not None, f"acme-wms not discovered; failures: {registry.failures}"
    assert acme.entry_point == "omnibridge_acme:connector"
    assert acme.distribution == ACME_DISTRIBUTION
    assert acme.distribution_version == "0.1.0"
    assert acme.spec.kind is ConnectorKind.ERP_WMS
    assert acme.spec.capabilities == {Capability.INVENTORY_READ, Capability.INVENTORY_WRITE}
    assert set(acme.spec.settings_model.model_fields) >= {"base_url", "api_key", "warehouse_code"}
    assert "acme-wms" in registry.ids()
    assert not [failure for failure in registry.failures if failure.distribution == ACME_DISTRIBUTION]


def test_a_broken_plugin_is_reported_and_the_others_still_load(monkeypatch: pytest.MonkeyPatch) -> None:
    real_entry_points = importlib.metadata.entry_points
    broken = importlib.metadata.EntryPoint("broken-wms", "omnibridge_broken_plugin:connector", ENTRY_POINT_GROUP)

    def with_broken_plugin(*, group: str) -> list[importlib.metadata.EntryPoint]:
        found = list(real_entry_points(group=group))
        return [*found, broken] if group == ENTRY_POINT_GROUP else found

    monkeypatch.setattr(importlib.metadata, "entry_points", with_broken_plugin)
    registry = discover_connectors()
    assert registry.get("acme-wms") is not None
    assert registry.get("broken-wms") is None
    failure = next(f for f in registry.failures if f.name == "broken-wms")
    assert failure.entry_point == "omnibridge_broken_plugin:connector"
    assert failure.error == "ModuleNotFoundError: No module named 'omnibridge_broken_plugin'"
