"""The profile's ``routing:`` section: loaded into RoutingRules, and every bad name is a one-line config error."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import BaseModel
from support import WriteFile

from omnibridge.config import LoadedChannel, MappingTables, ProfileErrors, load_profile
from omnibridge.config.routing import RoutingSection
from omnibridge.config.routing_rules import build_rules
from omnibridge.errors import ConfigError
from omnibridge.routing import LocationRules, RoutingRules, SplitPolicy
from omnibridge.routing.rules import DEFAULT_RANKING
from omnibridge.sdk import ConnectorKind, ConnectorSpec

PROFILE = """
version: 1
merchant: {name: Trail & Co, currency: USD, timezone: America/Denver}
locations:
  - id: wh
    name: Warehouse
    type: warehouse
    capabilities: [ships]
    market: US
    rank: 1
    cutoff: "15:30"
    daily_capacity: 500
    cost_per_package: 4.5
  - id: downtown
    name: Downtown store
    type: store
    capabilities: [ships, pickup]
    group: stores
    market: [US-CO]
    daily_capacity: 20
    timezone: America/New_York
  - id: acme-supply
    name: Acme supplies
    type: supplier
    skus: [TENT-2P, STOVE]
"""

ROUTING = """
routing:
  markets:
    US-West: [US-CA, US-OR, US-WA, US-CO]
  groups: {stores: 2}
  eligibility:
    ships_to: {stores: [US-West]}
    products:
      - name: hazmat
        product_types: [fuel]
        never_at: stores
    safety_stock: {default: 1, stores: 2}
    carrier: {promised_days: 3}
  ranking: [fewest_packages, same_market, ranked, capacity_left, distance]
  split: {policy: value_threshold, max_splits: 1, value_threshold: 50}
  max_reroutes: 2
