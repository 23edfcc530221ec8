"""docs/routing.md stays true: its example profile loads and routes as the text says, and its strategy plugin
example works."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from support import WriteFile

from omnibridge.config import LoadedProfile, load_profile
from omnibridge.models import Address, GeoPoint
from omnibridge.routing import LocationState, RouteLine, RouteOutcome, RouteRequest, route

DOC = (Path(__file__).resolve().parents[2] / "docs" / "routing.md").read_text(encoding="utf-8")
DENVER = Address(country="US", region="CO", coordinates=GeoPoint(lat=39.74, lon=-104.99))


def _block(language: str, index: int = 0) -> str:
    blocks: list[str] = re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.DOTALL)
    return blocks[index]


def _profile(write: WriteFile) -> LoadedProfile:
    return load_profile(write("omnibridge.yaml", _block("yaml")), env={})


def _order(*skus: str, value: str = "30", product_type: str | None = None) -> RouteRequest:
    lines = tuple(RouteLine(sku, sku, 1, Decimal(value), product_type) for sku in skus)
    return RouteRequest("o-1", "web", lines, DENVER, datetime(2026, 3, 2, 18, 0, tzinfo=UTC))


def _states(profile: LoadedProfile, **stock: dict[str, int]) -> list[LocationState]:
    return [LocationState(location, stock.get(location.id.replace("-", "_"), {})) for location in profile.locations]


def test_the_example_routes_as_the_text_says(write: WriteFile) -> None:
    profile = _profile(write)
    rules = profile.routing
    both = {"TENT": 5, "STOVE": 5}
    decision = route(_order("TENT", "STOVE"), _states(profile, den_wh=both, boulder=both), rules)
    assert decision.locations == ("den-wh",)
    store_only = route(_order("TENT", "STOVE"), _states(profile, den_wh={"TENT": 5}, boulder=both), rules)
    assert store_only.locations == ("boulder",)
    last_unit = route(_order("TENT"), _states(profile, boulder={"TENT": 1}), rules)
    assert last_unit.outcome is RouteOutcome.UNROUTABLE
    fuel = route(_order("GAS", product_type="fuel"), _states(profile, boulder={"GAS": 5}), rules)
    assert fuel.outcome is RouteOutcome.UNROUTABLE
    kayak = route(_order("KAYAK-1"), _states(profile, boulder={"KAYAK-1": 5}, acme_outdoor={"KAYAK-1": 5}), rules)
    assert kayak.locations == ("acme-outdoor",)
    cheap = route(_order("TENT", "STOVE"), _states(profile, den_wh={"TENT": 5}, boulder={"STOVE": 5}), rules)
    assert cheap.outcome is RouteOutcome.UNROUTABLE
    dear = _order("TENT", "STOVE", value="60")
    split = route(dear, _states(profile, den_wh={"TENT": 5}, boulder={"STOVE": 5}), rules)
    assert sorted(split.locations) == ["boulder", "den-wh"]


def test_the_strategy_plugin_example_runs(write: WriteFile) -> None:
    namespace: dict[str, Any] = {}
    exec(_block("python"), namespace)  # noqa: S102 - the documentation's own example
    strategy = namespace["NearestStoreFirst"]()
    profile = _profile(write)
    both = {"TENT": 5}
    decision = route(_order("TENT"), _states(profile, den_wh=both, boulder=both), profile.routing, using=strategy)
    assert decision.locations == ("boulder",)
    assert decision.strategy == "nearest-store-first"
