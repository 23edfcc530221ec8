"""The shipped example profile, its example connector/mapping files and the `init` template all validate."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from support import AcmeSettings

from omnibridge.config import load_profile, starter_profile_text
from omnibridge.config.schema import ConnectorProfileFile
from omnibridge.models import LocationCapability, OrderStatus
from omnibridge.sdk.registry import ConnectorRegistry

CONFIG = Path(__file__).resolve().parents[2] / "config"
EXAMPLE = CONFIG / "omnibridge.example.yaml"


def test_example_profile_validates_as_shipped() -> None:
    profile = load_profile(EXAMPLE, env={})
    assert [loc.id for loc in profile.locations] == ["den-wh", "boulder", "fort-collins"]
    assert [loc.type.value for loc in profile.locations] == ["warehouse", "store", "store"]
    boulder = profile.location("boulder")
    assert boulder is not None
    assert boulder.coordinates is not None
    assert LocationCapability.CURBSIDE in boulder.capabilities
    assert boulder.pickup_hours["sun"] == "closed"
    assert profile.channels == ()
    assert profile.store_url == f"sqlite:///{CONFIG / 'omnibridge.db'}"


def test_example_store_url_comes_from_the_environment_when_set() -> None:
    profile = load_profile(EXAMPLE, env={"OMNIBRIDGE_STORE_URL": "postgresql+psycopg://ob:pw1234@db/ob"})
    assert profile.store_url_masked == "postgresql+psycopg://ob:***@db/ob"


def test_init_template_validates(tmp_path: Path) -> None:
    path = tmp_path / "omnibridge.yaml"
    path.write_text(starter_profile_text(), encoding="utf-8")
    profile = load_profile(path, env={})
    assert profile.channels == ()
    assert len(profile.locations) == 1


def test_example_with_a_channel_using_the_example_files(tmp_path: Path, registry: ConnectorRegistry) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "channels: []",
        "channels:\n"
        "  - id: wms\n"
        "    connector: acme-wms\n"
        f"    profile: {CONFIG / 'connectors' / 'acme-wms.yaml'}\n"
        f"    mappings: [{CONFIG / 'mappings' / 'shopify.yaml'}]\n",
    )
    path = tmp_path / "omnibridge.yaml"
    path.write_text(text, encoding="utf-8")
    profile = load_profile(path, registry=registry, env={"ACME_API_KEY": "acme-example-key"})
    [channel] = profile.channels
    assert isinstance(channel.settings, AcmeSettings)
    assert channel.settings.warehouse_code == "DEN1"
    assert channel.mappings.location_map["gid://shopify/Location/71235"] == "boulder"
    assert channel.mappings.sku_aliases["000123"] == "SOCK-WOOL-M"
    assert channel.mappings.status_map["paid"] is OrderStatus.ACCEPTED


@pytest.mark.parametrize("name", ["shopify.yaml", "acme-wms.yaml"])
def test_example_connector_profiles_have_the_connector_profile_shape(name: str) -> None:
    data = yaml.safe_load((CONFIG / "connectors" / name).read_text(encoding="utf-8"))
    assert ConnectorProfileFile.model_validate(data).connector == name.removesuffix(".yaml")
