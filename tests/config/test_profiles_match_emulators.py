"""The connector profiles shipped in config/connectors/ work against ``omnibridge emulator NAME`` with no edits.

Per built-in connector: the profile's default URL points at the emulator's default port, and the example profile
with that channel enabled syncs (or, for a carrier, rates a parcel) against the emulator started the way the CLI
starts it. The emulator runs on a free port here, so only the URL variable the profile reads is set.
"""

from __future__ import annotations

import os
import shutil
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from omnibridge.cli.emulator import build_emulator
from omnibridge.cli.sync import run_sync_once
from omnibridge.config import load_profile
from omnibridge.demo import world
from omnibridge.sdk.carrier import CarrierAddress, Parcel, ShipmentRequest
from omnibridge.sdk.emulator import free_port, run_server
from omnibridge.sdk.registry import discover_connectors
from omnibridge.store import open_store

pytestmark = pytest.mark.anyio

CONFIG = Path(__file__).resolve().parents[2] / "config"
EXAMPLE = CONFIG / "omnibridge.example.yaml"

# connector -> (channel id in the example profile, the profile's URL variables and what they hold)
CASES: dict[str, tuple[str, dict[str, str]]] = {
    "shopify": ("web", {"SHOPIFY_SHOP_URL": "{base}"}),
    "square": ("pos", {"SQUARE_BASE_URL": "{base}"}),
    "amazon": ("amazon", {"AMAZON_SP_API_ENDPOINT": "{base}", "AMAZON_LWA_ENDPOINT": "{base}/auth/o2/token"}),
    "clover": ("clover", {"CLOVER_BASE_URL": "{base}"}),
    "easypost": ("parcels", {"EASYPOST_BASE_URL": "{base}/v2"}),
    "files": ("erp", {}),
}
URL_FIELDS = {"shopify": "shop_url", "square": "base_url", "amazon": "endpoint", "clover": "base_url"}
# karrio carriers (not in the example profile): connector -> the karrio package it needs
CARRIERS: dict[str, str] = {"ups": "ups", "fedex": "fedex", "usps": "usps", "dhl_express": "mydhl"}
CARRIER_VARIABLE_PREFIXES = ("UPS_", "FEDEX_", "USPS_", "DHL_EXPRESS_")


def test_every_built_in_connector_ships_an_emulator_and_a_profile() -> None:
    registry = discover_connectors()
    built_in = {cid for cid in registry.ids() if registry.connectors[cid].entry_point.startswith("connectors.")}
    with_emulator = {cid for cid in built_in if registry.connectors[cid].spec.emulator is not None}
    assert set(CASES) <= with_emulator
    for connector in CASES:
        assert (CONFIG / "connectors" / f"{connector}.yaml").is_file()
    for connector in set(CARRIERS) & set(registry.ids()):  # the karrio carriers load only with the 'carriers' extra
        assert connector in with_emulator
        assert (CONFIG / "connectors" / f"{connector}.yaml").is_file()


@pytest.mark.parametrize("connector", sorted(set(CASES) - {"files"}))
def test_profile_default_url_is_the_emulator_default_port(connector: str) -> None:
    hook = discover_connectors().connectors[connector].spec.emulator
    assert hook is not None
    channel_id, _ = CASES[connector]
    [channel] = [c for c in load_profile(EXAMPLE, env={}).channels if c.id == channel_id]
    url = str(getattr(channel.settings, URL_FIELDS.get(connector, "base_url")))
    assert (urlsplit(url).hostname, urlsplit(url).port) == ("127.0.0.1", hook.default_port)


def _profile_with(tmp_path: Path, channel_id: str) -> Path:
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    for channel in data["channels"]:
        channel["enabled"] = channel["id"] == channel_id
    profile = config / "omnibridge.yaml"
    profile.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return profile


def _rows(report: object) -> dict[str, dict[str, object]]:
    return {row["channel"]: row for row in report.as_dict()["channels"]}  # type: ignore[attr-defined]


