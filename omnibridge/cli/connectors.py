"""``omnibridge connectors ...``: which connector plugins are installed, and which failed to load."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from omnibridge.sdk.registry import ConnectorRegistry, LoadFailure, RegisteredConnector, discover_connectors

connectors_app = typer.Typer(help="Installed connector plugins.", no_args_is_help=True)

_HEADERS = ("ID", "KIND", "LABEL", "CAPABILITIES", "SOURCE")


def connector_record(connector: RegisteredConnector) -> dict[str, Any]:
    """The JSON form of one loaded connector."""
    spec = connector.spec
    return {
        "id": spec.id,
        "kind": spec.kind.value,
        "label": spec.label,
        "version": spec.version,
        "capabilities": sorted(capability.value for capability in spec.capabilities),
        "entry_point": connector.entry_point,
        "distribution": connector.distribution,
        "distribution_version": connector.distribution_version,
    }


def failure_record(failure: LoadFailure) -> dict[str, Any]:
    """The JSON form of one entry point that failed to load."""
    return {
        "name": failure.name,
        "entry_point": failure.entry_point,
        "distribution": failure.distribution,
        "error": failure.error,
    }


def render_registry(registry: ConnectorRegistry) -> str:
    """A plain-text table of the loaded connectors followed by one ``failed to load: ...`` line per failure."""
    rows = [
        (
            spec.id,
            spec.kind.value,
            spec.label,
            ", ".join(sorted(capability.value for capability in spec.capabilities)) or "-",
            _source(connector),
        )
        for connector in (registry.connectors[cid] for cid in registry.ids())
        for spec in (connector.spec,)
    ]
    lines: list[str] = []
    if rows:
        widths = [max(len(row[i]) for row in [_HEADERS, *rows]) for i in range(len(_HEADERS))]
        for row in [_HEADERS, *rows]:
            lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    else:
        lines.append("no connectors installed")
    for failure in registry.failures:
        origin = f" from {failure.distribution}" if failure.distribution else ""
        lines.append(f"failed to load: {failure.name} ({failure.entry_point}{origin}): {failure.error}")
    return "\n".join(lines)


def _source(connector: RegisteredConnector) -> str:
    if connector.distribution is None:
        return "unknown"
    return f"{connector.distribution} {connector.distribution_version or ''}".strip()


@connectors_app.command("list")
def list_connectors(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List installed connectors: id, kind, label, capabilities and the distribution that provides each."""
    registry = discover_connectors()
    if as_json:
        document = {
            "connectors": [connector_record(registry.connectors[cid]) for cid in registry.ids()],
            "failures": [failure_record(failure) for failure in registry.failures],
        }
        typer.echo(json.dumps(document, indent=2))
        return
    typer.echo(render_registry(registry))
