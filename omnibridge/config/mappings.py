"""Load a channel's mapping files and merge them into :class:`~omnibridge.config.loaded.MappingTables`.

Every ``location_map`` target must be a location id of the profile. Status map values are canonical
:class:`~omnibridge.models.OrderStatus` values (checked by :class:`~omnibridge.config.schema.MappingFile`). When
several files set the same key, they must agree: a key mapped to two different targets is an error in the later
file, naming the earlier one.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from omnibridge.config.context import LoadContext
from omnibridge.config.loaded import MappingTables
from omnibridge.config.located import FieldPath
from omnibridge.config.schema import MappingFile
from omnibridge.config.yaml_source import YamlFile
from omnibridge.models import OrderStatus

_TABLES = ("sku_aliases", "location_map", "status_map")


def load_mappings(
    ctx: LoadContext,
    profile: YamlFile,
    channel_path: FieldPath,
    relative_paths: Sequence[str],
    location_ids: Collection[str],
) -> MappingTables:
    """Read, check and merge the mapping files of the channel at ``channel_path`` in ``profile``.

    Problems are recorded in ``ctx``; the tables returned hold whatever was valid.
    """
    merged: dict[str, dict[str, Any]] = {table: {} for table in _TABLES}
    origin: dict[tuple[str, str], str] = {}
    sources: list[Path] = []
    for index, relative in enumerate(relative_paths):
        path, display = ctx.locate(relative)
        if not path.is_file():
            ctx.problem(
                profile,
                (*channel_path, "mappings", index),
                f"mapping file '{relative}' not found" + ("" if display == relative else f" at {display}"),
                "an existing YAML file; paths are relative to the profile's directory",
            )
            continue
        source = ctx.read(path, display)
        if source.data is None:
            continue
        mapping = ctx.validate(MappingFile, source.data, source)
        if mapping is None:
            raw = source.data.get("location_map") if isinstance(source.data, Mapping) else None
            if isinstance(raw, Mapping):  # still report unknown targets in an otherwise invalid file
                _check_locations(ctx, source, {k: v for k, v in raw.items() if isinstance(v, str)}, location_ids)
            continue
        sources.append(path)
        _check_locations(ctx, source, mapping.location_map, location_ids)
        for table in _TABLES:
            entries: Mapping[str, Any] = getattr(mapping, table)
            for key, value in entries.items():
                previous = merged[table].get(key)
                if previous is not None and previous != value:
                    ctx.problem(
                        source,
                        (table, key),
                        f"'{key}' is mapped to '{value}' here but to '{previous}' in {origin[(table, key)]}",
                        "one target per key across a channel's mapping files",
                    )
                    continue
                merged[table][key] = value
                origin.setdefault((table, key), display)
    status_map: dict[str, OrderStatus] = merged["status_map"]
    return MappingTables(
        sku_aliases=MappingProxyType(dict(merged["sku_aliases"])),
        location_map=MappingProxyType(dict(merged["location_map"])),
        status_map=MappingProxyType(dict(status_map)),
        sources=tuple(sources),
    )


def _check_locations(
    ctx: LoadContext, source: YamlFile, location_map: Mapping[str, str], location_ids: Collection[str]
) -> None:
    known = sorted(location_ids)
    for reference, target in location_map.items():
        if target in location_ids:
            continue
        close = difflib.get_close_matches(target, known, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        ctx.problem(
            source,
            ("location_map", reference),
            f"unknown location '{target}'{hint}",
            "a location id from the profile: " + (", ".join(known) if known else "(the profile has none)"),
        )
