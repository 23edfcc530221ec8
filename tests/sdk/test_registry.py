from __future__ import annotations

import importlib.metadata
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from omnibridge.sdk import Capability, ConnectorKind, ConnectorRegistry, ConnectorSpec, discover_connectors
from omnibridge.sdk.registry import ENTRY_POINT_GROUP


class EmptySettings(BaseModel):
    pass


def make_spec(connector_id: str) -> ConnectorSpec:
    return ConnectorSpec(
        id=connector_id,
        label=connector_id.title(),
        kind=ConnectorKind.POS,
        settings_model=EmptySettings,
        capabilities=frozenset({Capability.INVENTORY_READ}),
    )


@dataclass(frozen=True)
class FakeDistribution:
    name: str
    version: str

    @property
    def metadata(self) -> dict[str, str]:
        return {"Name": self.name}


@dataclass(frozen=True)
class FakeEntryPoint:
    """Quacks like importlib.metadata.EntryPoint, with a distribution attached."""

    name: str
    value: str
    dist: FakeDistribution | None = None
    group: str = ENTRY_POINT_GROUP

    def load(self) -> Any:
        return importlib.metadata.EntryPoint(self.name, self.value, self.group).load()


@pytest.fixture
def plugin_modules(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Registers importable fake plugin modules; returns the module name holding good and bad objects."""
    module = types.ModuleType("fake_connectors")
    vars(module).update(
        alpha=make_spec("alpha"),
        beta_factory=lambda: make_spec("beta"),
        not_a_spec={"id": "gamma"},
        returns_wrong=lambda: "spec",
        factory_raises=lambda: 1 / 0,
        shop_core=make_spec("shop"),
        shop_other=make_spec("shop"),
    )
    monkeypatch.setitem(sys.modules, "fake_connectors", module)
    (tmp_path / "fake_broken_syntax.py").write_text("connector = (\n")
    (tmp_path / "fake_raises_on_import.py").write_text("raise RuntimeError('vendor SDK missing:\\n pip install x')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "fake_connectors"


def install(monkeypatch: pytest.MonkeyPatch, *entry_points: FakeEntryPoint) -> None:
    def fake_entry_points(*, group: str) -> list[FakeEntryPoint]:
        return [ep for ep in entry_points if ep.group == group]

    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points)


THIRD = FakeDistribution("omnibridge-third", "2.1.0")


def discover_with(monkeypatch: pytest.MonkeyPatch, *entry_points: FakeEntryPoint) -> ConnectorRegistry:
    install(monkeypatch, *entry_points)
    return discover_connectors()


def test_specs_and_spec_factories_are_registered(monkeypatch: pytest.MonkeyPatch, plugin_modules: str) -> None:
    registry = discover_with(
        monkeypatch,
        FakeEntryPoint("beta", f"{plugin_modules}:beta_factory", THIRD),
        FakeEntryPoint("alpha", f"{plugin_modules}:alpha"),
        FakeEntryPoint("other-group", f"{plugin_modules}:alpha", group="something.else"),
    )
    assert registry.failures == []
    assert registry.ids() == ["alpha", "beta"]
    beta = registry.get("beta")
    assert beta is not None
    assert beta.spec.id == "beta"
    assert beta.entry_point == f"{plugin_modules}:beta_factory"
    assert (beta.distribution, beta.distribution_version) == ("omnibridge-third", "2.1.0")
    alpha = registry.get("alpha")
    assert alpha is not None
    assert (alpha.distribution, alpha.distribution_version) == (None, None)
    assert registry.get("gamma") is None


@pytest.mark.parametrize(
    ("name", "attr", "message"),
    [
        ("gamma", "not_a_spec", "TypeError: fake_connectors:not_a_spec is a dict, expected a ConnectorSpec"),
        ("gamma", "returns_wrong", "is a str, expected a ConnectorSpec"),
        ("gamma", "factory_raises", "ZeroDivisionError: division by zero"),
        ("gamma", "missing_attr", "AttributeError"),
        ("other", "alpha", "entry point is named 'other' but the spec's id is 'alpha'"),
    ],
)
def test_bad_objects_become_load_failures(
    monkeypatch: pytest.MonkeyPatch, plugin_modules: str, name: str, attr: str, message: str
) -> None:
    registry = discover_with(
        monkeypatch,
        FakeEntryPoint(name, f"{plugin_modules}:{attr}", THIRD),
        FakeEntryPoint("alpha", f"{plugin_modules}:alpha"),
    )
    assert registry.ids() == ["alpha"]
    [failure] = registry.failures
    assert (failure.name, failure.entry_point, failure.distribution) == (
        name,
        f"{plugin_modules}:{attr}",
        "omnibridge-third",
    )
    assert message in failure.error


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("fake_no_such_module:connector", "ModuleNotFoundError: No module named 'fake_no_such_module'"),
        ("fake_broken_syntax:connector", "SyntaxError"),
        ("fake_raises_on_import:connector", "RuntimeError: vendor SDK missing: pip install x"),
    ],
)
def test_import_errors_become_one_line_failures(
    monkeypatch: pytest.MonkeyPatch, plugin_modules: str, value: str, message: str
) -> None:
    registry = discover_with(
        monkeypatch, FakeEntryPoint("broken", value), FakeEntryPoint("alpha", f"{plugin_modules}:alpha")
    )
    assert registry.ids() == ["alpha"]
    [failure] = registry.failures
    assert failure.error.startswith(message)
    assert "\n" not in failure.error
    assert "Traceback" not in failure.error


def test_a_duplicate_id_keeps_the_built_in_connector(monkeypatch: pytest.MonkeyPatch, plugin_modules: str) -> None:
    core = FakeDistribution("omnibridge", "0.1.0")
    registry = discover_with(
        monkeypatch,
        FakeEntryPoint("shop", f"{plugin_modules}:shop_other", FakeDistribution("aaa-first-by-name", "1.0")),
        FakeEntryPoint("shop", f"{plugin_modules}:shop_core", core),
    )
    shop = registry.get("shop")
    assert shop is not None
    assert shop.distribution == "omnibridge"
    [failure] = registry.failures
    assert failure.distribution == "aaa-first-by-name"
    assert failure.error == (
        "duplicate connector id 'shop': already registered by omnibridge (fake_connectors:shop_core)"
    )


def test_nothing_installed_is_an_empty_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = discover_with(monkeypatch)
    assert registry.ids() == []
    assert registry.failures == []
