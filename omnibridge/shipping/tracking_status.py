"""The carrier tracking code -> canonical :class:`~omnibridge.models.shipments.TrackingStatus` table.

The table is data (``mappings/tracking-status.yaml``), shaped ``{carrier_id: {carrier_code: canonical}}``, so a
merchant can fix a carrier's code without a release. :func:`load_tracking_map` reads and validates it;
:meth:`TrackingMap.canonical` never raises: a carrier or code nobody mapped is ``unknown``.

Without a path, the file named by the environment variable ``OMNIBRIDGE_TRACKING_MAP`` is used when set (how an
installed omnibridge takes a merchant's corrected map); else the repository's ``mappings/tracking-status.yaml``
when present (a source checkout); else the copy shipped inside this package. The last two are kept identical by
a test.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from omnibridge.errors import ConfigError, ConfigErrors
from omnibridge.models.shipments import TrackingStatus

__all__ = ["PACKAGED_MAP", "REPO_MAP", "TrackingMap", "default_map_path", "load_tracking_map"]

PACKAGED_MAP = Path(__file__).with_name("tracking-status.yaml")
REPO_MAP = Path(__file__).resolve().parents[2] / "mappings" / "tracking-status.yaml"
_CANONICAL = ", ".join(status.value for status in TrackingStatus)


@dataclass(frozen=True)
class TrackingMap:
    """Carrier codes to canonical statuses. Carrier ids and codes are matched ignoring case."""

    entries: Mapping[str, Mapping[str, TrackingStatus]] = field(default_factory=dict)

    def canonical(self, carrier: str, code: str) -> TrackingStatus:
        """The canonical status of ``code`` reported by ``carrier``; ``UNKNOWN`` when either is not mapped."""
        table = self.entries.get(carrier.strip().lower())
        if table is None:
            return TrackingStatus.UNKNOWN
        return table.get(code.strip().casefold(), TrackingStatus.UNKNOWN)

    def carriers(self) -> list[str]:
        """The carrier ids the map knows, sorted."""
        return sorted(self.entries)


TRACKING_MAP_ENV = "OMNIBRIDGE_TRACKING_MAP"


def default_map_path() -> Path:
    """``$OMNIBRIDGE_TRACKING_MAP`` when set, else the repository's map in a source checkout, else the packaged
    copy."""
    override = os.environ.get(TRACKING_MAP_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    return REPO_MAP if REPO_MAP.is_file() else PACKAGED_MAP


def load_tracking_map(path: Path | None = None) -> TrackingMap:
    """Read and validate a tracking-status map (default: :func:`default_map_path`).

    Raises :class:`ConfigError` (one problem) or :class:`ConfigErrors` (several) naming the file, line, carrier
    and code, for: unreadable or non-YAML files, a top level that is not a mapping, a carrier whose value is not
    a mapping, a code that is not a string (``01`` unquoted is a number), an empty code, a value that is not a
    canonical status, and a code listed twice for one carrier (ignoring case).
    """
    source = path or default_map_path()
    name = str(source)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the tracking status map: {exc.strerror or exc}", file=name) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"not valid YAML: {problem}", file=name, line=line) from None
    if root is None:
        raise ConfigError("the tracking status map is empty", file=name, expected="{carrier_id: {code: status}}")
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError(
            "the top level is not a mapping", file=name, line=_line(root), expected="{carrier_id: {code: status}}"
        )
    errors: list[ConfigError] = []
    entries: dict[str, dict[str, TrackingStatus]] = {}
    for carrier_node, table_node in root.value:
        carrier = _scalar(carrier_node)
        if carrier is None:
            errors.append(ConfigError("a carrier id must be a string", file=name, line=_line(carrier_node)))
            continue
        carrier_id = carrier.strip().lower()
        if not carrier_id:
            errors.append(ConfigError("empty carrier id", file=name, line=_line(carrier_node)))
            continue
        if carrier_id in entries:
            errors.append(ConfigError("carrier listed twice", file=name, line=_line(carrier_node), field=carrier))
            continue
        if not isinstance(table_node, yaml.MappingNode):
            errors.append(
                ConfigError(
                    "the carrier's codes are not a mapping",
                    file=name,
                    line=_line(table_node),
                    field=carrier,
                    expected="{carrier_code: canonical_status}",
                )
            )
            continue
        entries[carrier_id] = _table(carrier, table_node, name, errors)
    if errors:
        raise errors[0] if len(errors) == 1 else ConfigErrors(errors)
    return TrackingMap(entries)


def _table(carrier: str, node: yaml.MappingNode, name: str, errors: list[ConfigError]) -> dict[str, TrackingStatus]:
    table: dict[str, TrackingStatus] = {}
    for code_node, value_node in node.value:
        code = _scalar(code_node)
        line = _line(code_node)
        if code is None or code_node.tag != "tag:yaml.org,2002:str":
            shown = code_node.value if isinstance(code_node, yaml.ScalarNode) else "?"
            errors.append(
                ConfigError(
                    f"code {shown!r} is not a string",
                    file=name,
                    line=line,
                    field=carrier,
                    expected=f'a quoted code, e.g. "{shown}"',
                )
            )
            continue
        if not code.strip():
            errors.append(ConfigError("empty carrier code", file=name, line=line, field=carrier))
            continue
        field_name = f"{carrier}.{code}"
        value = _scalar(value_node)
        try:
            status = TrackingStatus((value or "").strip())
        except ValueError:
            shown = value if value is not None else "a non-string value"
            errors.append(
                ConfigError(
                    f"{shown!r} is not a canonical tracking status",
                    file=name,
                    line=_line(value_node),
                    field=field_name,
                    expected=f"one of {_CANONICAL}",
                )
            )
            continue
        key = code.strip().casefold()
        if key in table:
            errors.append(
                ConfigError(
                    "code listed twice (codes are matched ignoring case)", file=name, line=line, field=field_name
                )
            )
            continue
        table[key] = status
    return table


def _scalar(node: yaml.Node) -> str | None:
    if isinstance(node, yaml.ScalarNode) and isinstance(node.value, str):
        return node.value
    return None


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1