@pytest.mark.parametrize("connector", sorted(CASES))
async def test_shipped_profile_syncs_against_the_cli_emulator(
    connector: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel_id, variables = CASES[connector]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    for name in [n for n in os.environ if n.startswith(("SHOPIFY_", "SQUARE_", "AMAZON_", "CLOVER_", "EASYPOST_"))]:
        monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, value.format(base=base))
    monkeypatch.setenv("ERP_INBOX", str(tmp_path / "erp" / "inbox"))
    monkeypatch.setenv("ERP_OUTBOX", str(tmp_path / "erp" / "outbox"))
    monkeypatch.delenv("OMNIBRIDGE_STORE_URL", raising=False)
    profile = _profile_with(tmp_path, channel_id)
    server, _ = build_emulator(connector, port=port, settings={})
    loaded = load_profile(profile)
    [channel] = [c for c in loaded.channels if c.id == channel_id]

    with open_store(loaded.store_url) as store:
        world.seed_ledger(store, golden=True)

    async with run_server(server.app, port=port):
        if connector == "easypost":
            carrier = discover_connectors().connectors[connector].spec.factory(channel.settings)  # type: ignore[misc]
            address = CarrierAddress("Ann", "4800 Race Street", "Denver", "80216", "US", state="CO")
            quote = await carrier.quote(ShipmentRequest("s-1", address, address, Parcel(Decimal(16))))
            await carrier.aclose()
            assert quote.rates
            return
        if connector == "files":
            async with httpx.AsyncClient(base_url=base) as http:
                answer = await http.post(
                    "/_emulator/counts", json={"rows": [{"sku": "TENT-2P-GRN", "location": "DEN", "quantity": 7}]}
                )
            written = Path(answer.json()["file"])
            past = time.time() - 60  # the ERP wrote it a minute ago: past the profile's stable_seconds
            os.utime(written, (past, past))
            row = _rows(await run_sync_once(profile))["erp"]
            assert row["error"] is None
            with open_store(loaded.store_url) as store:
                assert store.position("TENT-2P-GRN", "den-wh").on_hand == 7
            return
        first = _rows(await run_sync_once(profile))[channel_id]
        assert first["error"] is None
        assert first["levels_checked"] > 0  # type: ignore[operator]
        assert first["pushed"]["applied"] > 0  # type: ignore[index]
        second = _rows(await run_sync_once(profile))[channel_id]
        assert (second["error"], second["levels_differing"]) == (None, 0)
        hooks_webhooks = getattr(server.emulator, "webhooks", None)
        if hooks_webhooks is not None:
            await hooks_webhooks.aclose()


def _carrier_profile(tmp_path: Path, connector: str) -> Path:
    path, profile = tmp_path / "omnibridge.yaml", CONFIG / "connectors" / f"{connector}.yaml"
    path.write_text(
        "version: 1\n"
        "merchant: {name: Alpine Outfitters, currency: USD, timezone: America/Denver}\n"
        "locations: [{id: den-wh, name: Denver warehouse, type: warehouse}]\n"
        f"channels: [{{id: {connector}, connector: {connector}, profile: '{profile}'}}]\n",
        encoding="utf-8",
    )
    return path


def _carrier_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith(CARRIER_VARIABLE_PREFIXES)]:
        monkeypatch.delenv(name)


@pytest.mark.parametrize("connector", sorted(CARRIERS))
def test_carrier_profile_default_url_is_the_emulator_default_port(
    connector: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip(f"karrio.mappers.{CARRIERS[connector]}", reason="karrio is not installed (extra 'carriers')")
    _carrier_env(monkeypatch)
    hook = discover_connectors().connectors[connector].spec.emulator
    assert hook is not None
    [channel] = load_profile(_carrier_profile(tmp_path, connector)).channels
    url = str(channel.settings.server_url)  # type: ignore[attr-defined]
    assert (urlsplit(url).hostname, urlsplit(url).port) == ("127.0.0.1", hook.default_port)


@pytest.mark.parametrize("connector", sorted(CARRIERS))
async def test_shipped_carrier_profile_rates_against_the_cli_emulator(
    connector: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip(f"karrio.mappers.{CARRIERS[connector]}", reason="karrio is not installed (extra 'carriers')")
    from connectors.karrio.conformance import sample_request, sample_request_gb

    _carrier_env(monkeypatch)
    port = free_port()
    monkeypatch.setenv(f"{connector.upper()}_SERVER_URL", f"http://127.0.0.1:{port}")  # the only edit: a free port
    server, _ = build_emulator(connector, port=port, settings={})
    [channel] = load_profile(_carrier_profile(tmp_path, connector)).channels
    sample = sample_request_gb if connector == "dhl_express" else sample_request  # DHL rates within one country
    async with run_server(server.app, port=port):
        carrier = discover_connectors().connectors[connector].spec.factory(channel.settings)  # type: ignore[misc]
        try:
            quote = await carrier.quote(sample("profile-check"))
        finally:
            await carrier.aclose()
    assert quote.rates
    assert server.emulator.calls["rate"] == 1
