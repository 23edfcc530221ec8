"""``omnibridge fulfilment tasks|run|retry`` on a real SQLite store: an honest summary, exit 1 when a task failed,
and a failed task put back in the queue by an operator."""

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
routing: {}
"""
ASSIGN = "assign:web:1001#1"


@pytest.fixture
def profile(write: WriteFile) -> Path:
    """A profile without the web channel whose order web:1001 was routed (so its ``assign`` task cannot run)."""
    return write("omnibridge.yaml", textwrap.dedent(PROFILE))


@pytest.fixture
def routed(profile: Path) -> Path:
    loaded = load_profile(profile)
    with open_store(loaded.store_url) as store:
        for location in loaded.locations:
            store.upsert_location(location)
        store.upsert_product(Product(id="P", title="Tent", variants=[Variant(sku="TENT", product_id="P")]))
        receive(store, "TENT", "nyc", 2)
        web = runtime("web", FakeChannel(list(CHANNEL_MAP)), CHANNEL_MAP)
        asyncio.run(web.resolve_locations())
        # the profile has no channel of its own: its web orders come from a fake channel, routed like a storefront's
        service = RoutingService.from_rules(store, loaded.locations, replace(loaded.routing, channels=None))
        EventApplier(store, web, placer=service).apply_all([order("1001", ("TENT", 2))])
    return profile


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_a_pass_with_nothing_due_succeeds(profile: Path) -> None:
    code, out, err = _run("fulfilment", "run", "--profile", str(profile))
    assert code == 0, err
    assert out == "0 tasks: done 0, refused 0, retrying 0, failed 0\n"


def test_a_failed_task_is_reported_and_the_exit_code_says_so(routed: Path) -> None:
    code, out, _ = _run("fulfilment", "run", "--profile", str(routed))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "1 tasks: done 0, refused 0, retrying 0, failed 1"
    assert lines[1] == (
        f"  failed: {ASSIGN}: task {ASSIGN}: channel 'web' is not an enabled channel of this profile (enabled: none)"
    )
    code, out, _ = _run("fulfilment", "tasks", "--status", "failed", "--profile", str(routed))
    assert code == 0
    assert ASSIGN in out
    assert "failed" in out
    assert "not an enabled channel" in out
    code, out, _ = _run("incidents", "--kind", "fulfilment", "--profile", str(routed))
    assert code == 0
    assert f"fulfilment/failed: assign task {ASSIGN}" in out


def test_retry_puts_a_failed_task_back(routed: Path) -> None:
    _run("fulfilment", "run", "--profile", str(routed))
    code, out, err = _run("fulfilment", "retry", ASSIGN, "--profile", str(routed))
    assert code == 0, err
    assert out.startswith(f"{ASSIGN} is pending again")
    code, out, _ = _run("fulfilment", "tasks", "--json", "--profile", str(routed))
    (task,) = json.loads(out)
    assert (task["id"], task["status"], task["attempts"]) == (ASSIGN, "pending", 0)
    code, _, err = _run("fulfilment", "retry", ASSIGN, "--profile", str(routed))
    assert code == 1
    assert err == f"error: no failed or refused task {ASSIGN!r}: `omnibridge fulfilment tasks` lists them\n"


def test_an_unknown_status_is_named(profile: Path) -> None:
    code, _, err = _run("fulfilment", "tasks", "--status", "stuck", "--profile", str(profile))
    assert code == 1
    assert "--status 'stuck' is not a task status; expected one of: pending, done, refused, failed, cancelled" in err
