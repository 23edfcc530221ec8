"""``omnibridge pickups list|ready|collected|reject|expire`` on a real SQLite store: pickup orders recorded from a
channel, then listed and acted on from the command line (audited as the operating-system user)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from support import WriteFile
from sync.fake_channel import NOW, FakeChannel, receive, runtime
from typer.testing import CliRunner

from omnibridge.access import audit
from omnibridge.cli.app import app
from omnibridge.config import load_profile
from omnibridge.models import Product, Variant
from omnibridge.pickup.settings import PickupSettings
from omnibridge.sdk.channel import OrderEvent, OrderEventKind, OrderLineEvent
from omnibridge.sdk.pickup import PickupDetails
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
  - id: nyc
    name: New York store
    type: store
    capabilities: [ships, pickup, curbside]
    pickup_hours: {mon: "09:00-18:00", tue: "09:00-18:00"}
pickup:
  hold_hours: 2
"""


@pytest.fixture
def profile(write: WriteFile) -> Path:
    """Three web pickup orders at the New York store, for windows long past (so their holds are due)."""
    path = write("omnibridge.yaml", textwrap.dedent(PROFILE))
    loaded = load_profile(path)
    with open_store(loaded.store_url) as store:
        for location in loaded.locations:
            store.upsert_location(location)
        store.upsert_product(Product(id="P", title="Tent", variants=[Variant(sku="TENT", product_id="P")]))
        receive(store, "TENT", "nyc", 10)
        web = runtime("web", FakeChannel(["W-NYC"]), {"W-NYC": "nyc"})
        web.location_ids.update({"W-NYC": "nyc"})
        applier = EventApplier(store, web, pickup=PickupSettings.from_profile(loaded))
        for ref in ("1001", "1002", "1003"):
            line = OrderLineEvent("1", "TENT", 2, "W-NYC")
            details = PickupDetails(location_ref="W-NYC", pickup_at=NOW, curbside=ref == "1003")
            applier.apply_all([OrderEvent(ref, OrderEventKind.PLACED, NOW, (line,), pickup=details)])
    return path


def _run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_staff_list_and_act_on_pickups(profile: Path) -> None:
    where = ("--profile", str(profile))
    code, out, _ = _run("pickups", "list", "--at", "nyc", *where)
    assert code == 0
    assert out.splitlines()[0].split() == ["ID", "STORE", "STATUS", "WHERE", "WINDOW", "EXPIRES", "UNITS"]
    assert [row.split()[:4] for row in out.splitlines()[1:]] == [
        ["web:1001#1", "nyc", "reserved", "counter"],
        ["web:1002#1", "nyc", "reserved", "counter"],
        ["web:1003#1", "nyc", "reserved", "curbside"],
    ]
    assert _run("pickups", "ready", "web:1001#1", *where)[1] == "pickup web:1001#1 at nyc: reserved -> ready\n"
    code, out, _ = _run("pickups", "collected", "web:1001#1", "--format", "json", *where)
    assert (code, json.loads(out)["units"]) == (0, 2)
    code, out, _ = _run("pickups", "reject", "web:1002#1", "--reason", "shelf empty", *where)
    assert code == 0
    assert out.startswith("pickup web:1002#1 at nyc: reserved -> rejected (2 unit(s) released); ")
    assert "never turned into a shipment" in out
    code, out, _ = _run("pickups", "list", "--status", "ready", "--format", "json", *where)
    assert json.loads(out) == {"pickups": []}
    with open_store(load_profile(profile).store_url) as store:
        actions = [(entry.action, entry.subject) for entry in audit.records(store, action="pickup.")]
    assert actions == [
        ("pickup.ready", "web:1001#1"),
        ("pickup.collected", "web:1001#1"),
        ("pickup.reject", "web:1002#1"),
    ]


def test_expire_releases_due_holds_and_an_expired_pickup_cannot_be_collected(profile: Path) -> None:
    where = ("--profile", str(profile))
    code, out, _ = _run("pickups", "expire", "--dry-run", *where)
    assert (code, out) == (0, "3 hold(s) due: web:1001#1, web:1002#1, web:1003#1\n")
    code, out, _ = _run("pickups", "expire", *where)
    assert code == 0
    assert out.splitlines()[-1] == "3 hold(s) released"
    assert _run("pickups", "expire", *where)[1] == "0 hold(s) released\n"
    code, out, _ = _run("incidents", "--kind", "pickup", "--json", *where)
    assert code == 0
    assert sorted(i["order_id"] for i in json.loads(out)["incidents"]) == ["web:1001", "web:1002", "web:1003"]
    code, out, err = _run("pickups", "collected", "web:1001#1", *where)
    assert code == 1
    assert err.strip().splitlines() == [
        "error: pickup web:1001#1 is expired: it cannot become collected (expected it arrived or ready or reserved)"
    ]
    with open_store(load_profile(profile).store_url) as store:
        assert store.position("TENT", "nyc").committed == 0


def test_unknown_store_and_pickup_are_one_line_errors(profile: Path) -> None:
    where = ("--profile", str(profile))
    code, _, err = _run("pickups", "list", "--at", "paris", *where)
    assert code == 1
    assert "--at 'paris' is not a location of the profile; expected one of: nyc" in err
    code, _, err = _run("pickups", "ready", "web:404#1", *where)
    assert code == 1
    assert "no pickup 'web:404#1'" in err
    assert "Traceback" not in err
