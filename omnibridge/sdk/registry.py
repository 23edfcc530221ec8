"""Connector discovery through the ``omnibridge.connectors`` entry point group.

Built-in and third-party connectors are found the same way: each installed distribution may declare entry
points in the group, named by connector id and pointing at a :class:`ConnectorSpec` (or a zero-argument
callable returning one)::

    [project.entry-points."omnibridge.connectors"]
    acme-wms = "omnibridge_acme:connector"

Discovery never fails as a whole: a plugin that does not import, exports the wrong object, registers under a
name that is not its ``spec.id``, or claims an id already taken becomes a :class:`LoadFailure` that says why, and
every other connector still loads. On a duplicate id the connector shipped with omnibridge itself wins, then
the first distribution in name order.
"""

from __future__ import annotations

import importlib.metadata
from dataclasses import dataclass
from typing import Any

from omnibridge.sdk.metadata import ConnectorSpec

__all__ = ["ENTRY_POINT_GROUP", "ConnectorRegistry", "LoadFailure", "RegisteredConnector", "discover_connectors"]

ENTRY_POINT_GROUP = "omnibridge.connectors"
_CORE_DISTRIBUTION = "omnibridge"


@dataclass(frozen=True)
class RegisteredConnector:
    """A connector that loaded: its spec, where it came from (``module:attr``) and which distribution."""

    spec: ConnectorSpec
    entry_point: str
    distribution: str | None
    distribution_version: str | None


@dataclass(frozen=True)
class LoadFailure:
    """An entry point that could not be registered; ``error`` is a one-line reason without a traceback."""

    name: str
    entry_point: str
    distribution: str | None
    error: str


@dataclass(frozen=True)
class ConnectorRegistry:
    """The result of one discovery: loaded connectors by id, and the entry points that failed."""

    connectors: dict[str, RegisteredConnector]
    failures: list[LoadFailure]

    def get(self, connector_id: str) -> RegisteredConnector | None:
        """The connector registered under ``connector_id``, or ``None``."""
        return self.connectors.get(connector_id)

    def ids(self) -> list[str]:
        """Every loaded connector id, sorted."""
        return sorted(self.connectors)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _distribution(entry_point: importlib.metadata.EntryPoint) -> tuple[str | None, str | None]:
    dist = getattr(entry_point, "dist", None)
    if dist is None:
        return None, None
    try:
        return dist.metadata["Name"], dist.version
    except Exception:
        return None, None


def _resolve(entry_point: importlib.metadata.EntryPoint) -> ConnectorSpec:
    """Load the entry point's object and turn it into a spec, or raise with a reason a person can act on."""
    obj: Any = entry_point.load()
    if not isinstance(obj, ConnectorSpec) and callable(obj) and not isinstance(obj, type):
        obj = obj()
    if not isinstance(obj, ConnectorSpec):
        raise TypeError(
            f"{entry_point.value} is a {type(obj).__name__}, expected a ConnectorSpec "
            "or a zero-argument callable returning one"
        )
    if obj.id != entry_point.name:
        raise ValueError(
            f"entry point is named {entry_point.name!r} but the spec's id is {obj.id!r}; they must be equal"
        )
    return obj


def _order(entry_point: importlib.metadata.EntryPoint) -> tuple[int, str, str]:
    dist_name, _ = _distribution(entry_point)
    return (0 if dist_name == _CORE_DISTRIBUTION else 1, (dist_name or "").lower(), entry_point.value)


def discover_connectors() -> ConnectorRegistry:
    """Load every connector registered in the ``omnibridge.connectors`` group; never raises for a bad plugin."""
    connectors: dict[str, RegisteredConnector] = {}
    failures: list[LoadFailure] = []
    for entry_point in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=_order):
        dist_name, dist_version = _distribution(entry_point)
        try:
            spec = _resolve(entry_point)
        except Exception as exc:
            failures.append(LoadFailure(entry_point.name, entry_point.value, dist_name, _one_line(exc)))
            continue
        existing = connectors.get(spec.id)
        if existing is not None:
            owner = existing.distribution or "an unknown distribution"
            failures.append(
                LoadFailure(
                    entry_point.name,
                    entry_point.value,
                    dist_name,
                    f"duplicate connector id {spec.id!r}: already registered by {owner} ({existing.entry_point})",
                )
            )
            continue
        connectors[spec.id] = RegisteredConnector(spec, entry_point.value, dist_name, dist_version)
    return ConnectorRegistry(connectors, failures)
