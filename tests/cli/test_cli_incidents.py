"""`omnibridge incidents`: the conflict resolver's decisions, read from a real SQLite store."""

from __future__ import annotations

import json

from support import WriteFile
from typer.testing import CliRunner

from omnibridge.cli.app import app
from omnibridge.config import load_profile
from omnibridge.store import Incident, open_store

runner = CliRunner()


def test_incidents_lists_decisions_and_filters_by_kind(write: WriteFile, base_profile: str) -> None:
    profile = write("omnibridge.yaml", base_profile)
    with open_store(load_profile(profile).store_url) as store:
        store.add_incident(
            Incident("drift", "ledger_wins", "web shows 9 of A at wh; ledger wins, wrote 5", "d-1", "web", "A", "wh")
        )
        store.add_incident(
            Incident("oversell", "held", "web order o-1 is on hold", "o-1", "web", "A", "wh", order_id="web:o-1")
        )

    listed = runner.invoke(app, ["incidents", "--profile", str(profile)])
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert len(lines) == 2
    assert "drift/ledger_wins: web shows 9 of A at wh; ledger wins" in lines[0]
    assert "oversell/held: web order o-1 is on hold" in lines[1]

    only = runner.invoke(app, ["incidents", "--kind", "oversell", "--json", "--profile", str(profile)])
    body = json.loads(only.stdout)
    assert body["counts"] == {"drift": 1, "oversell": 1}
    assert [(i["decision"], i["order_id"]) for i in body["incidents"]] == [("held", "web:o-1")]


def test_an_unknown_kind_is_named_with_the_choices(write: WriteFile, base_profile: str) -> None:
    profile = write("omnibridge.yaml", base_profile)
    result = runner.invoke(app, ["incidents", "--kind", "dirft", "--profile", str(profile)])
    assert result.exit_code == 1
    assert "error: --kind 'dirft' is not a kind of incident; expected one of: drift, oversell" in result.stderr


def test_no_incidents_says_so(write: WriteFile, base_profile: str) -> None:
    profile = write("omnibridge.yaml", base_profile)
    open_store(load_profile(profile).store_url).close()  # an empty store: a read-only command never creates one
    result = runner.invoke(app, ["incidents", "--profile", str(profile)])
    assert result.exit_code == 0
    assert result.stdout.strip() == "no incidents"
