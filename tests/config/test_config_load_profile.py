"""Loading valid profiles: the shape of :class:`LoadedProfile`, path resolution, mappings, connector settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr
from support import AcmeSettings, WriteFile

from omnibridge.config import LoadedProfile, ProfileErrors, load_profile
from omnibridge.models import Location, LocationCapability, LocationType, OrderStatus
from omnibridge.sdk.registry import ConnectorRegistry


def test_profile_without_channels_loads_into_canonical_locations(write: WriteFile, base_profile: str) -> None:
    path = write("omnibridge.yaml", base_profile)
    profile = load_profile(path, env={})
    assert isinstance(profile, LoadedProfile)
    assert profile.path == path.resolve()
    assert profile.version == 1
    assert (profile.merchant.name, profile.merchant.currency, profile.merchant.timezone) == (
        "Trail & Co",
        "USD",
        "America/Denver",
    )
    assert [loc.id for loc in profile.locations] == ["wh", "downtown"]
    downtown = profile.location("downtown")
    assert isinstance(downtown, Location)
    assert downtown.type is LocationType.STORE
    assert downtown.capabilities == {LocationCapability.PICKUP}
    assert downtown.pickup_hours == {"mon": "09:00-18:00", "sun": "closed"}
    assert profile.channels == ()
    assert profile.location("nowhere") is None


def test_default_store_is_sqlite_next_to_the_profile(write: WriteFile, base_profile: str, tmp_path: Path) -> None:
    path = write("sub/omnibridge.yaml", base_profile)
    profile = load_profile(path, env={})
    assert profile.store_url == f"sqlite:///{(tmp_path / 'sub' / 'omnibridge.db').resolve()}"


def test_relative_sqlite_path_resolves_against_profile_dir_not_cwd(
    write: WriteFile, base_profile: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write("conf/omnibridge.yaml", base_profile + "store:\n  url: sqlite:///data/ledger.db\n")
    monkeypatch.chdir("/")
    profile = load_profile(path, env={})
    assert profile.store_url == f"sqlite:///{(tmp_path / 'conf' / 'data' / 'ledger.db').resolve()}"


def test_absolute_sqlite_and_postgres_urls_are_kept(write: WriteFile, base_profile: str) -> None:
    path = write("a.yaml", base_profile + "store:\n  url: sqlite:////var/lib/omnibridge/x.db\n")
    assert load_profile(path, env={}).store_url == "sqlite:////var/lib/omnibridge/x.db"
    path = write("b.yaml", base_profile + "store:\n  url: postgresql+psycopg://ob:${PGPASS}@db:5432/ob\n")
    profile = load_profile(path, env={"PGPASS": "pg-secret-pw"})
    assert profile.store_url == "postgresql+psycopg://ob:pg-secret-pw@db:5432/ob"
    assert profile.store_url_masked == "postgresql+psycopg://ob:***@db:5432/ob"


def test_channel_with_connector_settings_and_mappings(channel_profile: Path, registry: ConnectorRegistry) -> None:
    profile = load_profile(channel_profile, registry=registry, env={"ACME_API_KEY": "acme-key-123456"})
    [channel] = profile.channels
    assert (channel.id, channel.connector, channel.enabled, channel.priority) == ("acme", "acme-wms", True, 5)
    assert channel.spec.id == "acme-wms"
    assert channel.profile_path == (channel_profile.parent / "connectors" / "acme.yaml").resolve()
    settings = channel.settings
    assert isinstance(settings, AcmeSettings)
    assert str(settings.base_url) == "https://wms.example.com/api"
    assert isinstance(settings.api_key, SecretStr)
    assert settings.api_key.get_secret_value() == "acme-key-123456"
    assert settings.warehouse_code == "DEN1"  # from the ${...:-DEN1} default
    assert dict(channel.mappings.sku_aliases) == {"ACME-001": "TENT-2P"}
    assert dict(channel.mappings.location_map) == {"DEN1": "wh"}
    assert dict(channel.mappings.status_map) == {"SHIPPED": OrderStatus.FULFILLED}
    assert channel.mappings.master_sku("ACME-001") == "TENT-2P"
    assert channel.mappings.master_sku("OTHER") == "OTHER"
    assert profile.channel("acme") is channel


def test_mapping_files_are_merged_in_order(write: WriteFile, base_profile: str, registry: ConnectorRegistry) -> None:
    write("c.yaml", "connector: acme-wms\nsettings: {base_url: 'https://x.example', api_key: k, warehouse_code: W}\n")
    write("m1.yaml", "sku_aliases: {A: MA}\nstatus_map: {paid: accepted}\n")
    write("m2.yaml", "sku_aliases: {B: MB, A: MA}\nlocation_map: {'7': downtown}\n")
    path = write(
        "omnibridge.yaml",
        base_profile + "channels:\n  - {id: a, connector: acme-wms, profile: c.yaml, mappings: [m1.yaml, m2.yaml]}\n",
    )
    [channel] = load_profile(path, registry=registry, env={}).channels
    assert dict(channel.mappings.sku_aliases) == {"A": "MA", "B": "MB"}
    assert dict(channel.mappings.location_map) == {"7": "downtown"}
    assert [p.name for p in channel.mappings.sources] == ["m1.yaml", "m2.yaml"]


def test_mapping_tables_are_read_only(channel_profile: Path, registry: ConnectorRegistry) -> None:
    [channel] = load_profile(channel_profile, registry=registry, env={"ACME_API_KEY": "k" * 8}).channels
    with pytest.raises(TypeError):
        channel.mappings.sku_aliases["X"] = "Y"  # type: ignore[index]


def test_numbers_are_accepted_where_text_is_expected(write: WriteFile, base_profile: str) -> None:
    text = base_profile.replace("id: wh", "id: 101").replace("name: Trail & Co", "name: 7")
    profile = load_profile(write("omnibridge.yaml", text), env={})
    assert profile.locations[0].id == "101"
    assert profile.merchant.name == "7"


def test_lowercase_currency_and_country_are_normalised(write: WriteFile, base_profile: str) -> None:
    text = base_profile.replace("currency: USD", "currency: eur") + ""
    text = text.replace(
        "    capabilities: [ships]\n", "    capabilities: [ships]\n    address: {city: Denver, country: us}\n", 1
    )
    profile = load_profile(write("omnibridge.yaml", text), env={})
    assert profile.merchant.currency == "EUR"
    assert profile.locations[0].address is not None
    assert profile.locations[0].address.country == "US"


def test_discovers_connectors_only_when_channels_exist(
    write: WriteFile, base_profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom() -> ConnectorRegistry:
        raise AssertionError("discovery must not run for a profile without channels")

    monkeypatch.setattr("omnibridge.sdk.registry.discover_connectors", boom)
    load_profile(write("omnibridge.yaml", base_profile), env={})


def test_discovery_is_used_when_no_registry_is_given(
    channel_profile: Path, registry: ConnectorRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("omnibridge.sdk.registry.discover_connectors", lambda: registry)
    profile = load_profile(channel_profile, env={"ACME_API_KEY": "abcdefgh"})
    assert profile.channels[0].connector == "acme-wms"


def test_disabled_channel_is_still_validated(write: WriteFile, base_profile: str, registry: ConnectorRegistry) -> None:
    write("c.yaml", "connector: acme-wms\nsettings: {base_url: nope}\n")
    path = write(
        "omnibridge.yaml",
        base_profile + "channels:\n  - {id: a, connector: acme-wms, profile: c.yaml, enabled: false}\n",
    )
    with pytest.raises(ProfileErrors) as caught:
        load_profile(path, registry=registry, env={})
    assert {e.field for e in caught.value.errors} == {
        "settings.base_url",
        "settings.api_key",
        "settings.warehouse_code",
    }


def test_environment_defaults_to_os_environ(
    write: WriteFile, base_profile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OB_TEST_MERCHANT", "From Env")
    path = write("omnibridge.yaml", base_profile.replace("name: Trail & Co", "name: ${OB_TEST_MERCHANT}"))
    assert load_profile(str(path)).merchant.name == "From Env"
