"""The shipped example profile, its example connector/mapping files and the `init` template all validate."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from support import AcmeSettings

from connectors.shopify.settings import ShopifySettings
from connectors.square.settings import SquareSettings
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
    assert profile.store_url == f"sqlite:///{CONFIG / 'omnibridge.db'}"
    web, pos = profile.channels
    assert (web.id, web.connector, pos.id, pos.connector) == ("web", "shopify", "pos", "square")
    # As shipped, the connector profiles point at the local emulators (omnibridge emulator shopify|square).
    assert isinstance(web.settings, ShopifySettings)
    assert str(web.settings.shop_url) == "http://127.0.0.1:8801/"
    assert isinstance(pos.settings, SquareSettings)
    assert pos.settings.webhook_notification_url == "http://127.0.0.1:8800/webhooks/pos"
    assert web.mappings.location_map["Boulder store"] == "boulder"
    assert pos.mappings.location_map["Fort Collins store"] == "fort-collins"


def test_example_credentials_come_from_the_environment() -> None:
    env = {"SHOPIFY_SHOP_URL": "https://alpine.myshopify.com", "SHOPIFY_ACCESS_TOKEN": "shpat_real_token_1"}
    web, _ = load_profile(EXAMPLE, env=env).channels
    assert isinstance(web.settings, ShopifySettings)
    assert str(web.settings.shop_url) == "https://alpine.myshopify.com/"
    assert web.settings.access_token.get_secret_value() == "shpat_real_token_1"


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
    # The example's own channels need the built-in connectors; swap them for the test plugin's channel.
    head = EXAMPLE.read_text(encoding="utf-8").split("\nchannels:\n")[0]
    text = (
        f"{head}\nchannels:\n"
        "  - id: wms\n"
        "    connector: acme-wms\n"
        f"    profile: {CONFIG / 'connectors' / 'acme-wms.yaml'}\n"
        f"    mappings: [{CONFIG / 'mappings' / 'shopify.yaml'}]\n"
    )
    path = tmp_path / "omnibridge.yaml"
    path.write_text(text, encoding="utf-8")
    profile = load_profile(path, registry=registry, env={"ACME_API_KEY": "acme-example-key"})
    [channel] = profile.channels
    assert isinstance(channel.settings, AcmeSettings)
    assert channel.settings.warehouse_code == "DEN1"
    assert channel.mappings.location_map["gid://shopify/Location/71234"] == "den-wh"
    assert channel.mappings.location_map["Boulder store"] == "boulder"
    assert channel.mappings.sku_aliases["000123"] == "SOCK-WOOL-M"
    assert channel.mappings.status_map["paid"] is OrderStatus.ACCEPTED


@pytest.mark.parametrize("name", ["shopify.yaml", "square.yaml", "acme-wms.yaml"])
def test_example_connector_profiles_have_the_connector_profile_shape(name: str) -> None:
    data = yaml.safe_load((CONFIG / "connectors" / name).read_text(encoding="utf-8"))
    assert ConnectorProfileFile.model_validate(data).connector == name.removesuffix(".yaml")
