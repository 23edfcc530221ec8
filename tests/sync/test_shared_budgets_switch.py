"""The switch of shared vendor budgets (omnibridge.sync.shared_budgets.share_budgets): off by default, PostgreSQL
only, and when on every limiter of every connector is replaced by a budget with a name every process agrees on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from connectors.amazon.ratelimits import OperationLimits
from connectors.clover.client import CloverConnector
from omnibridge.config import load_profile
from omnibridge.errors import StoreError
from omnibridge.sdk import ConnectorHttpClient, SlidingWindow
from omnibridge.sdk.registry import discover_connectors
from omnibridge.store import open_store
from omnibridge.sync import build_channels
from omnibridge.sync.shared_budgets import SHARED_BUDGETS_ENV, SharedBucket, share_budgets

ROOT = Path(__file__).resolve().parents[2]
PG = "postgresql+psycopg://nobody@127.0.0.1:9/none"  # never connected to: budgets connect on first use


class _Client:
    def __init__(self) -> None:
        self.window = SlidingWindow(150, 60.0)
        self.http = ConnectorHttpClient("acme", "http://127.0.0.1:9", rate_limiter=self.window)
        self.limits = OperationLimits()


class _Connector:
    """A connector that keeps its HTTP client one level down and makes per-operation limiters (as Amazon)."""

    def __init__(self) -> None:
        self.client = _Client()


def _profile(tmp_path: Path) -> Path:
    (tmp_path / "clover.yaml").write_text(
        "connector: clover\nsettings: {base_url: 'http://127.0.0.1:9', merchant_id: TESTMERCHANT1, access_token: t}\n"
    )
    (tmp_path / "omnibridge.yaml").write_text(
        "version: 1\n"
        "merchant: {name: T, currency: USD, timezone: UTC}\n"
        "locations: [{id: shop, name: Shop, type: store}]\n"
        "channels:\n"
        "  - {id: pos, connector: clover, profile: clover.yaml}\n"
    )
    return tmp_path / "omnibridge.yaml"


def _clover() -> CloverConnector:
    from connectors.clover.settings import CloverSettings

    settings = CloverSettings(merchant_id="TESTMERCHANT1", access_token="t")
    return CloverConnector(settings)


def test_off_by_default_nothing_changes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(SHARED_BUDGETS_ENV, raising=False)
    connector = _clover()
    assert share_budgets(PG, {"pos": connector}) is None
    assert connector.http.budgets is None
    with open_store(f"sqlite:///{tmp_path / 'omnibridge.db'}") as store:
        [runtime] = build_channels(load_profile(_profile(tmp_path)), store)
        assert isinstance(runtime.connector, CloverConnector)
        assert runtime.connector.http.budgets is None


def test_on_with_a_sqlite_store_is_one_line_naming_postgresql(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(SHARED_BUDGETS_ENV, "1")
    with open_store(f"sqlite:///{tmp_path / 'omnibridge.db'}") as store, pytest.raises(StoreError) as error:
        build_channels(load_profile(_profile(tmp_path)), store)
    assert "shared vendor budgets need a PostgreSQL store" in str(error.value)
    assert "\n" not in str(error.value)


def test_the_environment_switches_it_on_and_the_flag_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SHARED_BUDGETS_ENV, "1")
    connector = _clover()
    assert share_budgets(PG, {"pos": connector}, enabled=False) is None
    budgets = share_budgets(PG, {"pos": connector})
    assert budgets is not None
    assert connector.http.budgets is budgets.channels["pos"]


def test_a_connectors_own_bucket_becomes_a_shared_one_named_after_where_it_is_kept() -> None:
    connector = _clover()
    budgets = share_budgets(PG, {"pos": connector}, enabled=True)
    assert budgets is not None
    resolver = connector.http.budgets
    assert resolver is not None

    shared = resolver.limiter_for(connector.bucket, "list_locations")

    assert isinstance(shared, SharedBucket)
    assert (shared.channel, shared.name, shared.capacity, shared.refill_rate) == ("pos", "bucket", 16.0, 16.0)
    assert resolver.limiter_for(connector.bucket, "another_op") is shared
    slots = budgets.buckets()[("pos", "slots")]  # Clover's 5 in flight per token, counted across processes too
    assert budgets.buckets() == {("pos", "bucket"): shared, ("pos", "slots"): slots}
    assert slots.capacity == 5.0
    assert connector.slots.shared is not None


def test_per_operation_buckets_are_named_after_the_operation_and_windows_become_half_buckets() -> None:
    connector = _Connector()
    share_budgets(PG, {"acme-1": connector}, enabled=True)
    resolver = connector.client.http.budgets
    assert resolver is not None

    patch = resolver.limiter_for(connector.client.limits.bucket("patchListingsItem"), "patchListingsItem")
    window = resolver.limiter_for(connector.client.window, "anything")

    assert isinstance(patch, SharedBucket)
    assert (patch.name, patch.capacity, patch.refill_rate) == ("op:patchListingsItem", 5.0, 5.0)
    assert isinstance(window, SharedBucket)
    # at most 75 + 75/60 * 60 = 150 admitted in any 60 s, in whatever order requests arrive
    assert (window.name, window.capacity, window.refill_rate) == ("client.window", 75.0, 1.25)


def _built_in(name: str) -> object:
    """The connector a merchant gets from ``config/connectors/NAME.yaml`` with its defaults (the emulator's)."""
    text = (ROOT / "config" / "connectors" / f"{name}.yaml").read_text()
    data = yaml.safe_load(re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", text))
    registered = discover_connectors().get(name)
    assert registered is not None
    spec = registered.spec
    assert spec.factory is not None
    return spec.factory(spec.settings_model.model_validate(data["settings"]))


@pytest.mark.parametrize(
    ("name", "budgets"),
    [
        ("shopify", {"bucket"}),
        ("square", {"bucket"}),
        ("clover", {"bucket", "slots"}),
        ("shipbob", {"limiter"}),
        ("easypost", {"bucket"}),
        ("amazon", {"op:getOrders"}),  # one bucket per operation, made as the operation is first called
    ],
)
def test_every_built_in_connector_draws_from_shared_budgets(name: str, budgets: set[str]) -> None:
    connector = _built_in(name)
    shared = share_budgets(PG, {name: connector}, enabled=True)
    assert shared is not None
    api = getattr(connector, "api", connector)  # Amazon keeps its SP-API client one level down
    clients = [value for value in vars(api).values() if isinstance(value, ConnectorHttpClient)]
    assert clients
    assert all(client.budgets is shared.channels[name] for client in clients)
    for client in clients:
        if client.rate_limiter is not None:
            client.budgets.limiter_for(client.rate_limiter, "any")  # type: ignore[union-attr]
    if name == "amazon":
        limits = api.limits  # type: ignore[attr-defined]
        shared.channels[name].limiter_for(limits.bucket("getOrders"), "getOrders")
    assert {budget for _, budget in shared.buckets()} == budgets
