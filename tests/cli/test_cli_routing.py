"""``omnibridge orders route|accept|reject``, ``orders list --status unroutable`` and ``explain order`` on a real
SQLite store: an order placed through the routing service, then looked at and acted on from the command line."""

from __future__ import annotations

import asyncio
import json
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from routing_service_support import CHANNEL_MAP, order
from support import WriteFile
from sync.fake_channel import FakeChannel, receive, runtime
from typer.testing import CliRunner

from omnibridge.cli.app import app
from omnibridge.config import load_profile
from omnibridge.models import Product, Variant
from omnibridge.routing.service import RoutingService
from omnibridge.store import open_store
from omnibridge.sync.apply import EventApplier

runner = CliRunner()

PROFILE = """
version: 1
merchant:
  name: Trail & Co
  currency: USD
  timezone: America/New_York
locations:
  - id: wh
    name: Denver warehouse
    type: warehouse
    coordinates: {lat: 39.74, lon: -104.99}
    capabilities: [ships]
  - id: nyc
    name: New York store
    type: store
    coordinates: {lat: 40.71, lon: -74.01}
    capabilities: [ships]
  - id: chi
    name: Chicago store
    type: store
    coordinates: {lat: 41.88, lon: -87.63}
    capabilities: [ships]
"""


@pytest.fixture
def profile(write: WriteFile) -> Path:
    """A profile whose store holds web order 1001 for 2 tents, routed to the New York store (nearest Newark),
    and web order 1002 for 9 tents, which nobody has (parked)."""
    path = write("omnibridge.yaml", textwrap.dedent(PROFILE))
    loaded = load_profile(path)
    with open_store(loaded.store_url) as store:
        for location in loaded.locations:
            store.upsert_location(location)
        store.upsert_product(Product(id="P", title="Tent", variants=[Variant(sku="TENT", product_id="P")]))
        for location_id, units in (("wh", 5), ("nyc", 2), ("chi", 2)):
            receive(store, "TENT", location_id, units)
        web = runtime("web", FakeChannel(list(CHANNEL_MAP)), CHANNEL_MAP)
        asyncio.run(web.resolve_locations())
        # the profile has no channel of its own: its web orders come from a fake channel, routed like a storefront's
        service = RoutingService.from_rules(store, loaded.locations, replace(loaded.routing, channels=None))
        applier = EventApplier(store, web, placer=service)
        applier.apply_all([order("1001", ("TENT", 2)), order("1002", ("TENT", 9), seconds=5)])
    return path


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_a_dry_run_shows_every_candidate_and_the_rule_and_writes_nothing(profile: Path) -> None:
    code, out, err = _run("orders", "route", "web:1001", "--dry-run", "--exclude", "nyc", "--profile", str(profile))
    assert code == 0, err
    assert "dry run: nothing was reserved or recorded" in out
    assert "ships from chi" in out
    for location in ("wh", "nyc", "chi"):
        assert any(row.split()[:1] == [location] for row in out.splitlines()), location
    code, out, _ = _run("orders", "route", "web:1001", "--dry-run", "--json", "--profile", str(profile))
    body = json.loads(out)
    assert body["dry_run"] is True
    assert body["decision"]["locations"] == ["nyc"]
    assert {v["location_id"] for v in body["decision"]["verdicts"]} == {"wh", "nyc", "chi"}
    assert all(v["rule"] for v in body["decision"]["verdicts"])
    explained = json.loads(_run("explain", "order", "web:1001", "--json", "--profile", str(profile))[1])
    assert len(explained["decisions"]) == 1  # nothing recorded by the dry runs


def test_reject_reroutes_and_explain_shows_what_happened(profile: Path) -> None:
    code, out, err = _run(
        "orders", "reject", "web:#1001", "--at", "nyc", "--reason", "shelf empty", "--profile", str(profile)
    )
    assert code == 0, err
    assert out.strip() == "web:1001: rejected at nyc; re-routed to chi"
    code, out, err = _run("orders", "accept", "web:1001", "--at", "chi", "--profile", str(profile))
    assert (code, out.strip()) == (0, "web:1001: accepted at chi (assignment web:1001@chi#2)")
    code, out, err = _run("explain", "order", "web:1001", "--profile", str(profile))
    assert code == 0, err
    assert "Decision 1" in out
    assert "trigger: placed" in out
    assert "Decision 2" in out
    assert "trigger: rejected at nyc: shelf empty" in out
    assert "excluded nyc" in out
    first = out.split("Decision 2")[0]
    for location in ("wh", "nyc", "chi"):  # every candidate of the first decision, with its verdict
        assert any(row.split()[:1] == [location] for row in first.splitlines()), location
    assert "web:1001@nyc#1" in out
    assert "rejected" in out
    assert "web:1001@chi#2" in out
    assert "accepted" in out
    assert "assign:web:1001#2" in out


def test_unroutable_orders_are_listed(profile: Path) -> None:
    code, out, err = _run("orders", "list", "--status", "unroutable", "--profile", str(profile))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["ORDER", "NUMBER", "OUTCOME"]
    assert [line.split()[0] for line in lines[1:]] == ["web:1002"]
    body = json.loads(_run("orders", "list", "--status", "unroutable", "--json", "--profile", str(profile))[1])
    assert [(o["order"], o["outcome"], o["trigger"]) for o in body["orders"]] == [("web:1002", "unroutable", "placed")]


def test_errors_are_one_line_with_an_honest_exit_code(profile: Path) -> None:
    code, _, err = _run("orders", "accept", "web:1001", "--at", "chi", "--profile", str(profile))
    assert code == 1
    assert err.strip().splitlines() == [
        "error: order web:1001 has no open assignment at 'chi' (see `omnibridge explain order web:1001` for "
        "where it is assigned)"
    ]
    code, _, err = _run("orders", "reject", "web:1001", "--at", "mars", "--reason", "x", "--profile", str(profile))
    assert code == 1
    assert "--at 'mars' is not a location of the profile" in err
    code, _, err = _run("orders", "route", "web:4040", "--dry-run", "--profile", str(profile))
    assert code == 1
    assert err.startswith("error: no order 'web:4040'")
    code, _, err = _run("orders", "reject", "web:1001", "--at", "nyc", "--profile", str(profile))
    assert code == 2  # --reason is required: a usage error


def test_explain_still_explains_a_sku(profile: Path) -> None:
    code, out, err = _run("explain", "TENT", "--profile", str(profile))
    assert code == 0, err
    assert out.startswith("TENT:")
