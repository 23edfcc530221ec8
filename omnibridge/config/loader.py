"""Load and validate a merchant profile together with every file it references."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from omnibridge.config.channels import check_channel_references, load_channel
from omnibridge.config.checks import check_availability, check_pickup_hours, check_unique_ids
from omnibridge.config.context import LoadContext
from omnibridge.config.drift import check_drift_pass_through
from omnibridge.config.errors import ProfileErrors
from omnibridge.config.loaded import LoadedChannel, LoadedProfile
from omnibridge.config.routing_rules import build_rules, check_routing
from omnibridge.config.schema import AvailabilityPolicy, ChannelSection, LocationSection, ProfileFile, RoutingSection
from omnibridge.config.secret_values import register_secrets
from omnibridge.config.store_url import resolve_store_url, store_url_secrets
from omnibridge.errors import ConfigError
from omnibridge.models import Address, GeoPoint, Location
from omnibridge.pickup.rules import pickup_rules
from omnibridge.sdk.registry import ConnectorRegistry

SectionT = TypeVar("SectionT", bound=BaseModel)


def load_profile(
    path: str | Path,
    *,
    registry: ConnectorRegistry | None = None,
    env: Mapping[str, str] | None = None,
) -> LoadedProfile:
    """Load the merchant profile at ``path`` and every connector profile and mapping file it references.

    * ``${VAR}`` / ``${VAR:-default}`` in string values are substituted from ``env`` (default: ``os.environ``)
      before validation; every ``SecretStr`` in connector settings (wherever its value came from) and the store
      URL's password are registered with :func:`omnibridge.logs.register_secret`; other values are not secrets.
    * Relative paths (connector profiles, mapping files, a SQLite database file) are resolved against the
      directory of ``path``.
    * Connectors are looked up in ``registry``; when it is ``None`` and the profile has channels, installed
      connectors are discovered with :func:`omnibridge.sdk.registry.discover_connectors`.

    Raises :class:`~omnibridge.config.errors.ProfileErrors` listing *every* problem found (each one names file,
    line, field path and what was expected). Never raises anything else for bad input; never prints.
    """
    profile_path = Path(path)
    ctx = LoadContext(
        env=os.environ if env is None else env,
        base_dir=profile_path.resolve().parent,
        display_dir=profile_path.parent,
    )
    if not profile_path.exists():
        raise ProfileErrors(
            [
                ConfigError(
                    "profile not found",
                    file=str(profile_path),
                    expected="an existing profile; create one with 'omnibridge init'",
                )
            ]
        )
    source = ctx.read(profile_path.resolve(), str(profile_path))
    if source.data is None:
        raise ProfileErrors(ctx.errors)

    profile = ctx.validate(ProfileFile, source.data, source)
    raw: Mapping[str, Any] = source.data if isinstance(source.data, Mapping) else {}
    if profile is not None:
        locations = list(enumerate(profile.locations))
        channels = dict(enumerate(profile.channels))
    else:  # carry on with the entries that are valid on their own, to report everything in one run
        locations = _salvage(LocationSection, raw.get("locations"))
        channels = dict(_salvage(ChannelSection, raw.get("channels")))

    check_unique_ids(ctx, source, "locations", raw.get("locations"))
    check_unique_ids(ctx, source, "channels", raw.get("channels"))
    check_pickup_hours(ctx, source, locations)

    location_ids = _declared_ids(raw.get("locations"))
    discover = _registry_provider(registry)
    loaded_channels: list[LoadedChannel] = []
    raw_channels = raw.get("channels")
    for index, raw_channel in enumerate(raw_channels if isinstance(raw_channels, list) else []):
        section = channels.get(index)
        if section is None:
            check_channel_references(ctx, source, index, raw_channel, discover, location_ids)
            continue
        channel = load_channel(ctx, source, index, section, discover, location_ids)
        if channel is not None:
            loaded_channels.append(
                replace(channel, drift=section.drift, guard=section.guard, webhooks=section.webhooks)
            )

    availability = profile.availability if profile is not None else _salvage_availability(raw)
    if availability is not None:
        check_availability(ctx, source, availability, location_ids, _declared_ids(raw.get("channels")))
        active = [location.id for _, location in locations if location.active]
        check_drift_pass_through(ctx, source, channels, loaded_channels, availability, active)

    routing = profile.routing if profile is not None else _salvage_routing(raw)
    if routing is not None:
        check_routing(ctx, source, routing, locations, _declared_ids(raw.get("channels")))

    canonical: list[Location] = []
    for index, location_section in locations:
        location = _to_location(location_section)
        if location is None:
            ctx.problem(source, ("locations", index), "location cannot be converted to the canonical model")
        else:
            canonical.append(location)

    store_url = ""
    if profile is not None:
        store_url = resolve_store_url(profile.store.url, ctx.base_dir)
        register_secrets(store_url_secrets(store_url))
    if ctx.errors or profile is None:
        raise ProfileErrors(ctx.errors)
    return LoadedProfile(
        path=profile_path.resolve(),
        version=profile.version,
        merchant=profile.merchant,
        store_url=store_url,
        locations=tuple(canonical),
        channels=tuple(loaded_channels),
        availability=profile.availability,
        routing=build_rules(profile.routing, profile.locations, loaded_channels, profile.merchant.timezone),
        server=profile.server,
        privacy=profile.privacy,
        pickup=pickup_rules(profile.pickup, [(loc.id, loc.pickup) for loc in profile.locations]),
        warehouse=profile.warehouse,
    )


def _salvage(model: type[SectionT], items: object) -> list[tuple[int, SectionT]]:
    if not isinstance(items, list):
        return []
    valid: list[tuple[int, SectionT]] = []
    for index, item in enumerate(items):
        try:
            valid.append((index, model.model_validate(item)))
        except ValidationError:
            continue
    return valid


def _salvage_availability(raw: Mapping[str, Any]) -> AvailabilityPolicy | None:
    """The ``availability`` section validated on its own (its own problems are already reported)."""
    try:
        return AvailabilityPolicy.model_validate(raw.get("availability") or {})
    except ValidationError:
        return None


def _salvage_routing(raw: Mapping[str, Any]) -> RoutingSection | None:
    """The ``routing`` section validated on its own (its own problems are already reported)."""
    try:
        return RoutingSection.model_validate(raw.get("routing") or {})
    except ValidationError:
        return None


def _declared_ids(items: object) -> set[str]:
    """Every id written in a list of the profile (locations, channels), valid entry or not (so one bad location
    does not also make every mapping that targets it an error)."""
    if not isinstance(items, list):
        return set()
    return {str(item["id"]) for item in items if isinstance(item, Mapping) and item.get("id") is not None}


def _registry_provider(registry: ConnectorRegistry | None) -> Callable[[], ConnectorRegistry]:
    if registry is not None:
        return lambda: registry

    @cache
    def discover() -> ConnectorRegistry:
        from omnibridge.sdk.registry import discover_connectors

        return discover_connectors()

    return discover


def _to_location(section: LocationSection) -> Location | None:
    try:
        return Location(
            id=section.id,
            name=section.name,
            type=section.type,
            address=Address(**section.address.model_dump()) if section.address else None,
            coordinates=GeoPoint(**section.coordinates.model_dump()) if section.coordinates else None,
            capabilities=set(section.capabilities),
            pickup_hours=dict(section.pickup_hours),
            active=section.active,
        )
    except ValidationError:
        return None
