"""The shipped example profile, its example connector/mapping files and the `init` template all validate."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from support import AcmeSettings

from connectors.amazon.settings import AmazonSettings
from connectors.clover.settings import CloverSettings
from connectors.easypost.settings import EasyPostSettings
from connectors.files.settings import FilesSettings
from connectors.karrio.gateway import karrio_available
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
    assert [loc.id for loc in profile.locations] == ["den-wh", "boulder", "fort-collins", "golden"]
    assert [loc.type.value for loc in profile.locations] == ["warehouse", "store", "store", "store"]
    boulder = profile.location("boulder")
    assert boulder is not None
    assert boulder.coordinates is not None
    assert LocationCapability.CURBSIDE in boulder.capabilities
    assert boulder.pickup_hours["sun"] == "closed"
    assert profile.store_url == f"sqlite:///{CONFIG / 'omnibridge.db'}"
    web, pos, *others = profile.channels
    assert (web.id, web.connector, pos.id, pos.connector) == ("web", "shopify", "pos", "square")
    assert web.enabled
    assert pos.enabled
    # The other built-in connectors are shown configured but shipped disabled, so the example syncs as shipped
    # against the two emulators above.
    assert [(c.id, c.connector, c.enabled) for c in others] == [
        ("amazon", "amazon", False),
        ("clover", "clover", False),
        ("erp", "files", False),
        ("parcels", "easypost", False),
    ]
    # As shipped, the connector profiles point at the local emulators (omnibridge emulator shopify|square).
    assert isinstance(web.settings, ShopifySettings)
    assert str(web.settings.shop_url) == "http://127.0.0.1:8801/"
    assert isinstance(pos.settings, SquareSettings)
    assert pos.settings.webhook_notification_url == "http://127.0.0.1:8800/webhooks/pos"
    assert web.mappings.location_map["Boulder store"] == "boulder"
    assert pos.mappings.location_map["Fort Collins store"] == "fort-collins"


def test_example_credentials_come_from_the_environment() -> None:
    env = {"SHOPIFY_SHOP_URL": "https://alpine.myshopify.com", "SHOPIFY_ACCESS_TOKEN": "shpat_real_token_1"}
    web = load_profile(EXAMPLE, env=env).channels[0]
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


@pytest.mark.parametrize(
    "name",
    [
        "shopify.yaml",
        "square.yaml",
        "acme-wms.yaml",
        "amazon.yaml",
        "clover.yaml",
        "easypost.yaml",
        "files.yaml",
        "ups.yaml",
        "shipbob.yaml",
    ],
)
def test_example_connector_profiles_have_the_connector_profile_shape(name: str) -> None:
    data = yaml.safe_load((CONFIG / "connectors" / name).read_text(encoding="utf-8"))
    assert ConnectorProfileFile.model_validate(data).connector == name.removesuffix(".yaml")


def test_example_new_channels_load_with_the_emulator_defaults() -> None:
    channels = {channel.id: channel for channel in load_profile(EXAMPLE, env={}).channels}
    amazon = channels["amazon"].settings
    assert isinstance(amazon, AmazonSettings)
    assert str(amazon.endpoint) == "http://127.0.0.1:8803/"
    assert amazon.feed_threshold == 50
    assert channels["amazon"].mappings.location_map["DEFAULT"] == "den-wh"
    clover = channels["clover"].settings
    assert isinstance(clover, CloverSettings)
    assert clover.merchant_id == "EMUMERCHANT01"
    assert channels["clover"].mappings.location_map["EMUMERCHANT01"] == "golden"
    erp = channels["erp"].settings
    assert isinstance(erp, FilesSettings)
    assert erp.inbox == Path("/srv/erp/inbox")
    assert erp.processed_dir == Path("/srv/erp/inbox/processed")
    assert erp.failed_dir == Path("/srv/erp/inbox/failed")
    assert erp.outbox_dir == Path("/srv/erp/outbox")
    assert erp.locations == ["DEN"]
    assert channels["erp"].mappings.location_map["DEN"] == "den-wh"
    parcels = channels["parcels"].settings
    assert isinstance(parcels, EasyPostSettings)
    assert str(parcels.base_url) == "http://127.0.0.1:8805/v2"


def test_example_new_channels_take_credentials_from_the_environment() -> None:
    env = {
        "AMAZON_SP_API_ENDPOINT": "https://sellingpartnerapi-eu.amazon.com",
        "AMAZON_LWA_CLIENT_SECRET": "amzn-secret-from-env",
        "CLOVER_MERCHANT_ID": "TC4DGCJW1K4EW",
        "CLOVER_ACCESS_TOKEN": "clover-token-from-env",
        "EASYPOST_API_KEY": "EZAKfromenv",
        "ERP_INBOX": "/mnt/erp/in",
    }
    channels = {channel.id: channel for channel in load_profile(EXAMPLE, env=env).channels}
    amazon, clover = channels["amazon"].settings, channels["clover"].settings
    parcels, erp = channels["parcels"].settings, channels["erp"].settings
    assert isinstance(amazon, AmazonSettings)
    assert isinstance(clover, CloverSettings)
    assert isinstance(parcels, EasyPostSettings)
    assert isinstance(erp, FilesSettings)
    assert str(amazon.endpoint) == "https://sellingpartnerapi-eu.amazon.com/"
    assert amazon.client_secret.get_secret_value() == "amzn-secret-from-env"
    assert clover.merchant_id == "TC4DGCJW1K4EW"
    assert clover.access_token.get_secret_value() == "clover-token-from-env"
    assert parcels.api_key.get_secret_value() == "EZAKfromenv"
    assert erp.processed_dir == Path("/mnt/erp/in/processed")


def _ups_profile(tmp_path: Path) -> Path:
    path = tmp_path / "omnibridge.yaml"
    path.write_text(
        "version: 1\n"
        "merchant: {name: Alpine Outfitters, currency: USD, timezone: America/Denver}\n"
        "locations: [{id: den-wh, name: Denver warehouse, type: warehouse}]\n"
        f"channels: [{{id: ups, connector: ups, profile: '{CONFIG / 'connectors' / 'ups.yaml'}'}}]\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.skipif(not karrio_available("ups"), reason="karrio.ups is not installed (extra 'carriers')")
def test_example_ups_profile_loads_with_credentials_from_the_environment(tmp_path: Path) -> None:
    env = {
        "UPS_CLIENT_ID": "ups-client",
        "UPS_CLIENT_SECRET": "ups-secret",
        "UPS_ACCOUNT_NUMBER": "Z9Y8X7",
        "UPS_SERVER_URL": "https://wwwcie.ups.com",
    }
    [channel] = load_profile(_ups_profile(tmp_path), env=env).channels
    settings = channel.settings
    assert type(settings).__name__ == "UpsSettings"
    assert settings.model_dump()["account_number"] == "Z9Y8X7"
    assert settings.model_dump()["test_mode"] is True
    assert str(settings.model_dump()["server_url"]).rstrip("/") == "https://wwwcie.ups.com"


@pytest.mark.skipif(not karrio_available("ups"), reason="karrio.ups is not installed (extra 'carriers')")
def test_example_ups_profile_defaults_to_the_emulator(tmp_path: Path) -> None:
    [channel] = load_profile(_ups_profile(tmp_path), env={}).channels
    dumped = channel.settings.model_dump()
    assert dumped["account_number"] == "A1B2C3"
    assert str(dumped["server_url"]).rstrip("/") == "http://127.0.0.1:8807"
