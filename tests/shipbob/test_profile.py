"""The shipped ShipBob profile (config/connectors/shipbob.yaml, config/mappings/shipbob.yaml) loads in a merchant
profile and works against ``omnibridge emulator shipbob`` with no edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.shipbob.client import ShipBobConnector
from connectors.shipbob.settings import ShipBobSettings
from omnibridge.cli.emulator import build_emulator
from omnibridge.config import load_profile
from omnibridge.sdk.emulator import run_server
from omnibridge.sdk.registry import discover_connectors

pytestmark = pytest.mark.anyio

CONFIG = Path(__file__).resolve().parents[2] / "config"
EXAMPLE = CONFIG / "omnibridge.example.yaml"


def _profile(tmp_path: Path) -> Path:
    head = EXAMPLE.read_text(encoding="utf-8").split("\nchannels:\n")[0]
    head = head.replace(
        "\nlocations:\n",
        "\nlocations:\n"
        "  - {id: shipbob-cicero, name: ShipBob Cicero, type: 3pl, address: {country: US}, capabilities: [ships]}\n"
        "  - {id: shipbob-moreno-valley, name: ShipBob Moreno Valley, type: 3pl, address: {country: US}}\n",
        1,
    )
    text = (
        f"{head}\nchannels:\n"
        "  - id: shipbob\n"
        "    connector: shipbob\n"
        f"    profile: {CONFIG / 'connectors' / 'shipbob.yaml'}\n"
        f"    mappings: [{CONFIG / 'mappings' / 'shipbob.yaml'}]\n"
    )
    path = tmp_path / "omnibridge.yaml"
    path.write_text(text, encoding="utf-8")
    return path


async def test_the_shipped_profile_maps_centres_and_reaches_the_emulator(tmp_path: Path) -> None:
    server, port = build_emulator("shipbob", settings={})
    assert port == 8811
    assert discover_connectors().connectors["shipbob"].spec.kind == "3pl"
    async with run_server(server.app) as running:
        profile = load_profile(_profile(tmp_path), env={"SHIPBOB_BASE_URL": running.url})
        [channel] = profile.channels
        assert isinstance(channel.settings, ShipBobSettings)
        assert channel.mappings.location_map == {"6": "shipbob-cicero", "Moreno Valley (CA)": "shipbob-moreno-valley"}
        connector = ShipBobConnector(channel.settings)
        try:
            assert "writing as channel 'omnibridge' (1001)" in await connector.check()
            names = {location.external_id: location.name for location in await connector.list_locations()}
            assert names["6"] == "Cicero (IL)"
            assert names["10"] == "Moreno Valley (CA)"
        finally:
            await connector.aclose()


def test_the_profile_default_url_is_the_emulator_default_port(tmp_path: Path) -> None:
    [channel] = load_profile(_profile(tmp_path), env={}).channels
    assert str(channel.settings.base_url).rstrip("/") == "http://127.0.0.1:8811"  # type: ignore[attr-defined]
