"""Load one ``channels:`` entry: find its connector, validate its connector profile and settings, merge its
mappings.

The connector must be installed (registered in the ``omnibridge.connectors`` entry point group). The connector
profile must name the same connector as the channel, and its ``settings`` are validated by the connector's own
``spec.settings_model``; errors from that model are reported at their line in the connector profile. Every
credential (``SecretStr``) in the validated settings is registered as a secret.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Mapping

from omnibridge.config.context import LoadContext
from omnibridge.config.loaded import LoadedChannel
from omnibridge.config.located import FieldPath
from omnibridge.config.mappings import load_mappings
from omnibridge.config.schema import ChannelSection, ConnectorProfileFile
from omnibridge.config.secret_values import empty_secrets, register_secrets, secret_values
from omnibridge.config.yaml_source import YamlFile
from omnibridge.sdk.metadata import ConnectorSpec
from omnibridge.sdk.registry import ConnectorRegistry

_CONNECTOR_ID = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


def load_channel(
    ctx: LoadContext,
    profile: YamlFile,
    index: int,
    section: ChannelSection,
    registry: Callable[[], ConnectorRegistry],
    location_ids: Collection[str],
) -> LoadedChannel | None:
    """The channel at ``channels[index]`` of ``profile``, or ``None`` if anything about it is wrong (the
    problems are recorded in ``ctx``). Mapping files are checked even when the connector is unknown."""
    where: FieldPath = ("channels", index)
    spec = _find_connector(ctx, profile, where, section.connector, registry())
    mappings = load_mappings(ctx, profile, where, section.mappings, location_ids)

    path, display = ctx.locate(section.profile)
    if not path.is_file():
        ctx.problem(
            profile,
            (*where, "profile"),
            f"connector profile '{section.profile}' not found"
            + ("" if display == section.profile else f" at {display}"),
            "an existing YAML file; paths are relative to the profile's directory",
        )
        return None
    source = ctx.read(path, display)
    if source.data is None:
        return None
    connector_profile = ctx.validate(ConnectorProfileFile, source.data, source)
    if connector_profile is None:
        return None
    if connector_profile.connector != section.connector:
        ctx.problem(
            source,
            ("connector",),
            f"this profile is for connector '{connector_profile.connector}' but channel '{section.id}' "
            f"uses '{section.connector}'",
            f"connector: {section.connector}",
        )
        return None
    if spec is None:
        return None
    try:
        settings = ctx.validate(spec.settings_model, connector_profile.settings, source, prefix=("settings",))
    except Exception as exc:  # a bug in the plugin's validators must not stop the rest of the profile
        ctx.problem(
            source,
            ("settings",),
            f"connector '{spec.id}' failed while checking its settings: {type(exc).__name__}",
            "settings the connector accepts; report this to the connector's authors",
        )
        return None
    if settings is None:
        return None
    empty = list(empty_secrets(settings)) if section.enabled else []
    for field_path in (p for p in empty if ("settings", *p) not in source.failed_paths):  # unset: reported already
        ctx.problem(
            source,
            ("settings", *field_path),
            "this credential is empty (an environment variable that is unset or set to nothing?)",
            "a non-empty value",
        )
    if empty:
        return None
    register_secrets(secret_values(settings))
    return LoadedChannel(
        id=section.id,
        connector=section.connector,
        spec=spec,
        settings=settings,
        profile_path=path,
        mappings=mappings,
        enabled=section.enabled,
        priority=section.priority,
    )


def check_channel_references(
    ctx: LoadContext,
    profile: YamlFile,
    index: int,
    raw: object,
    registry: Callable[[], ConnectorRegistry],
    location_ids: Collection[str],
) -> None:
    """For a ``channels[index]`` entry that is itself invalid: still check the connector it names and its mapping
    files, so one run reports every problem."""
    if not isinstance(raw, Mapping):
        return
    where: FieldPath = ("channels", index)
    connector = raw.get("connector")
    if isinstance(connector, str) and _CONNECTOR_ID.match(connector):
        _find_connector(ctx, profile, where, connector, registry())
    mappings = raw.get("mappings")
    if isinstance(mappings, list) and all(isinstance(item, str) and item for item in mappings):
        load_mappings(ctx, profile, where, mappings, location_ids)


def _find_connector(
    ctx: LoadContext, profile: YamlFile, where: FieldPath, connector_id: str, registry: ConnectorRegistry
) -> ConnectorSpec | None:
    registered = registry.get(connector_id)
    if registered is not None:
        return registered.spec
    failure = next((f for f in registry.failures if f.name == connector_id), None)
    if failure is not None:
        ctx.problem(
            profile,
            (*where, "connector"),
            f"connector '{connector_id}' is installed but failed to load: {failure.error}",
            "a connector that loads (see 'omnibridge connectors list')",
        )
        return None
    installed = registry.ids()
    close = difflib.get_close_matches(connector_id, installed, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    ctx.problem(
        profile,
        (*where, "connector"),
        f"unknown connector '{connector_id}'{hint}",
        f"an installed connector: {', '.join(installed)}"
        if installed
        else "an installed connector; none are installed, see 'omnibridge connectors list'",
    )
    return None
