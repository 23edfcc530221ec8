"""Bad profiles: every problem is reported, each naming file, line, field path and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import WriteFile

from omnibridge.config import ProfileErrors, load_profile
from omnibridge.errors import ConfigError
from omnibridge.sdk.registry import ConnectorRegistry


def _errors(
    path: Path, registry: ConnectorRegistry | None = None, env: dict[str, str] | None = None
) -> list[ConfigError]:
    with pytest.raises(ProfileErrors) as caught:
        load_profile(path, registry=registry, env=env or {})
    errors = caught.value.errors
    for error in errors:
        assert "\n" not in error.render()
    return errors


def _one(path: Path, registry: ConnectorRegistry | None = None, env: dict[str, str] | None = None) -> ConfigError:
    errors = _errors(path, registry, env)
    assert len(errors) == 1, [e.render() for e in errors]
    return errors[0]


def test_unknown_key_suggests_the_closest(write: WriteFile, base_profile: str) -> None:
    path = write("omnibridge.yaml", base_profile.replace("locations:", "lcations:"))
    errors = _errors(path)
    unknown = next(e for e in errors if e.field == "lcations")
    assert unknown.file == str(path)
    assert unknown.line == 6
    assert unknown.message == "unknown key 'lcations'; did you mean 'locations'?"
    assert unknown.expected == (
        "one of: version, merchant, store, locations, channels, availability, routing, pickup, server, privacy, "
        "warehouse"
    )
    missing = next(e for e in errors if e.field == "locations")
    assert missing.message == "required key is missing"


def test_unknown_nested_key(write: WriteFile, base_profile: str) -> None:
    path = write("omnibridge.yaml", base_profile.replace("  timezone:", "  timezon: x\n  timezone:"))
    error = _one(path)
    assert (error.line, error.field) == (5, "merchant.timezon")
    assert "did you mean 'timezone'" in error.message
    assert error.expected == "one of: name, currency, timezone"


def test_wrong_type(write: WriteFile, base_profile: str, registry: ConnectorRegistry) -> None:
    write("c.yaml", "connector: acme-wms\nsettings: {base_url: 'https://a.example', api_key: k, warehouse_code: W}\n")
    path = write(
        "omnibridge.yaml",
        base_profile + "channels:\n  - id: a\n    connector: acme-wms\n    profile: c.yaml\n    priority: ten\n",
    )
    error = _one(path, registry)
    assert (error.line, error.field) == (20, "channels[0].priority")
    assert error.render() == f"{path}:20: channels[0].priority: invalid value 'ten' (expected an integer)"


def test_missing_required_field_points_at_its_parent(write: WriteFile, base_profile: str) -> None:
    path = write("omnibridge.yaml", base_profile.replace("  currency: USD\n", ""))
    error = _one(path)
    assert (error.line, error.field, error.message) == (2, "merchant.currency", "required key is missing")
    assert error.expected == "an ISO 4217 currency code such as USD"


def test_invalid_values(write: WriteFile, base_profile: str) -> None:
    text = (
        base_profile.replace("currency: USD", "currency: USX")
        .replace("America/Denver", "America/Denvr")
        .replace("type: store", "type: shop")
        .replace('mon: "09:00-18:00"', 'mon: "18:00-09:00"')
    )
    errors = {e.field: e for e in _errors(write("omnibridge.yaml", text))}
    assert errors["merchant.currency"].message == "unknown currency 'USX'"
    assert "did you mean 'America/Denver'" in errors["merchant.timezone"].message
    assert errors["locations[1].type"].expected == "one of: warehouse, store, supplier, 3pl"
    assert errors["locations[1].pickup_hours.mon"].message == "invalid opening hours '18:00-09:00'"


def test_version_must_be_1(write: WriteFile, base_profile: str) -> None:
    error = _one(write("omnibridge.yaml", base_profile.replace("version: 1", "version: 2")))
    assert (error.line, error.field) == (1, "version")
    assert error.expected is not None
    assert error.expected.startswith("1")


def test_top_level_must_be_a_mapping(write: WriteFile) -> None:
    error = _one(write("omnibridge.yaml", "- a\n- b\n"))
    assert error.line == 1
    assert "must be a mapping" in error.message


def test_missing_environment_variable(write: WriteFile, base_profile: str) -> None:
    path = write("omnibridge.yaml", base_profile.replace("name: Trail & Co", "name: ${SHOP_NAME}"))
    error = _one(path)
    assert (error.file, error.line, error.field) == (str(path), 3, "merchant.name")
    assert error.message == "environment variable 'SHOP_NAME' is not set"
    assert error.expected == "'SHOP_NAME' set in the environment, or a default: ${SHOP_NAME:-value}"


def test_missing_variable_in_connector_profile_names_that_file(
    channel_profile: Path, registry: ConnectorRegistry
) -> None:
    error = _one(channel_profile, registry)
    assert error.file == str(channel_profile.parent / "connectors" / "acme.yaml")
    assert (error.line, error.field) == (4, "settings.api_key")
    assert "ACME_API_KEY" in error.message


def test_unknown_connector_lists_installed(write: WriteFile, base_profile: str, registry: ConnectorRegistry) -> None:
    write("c.yaml", "connector: acme-wm\n")
    path = write("omnibridge.yaml", base_profile + "channels:\n  - {id: a, connector: acme-wm, profile: c.yaml}\n")
    error = _one(path, registry)
    assert (error.line, error.field) == (17, "channels[0].connector")
    assert error.message == "unknown connector 'acme-wm'; did you mean 'acme-wms'?"
    assert error.expected == "an installed connector: acme-wms"


def test_connector_that_failed_to_load_says_why(
    write: WriteFile, base_profile: str, registry: ConnectorRegistry
) -> None:
    write("c.yaml", "connector: brokenconn\n")
    path = write("omnibridge.yaml", base_profile + "channels:\n  - {id: a, connector: brokenconn, profile: c.yaml}\n")
    error = _one(path, registry)
    assert "failed to load: ImportError" in error.message


def test_connector_profile_must_match_channel(write: WriteFile, base_profile: str, registry: ConnectorRegistry) -> None:
    write("c.yaml", "connector: shopify\nsettings: {}\n")
    path = write("omnibridge.yaml", base_profile + "channels:\n  - {id: a, connector: acme-wms, profile: c.yaml}\n")
    error = _one(path, registry)
    assert error.file == str(path.parent / "c.yaml")
    assert (error.line, error.field, error.expected) == (1, "connector", "connector: acme-wms")


def test_settings_errors_come_from_the_connector_model_with_lines(
    write: WriteFile, base_profile: str, registry: ConnectorRegistry
) -> None:
    write("c.yaml", "connector: acme-wms\nsettings:\n  base_url: not a url\n  api_key: k\n  warehouse: W\n")
    path = write("omnibridge.yaml", base_profile + "channels:\n  - {id: a, connector: acme-wms, profile: c.yaml}\n")
    errors = {e.field: e for e in _errors(path, registry)}
    assert errors["settings.base_url"].line == 3
    assert "URL" in (errors["settings.base_url"].expected or "")
    assert errors["settings.warehouse"].line == 5
    assert "did you mean 'warehouse_code'" in errors["settings.warehouse"].message
    assert errors["settings.warehouse_code"].message == "required key is missing"
    assert errors["settings.warehouse_code"].line == 2


def test_missing_connector_profile_and_mapping_files(
    write: WriteFile, base_profile: str, registry: ConnectorRegistry
) -> None:
    path = write(
        "omnibridge.yaml",
        base_profile
        + "channels:\n  - id: a\n    connector: acme-wms\n    profile: nope.yaml\n    mappings: [gone.yaml]\n",
    )
    errors = {e.field: e for e in _errors(path, registry)}
    assert errors["channels[0].profile"].message == (
        f"connector profile 'nope.yaml' not found at {path.parent / 'nope.yaml'}"
    )
    assert errors["channels[0].profile"].line == 19
    assert errors["channels[0].mappings[0]"].message.startswith("mapping file 'gone.yaml' not found at ")
    assert errors["channels[0].mappings[0]"].line == 20


def test_missing_profile(tmp_path: Path) -> None:
    error = _one(tmp_path / "omnibridge.yaml")
    assert error.message == "profile not found"
    assert error.line is None
    assert "omnibridge init" in (error.expected or "")


def test_duplicate_ids(write: WriteFile, base_profile: str, registry: ConnectorRegistry) -> None:
    write("c.yaml", "connector: acme-wms\nsettings: {base_url: 'https://a.example', api_key: k, warehouse_code: W}\n")
    text = base_profile.replace("id: downtown", "id: wh") + (
        "channels:\n"
        "  - {id: web, connector: acme-wms, profile: c.yaml}\n"
        "  - {id: web, connector: acme-wms, profile: c.yaml}\n"
    )
    errors = _errors(write("omnibridge.yaml", text), registry)
    assert [(e.line, e.field, e.message) for e in errors] == [
        (11, "locations[1].id", "duplicate id 'wh': already used by locations[0].id on line 7"),
        (18, "channels[1].id", "duplicate id 'web': already used by channels[0].id on line 17"),
    ]


def test_pickup_hours_need_a_pickup_capability(write: WriteFile, base_profile: str) -> None:
    error = _one(write("omnibridge.yaml", base_profile.replace("capabilities: [pickup]", "capabilities: [ships]")))
    assert (error.line, error.field) == (15, "locations[1].pickup_hours")


def test_mapping_validation(write: WriteFile, base_profile: str, registry: ConnectorRegistry) -> None:
    write("c.yaml", "connector: acme-wms\nsettings: {base_url: 'https://a.example', api_key: k, warehouse_code: W}\n")
    write("m1.yaml", "sku_aliases: {A: MA}\n")
    write(
        "m2.yaml",
        "sku_aliases:\n  A: OTHER\nlocation_map:\n  X: dowtown\nstatus_map:\n  paid: payed\nfields: {}\n",
    )
    path = write(
        "omnibridge.yaml",
        base_profile + "channels:\n  - {id: a, connector: acme-wms, profile: c.yaml, mappings: [m1.yaml, m2.yaml]}\n",
    )
    errors = _errors(path, registry)
    rendered = [e.render() for e in errors]
    m2 = str(path.parent / "m2.yaml")
    assert rendered == [
        f"{m2}:4: location_map.X: unknown location 'dowtown'; did you mean 'downtown'? "
        "(expected a location id from the profile: downtown, wh)",
        f"{m2}:6: status_map.paid: invalid value 'payed' (expected one of 'pending', 'accepted', 'on_hold', "
        "'partially_fulfilled', 'fulfilled', 'cancelled' or 'completed')",
        f"{m2}:7: fields: unknown key 'fields' (expected one of: sku_aliases, location_map, status_map)",
    ]


def test_conflicting_aliases_across_mapping_files(
    write: WriteFile, base_profile: str, registry: ConnectorRegistry
) -> None:
    write("c.yaml", "connector: acme-wms\nsettings: {base_url: 'https://a.example', api_key: k, warehouse_code: W}\n")
    write("m1.yaml", "sku_aliases: {A: MA}\n")
    write("m2.yaml", "sku_aliases:\n  A: OTHER\n")
    path = write(
        "omnibridge.yaml",
        base_profile + "channels:\n  - {id: a, connector: acme-wms, profile: c.yaml, mappings: [m1.yaml, m2.yaml]}\n",
    )
    error = _one(path, registry)
    assert (error.line, error.field) == (2, "sku_aliases.A")
    assert error.message == f"'A' is mapped to 'OTHER' here but to 'MA' in {path.parent / 'm1.yaml'}"


def test_unsupported_store_url(write: WriteFile, base_profile: str) -> None:
    error = _one(write("omnibridge.yaml", base_profile + "store:\n  url: mysql://root:pw@db/x\n"))
    assert (error.line, error.field) == (17, "store.url")
    assert error.message == "unsupported database URL scheme 'mysql'"
    assert "sqlite" in (error.expected or "")
    assert "postgresql+psycopg" in (error.expected or "")


def test_plain_postgresql_scheme_gets_a_hint(write: WriteFile, base_profile: str) -> None:
    error = _one(write("omnibridge.yaml", base_profile + "store:\n  url: postgresql://u@db/x\n"))
    assert "use postgresql+psycopg://" in error.message


def test_all_problems_are_collected_in_one_run(
    write: WriteFile, base_profile: str, registry: ConnectorRegistry
) -> None:
    write("m.yaml", "location_map: {X: nowhere}\n")
    text = base_profile.replace("currency: USD", "currency: 12").replace("type: store", "type: shop") + (
        "channels:\n  - {id: a, connector: shopfy, profile: c.yaml, priority: high, mappings: [m.yaml]}\n"
    )
    errors = _errors(write("omnibridge.yaml", text), registry)
    fields = [(Path(e.file or "").name, e.field) for e in errors]
    assert fields == [
        ("omnibridge.yaml", "merchant.currency"),
        ("omnibridge.yaml", "locations[1].type"),
        ("omnibridge.yaml", "channels[0].priority"),  # same line as the connector: shape errors come first
        ("omnibridge.yaml", "channels[0].connector"),
        ("m.yaml", "location_map.X"),
    ]


def test_profile_errors_is_a_config_error_rendering_one_line_each(write: WriteFile, base_profile: str) -> None:
    path = write("omnibridge.yaml", base_profile.replace("version: 1", "version: x").replace("USD", "XXX"))
    with pytest.raises(ConfigError) as caught:
        load_profile(path, env={})
    assert isinstance(caught.value, ProfileErrors)
    assert caught.value.message == "2 problems found"
    assert str(caught.value).splitlines() == [e.render() for e in caught.value.errors]


def test_a_crashing_settings_model_is_reported_not_raised(write: WriteFile, base_profile: str) -> None:
    from pydantic import BaseModel, field_validator

    from omnibridge.sdk.metadata import ConnectorKind, ConnectorSpec
    from omnibridge.sdk.registry import RegisteredConnector

    class Crashing(BaseModel):
        token: str

        @field_validator("token")
        @classmethod
        def _explode(cls, value: str) -> str:
            raise KeyError(value)

    spec = ConnectorSpec(
        id="crashy", label="Crashy", kind=ConnectorKind.POS, settings_model=Crashing, capabilities=frozenset()
    )
    crashy = ConnectorRegistry({"crashy": RegisteredConnector(spec, "x:y", None, None)}, [])
    write("c.yaml", "connector: crashy\nsettings:\n  token: sensitive-value\n")
    path = write("omnibridge.yaml", base_profile + "channels:\n  - {id: a, connector: crashy, profile: c.yaml}\n")
    error = _one(path, crashy)
    assert (error.line, error.field) == (2, "settings")
    assert error.message == "connector 'crashy' failed while checking its settings: KeyError"
    assert "sensitive-value" not in error.render()


def test_a_mass_change_guard_share_above_one_is_named(
    write: WriteFile, base_profile: str, registry: ConnectorRegistry
) -> None:
    write("c.yaml", "connector: acme-wms\nsettings: {base_url: 'https://a.example', api_key: k, warehouse_code: W}\n")
    path = write(
        "omnibridge.yaml",
        base_profile + "channels:\n  - id: a\n    connector: acme-wms\n    profile: c.yaml\n"
        "    guard: {max_lowered_share: 1.5}\n",
    )
    error = _one(path, registry)
    assert (error.line, error.field) == (20, "channels[0].guard.max_lowered_share")
    assert "a share between 0 and 1" in error.render()
    good = write(
        "good.yaml",
        base_profile + "channels:\n  - id: a\n    connector: acme-wms\n    profile: c.yaml\n"
        "    guard: {max_zeroed_share: 0.5}\n",
    )
    (channel,) = load_profile(good, registry=registry, env={}).channels
    assert (channel.guard.max_zeroed_share, channel.guard.max_lowered_share) == (0.5, 0.2)


def test_a_channel_webhook_body_limit_is_read_and_checked(
    write: WriteFile, base_profile: str, registry: ConnectorRegistry
) -> None:
    write("c.yaml", "connector: acme-wms\nsettings: {base_url: 'https://a.example', api_key: k, warehouse_code: W}\n")
    channel = "channels:\n  - id: a\n    connector: acme-wms\n    profile: c.yaml\n"
    error = _one(write("omnibridge.yaml", base_profile + channel + "    webhooks: {max_body_bytes: 10}\n"), registry)
    assert (error.line, error.field) == (20, "channels[0].webhooks.max_body_bytes")
    assert "between 1024 and 67108864" in error.render()
    good = write("good.yaml", base_profile + channel + "    webhooks: {max_body_bytes: 4194304}\n")
    (loaded,) = load_profile(good, registry=registry, env={}).channels
    assert loaded.webhooks.max_body_bytes == 4 * 1024 * 1024
    plain = write("plain.yaml", base_profile + channel)
    assert load_profile(plain, registry=registry, env={}).channels[0].webhooks.max_body_bytes == 1024 * 1024


def test_the_server_section_sets_the_daemons_http_limits(
    write: WriteFile, base_profile: str, registry: ConnectorRegistry
) -> None:
    from omnibridge.daemon.service import DaemonOptions, with_profile_limits

    write("c.yaml", "connector: acme-wms\nsettings: {base_url: 'https://a.example', api_key: k, warehouse_code: W}\n")
    channel = (
        "channels:\n  - id: a\n    connector: acme-wms\n    profile: c.yaml\n    webhooks: {max_body_bytes: 2048}\n"
    )
    server = "server: {max_connections: 100, head_timeout_seconds: 3, body_timeout_seconds: 4, max_in_flight: 7}\n"
    options = with_profile_limits(
        DaemonOptions(), load_profile(write("p.yaml", base_profile + channel + server), registry=registry, env={})
    )
    assert (options.server_limits.max_connections, options.server_limits.head_timeout_seconds) == (100, 3)
    assert options.server_limits.keep_alive_seconds == 5
    assert (options.webhook_limits.body_timeout_seconds, options.webhook_limits.max_in_flight) == (4, 7)
    assert options.webhook_limits.body_limit("a") == 2048
    error = _one(write("bad.yaml", base_profile + channel + "server: {max_connections: 1}\n"), registry)
    assert error.field == "server.max_connections"