"""


def _load(write: WriteFile, text: str) -> RoutingRules:
    return load_profile(write("omnibridge.yaml", text), env={}).routing


def _errors(path: Path) -> list[ConfigError]:
    with pytest.raises(ProfileErrors) as caught:
        load_profile(path, env={})
    return caught.value.errors


def test_a_profile_without_routing_gets_the_defaults_and_its_locations_routing_keys(write: WriteFile) -> None:
    rules = _load(write, PROFILE)
    assert rules.ranking == DEFAULT_RANKING
    assert rules.split is SplitPolicy.FEWEST_PACKAGES
    assert (rules.max_reroutes, rules.distance, rules.strategy, rules.timezone) == (
        3,
        "haversine",
        "default",
        "America/Denver",
    )
    assert rules.location("wh") == LocationRules(
        daily_capacity=500, markets=frozenset({"US"}), rank=1, cutoff=time(15, 30), cost=Decimal("4.5")
    )
    assert rules.location("downtown").group == "stores"
    assert rules.location("downtown").timezone == "America/New_York"
    assert rules.location("acme-supply").skus == frozenset({"TENT-2P", "STOVE"})
    assert rules.channels == frozenset()


def test_the_routing_section_becomes_the_rules(write: WriteFile) -> None:
    rules = _load(write, PROFILE + ROUTING)
    assert rules.ranking == ("fewest_packages", "same_market", "ranked", "capacity_left", "distance")
    assert (rules.split, rules.max_splits, rules.value_threshold) == (SplitPolicy.VALUE_THRESHOLD, 1, Decimal(50))
    assert rules.max_reroutes == 2
    assert rules.markets["US-West"] == frozenset({"US-CA", "US-OR", "US-WA", "US-CO"})
    assert rules.group_ranks == {"stores": 2}
    assert rules.safety_stock == 1
    assert rules.safety_stock_at("downtown") == 2
    assert rules.safety_stock_at("wh") == 1
    assert rules.location("downtown").ships_to == frozenset({"US-West"})
    assert rules.location("wh").ships_to is None
    assert rules.products[0].never_at == frozenset({"stores"})
    assert rules.carrier.promised_days == 3


@pytest.mark.parametrize(
    ("change", "field", "message", "expected"),
    [
        (
            ("distance]", "distanse]"),
            "routing.ranking[4]",
            "unknown ranking rule 'distanse'; did you mean 'distance'?",
            "one of: fewest_packages, same_market, ranked, capacity_left, inventory_balance, cost, carrier, distance",
        ),
        (
            ("never_at: stores", "never_at: store"),
            "routing.eligibility.products[0].never_at[0]",
            "unknown location or group 'store'; did you mean 'stores'?",
            "a location id or a group of the profile's locations: acme-supply, downtown, stores, wh",
        ),
        (
            ("{stores: [US-West]}", "{stores: [US-Wst]}"),
            "routing.eligibility.ships_to.stores[0]",
            "unknown market 'US-Wst'; did you mean 'US-West'?",
            "a market from 'routing.markets', an ISO country code (US) or a country-region code (US-CA): US-West",
        ),
        (
            ("max_reroutes: 2", "max_reroutes: 2\n  strategy: nearest"),
            "routing.strategy",
            "unknown routing strategy 'nearest'",
            "one of: default",
        ),
    ],
)
def test_bad_routing_sections_name_the_field_and_what_was_expected(
    write: WriteFile, change: tuple[str, str], field: str, message: str, expected: str
) -> None:
    errors = _errors(write("omnibridge.yaml", PROFILE + ROUTING.replace(*change)))
    assert [(e.field, e.message, e.expected) for e in errors] == [(field, message, expected)]
    assert errors[0].line is not None


def test_value_threshold_policy_needs_a_threshold(write: WriteFile) -> None:
    errors = _errors(write("omnibridge.yaml", PROFILE + ROUTING.replace(", value_threshold: 50", "")))
    assert [(e.field, e.message) for e in errors] == [("routing.split", "policy value_threshold needs a value")]


def test_a_catalogue_only_on_a_supplier(write: WriteFile) -> None:
    errors = _errors(write("omnibridge.yaml", PROFILE.replace("    rank: 1\n", "    rank: 1\n    skus: [A]\n")))
    assert [(e.field, e.message) for e in errors] == [
        ("locations[0].skus", "a catalogue is set but location 'wh' is a warehouse")
    ]


def test_a_cutoff_is_a_time_of_day(write: WriteFile) -> None:
    errors = _errors(write("omnibridge.yaml", PROFILE.replace('"15:30"', '"3pm"')))
    assert [(e.field, e.message, e.expected) for e in errors] == [
        ("locations[0].cutoff", "invalid cutoff '3pm'", "a local time 'HH:MM' on a 24-hour clock, such as 15:00")
    ]


def test_a_location_market_must_be_a_market_or_a_code(write: WriteFile) -> None:
    errors = _errors(write("omnibridge.yaml", PROFILE.replace("    market: US\n", "    market: Westish\n")))
    assert [(e.field, e.message) for e in errors] == [("locations[0].market[0]", "unknown market 'Westish'")]


def test_routing_names_are_checked_even_when_another_section_is_invalid(write: WriteFile) -> None:
    text = (PROFILE + ROUTING).replace("currency: USD", "currency: USDX").replace("never_at: stores", "never_at: store")
    errors = _errors(write("omnibridge.yaml", text))
    assert sorted(str(e.field) for e in errors) == ["merchant.currency", "routing.eligibility.products[0].never_at[0]"]


class _Settings(BaseModel):
    pass


def _channel(channel_id: str, kind: ConnectorKind) -> LoadedChannel:
    spec = ConnectorSpec(id=channel_id, label=channel_id, kind=kind, settings_model=_Settings, capabilities=frozenset())
    return LoadedChannel(channel_id, channel_id, spec, _Settings(), Path("c.yaml"), MappingTables())


def test_by_default_storefront_and_marketplace_orders_are_routed_and_pos_orders_are_not() -> None:
    channels = [
        _channel("web", ConnectorKind.STOREFRONT),
        _channel("amazon", ConnectorKind.MARKETPLACE),
        _channel("pos", ConnectorKind.POS),
        _channel("erp", ConnectorKind.ERP_WMS),
    ]
    rules = build_rules(RoutingSection(), [], channels, "UTC")
    assert rules.channels == frozenset({"web", "amazon"})
    assert [rules.routes_channel(c) for c in ("web", "amazon", "pos", "erp")] == [True, True, False, False]
    chosen = build_rules(RoutingSection(channels=["pos"]), [], channels, "UTC")
    assert chosen.routes_channel("pos")
    assert not chosen.routes_channel("web")
    off = build_rules(RoutingSection(enabled=False), [], channels, "UTC")
    assert not off.routes_channel("web")


def test_a_profile_without_a_routing_section_does_not_route(write: WriteFile) -> None:
    """Existing profiles keep committing orders where their channel put them until the merchant adds ``routing:``."""
    base = (
        "version: 1\nmerchant: {name: M, currency: USD, timezone: UTC}\n"
        "locations:\n  - {id: wh, name: W, type: warehouse}\n"
    )
    assert not load_profile(write("without.yaml", base)).routing.enabled
    assert load_profile(write("with.yaml", base + "routing: {}\n")).routing.enabled
