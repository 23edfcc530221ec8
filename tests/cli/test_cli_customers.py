"""`omnibridge customers` and `omnibridge privacy` on a real SQLite store."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from support import WriteFile
from typer.testing import CliRunner

from omnibridge.cli.app import app
from omnibridge.config import load_profile
from omnibridge.customers.directory import CustomerDirectory, ObservedIdentity
from omnibridge.store import Store, open_store
from omnibridge.store.tables import PRIVACY_REQUESTS

runner = CliRunner()


def seed(profile_url: str) -> tuple[str, str]:
    with open_store(profile_url) as store:
        people = CustomerDirectory(store)
        ada = people.resolve(
            ObservedIdentity("web", "gid://shopify/Customer/7", email="ada@example.com", first_name="Ada")
        )
        other = people.resolve(ObservedIdentity("pos", "SQ-1", email="a.l@example.com"))
        return ada, other


def add_request(store: Store) -> None:
    received = datetime(2000, 1, 1, tzinfo=UTC)
    with store.engine.begin() as connection:
        connection.execute(
            PRIVACY_REQUESTS.insert().values(
                channel="web",
                external_ref="d-1",
                kind="redact",
                received_at=received,
                deadline_at=datetime(2000, 1, 31, tzinfo=UTC),
                status="open",
            )
        )


def test_customers_list_show_merge_split_and_consent(write: WriteFile, base_profile: str) -> None:
    profile = write("omnibridge.yaml", base_profile)
    ada, other = seed(load_profile(profile).store_url)
    p = ["--profile", str(profile)]

    listed = runner.invoke(app, ["customers", "list", *p])
    assert listed.exit_code == 0, listed.output
    assert f"{ada}  Ada  ada@example.com  [web]" in listed.stdout

    merged = runner.invoke(app, ["customers", "merge", ada, other, "--reason", "same person", *p])
    assert merged.exit_code == 0, merged.output
    assert merged.stdout.strip() == f"merged {other} into {ada} (pos:SQ-1)"

    consent = runner.invoke(app, ["customers", "consent", ada, "--purpose", "email_marketing", "--granted", *p])
    assert consent.exit_code == 0, consent.output
    assert consent.stdout.startswith(f"email_marketing granted for {ada}")
    older = runner.invoke(
        app,
        [
            "customers",
            "consent",
            ada,
            "--purpose",
            "email_marketing",
            "--revoked",
            "--at",
            "2020-01-01T00:00:00+00:00",
            *p,
        ],
    )
    assert "a later decision stands" in older.stdout

    shown = json.loads(runner.invoke(app, ["customers", "show", ada, "--json", *p]).stdout)
    assert [i["external_id"] for i in shown["identities"]] == ["gid://shopify/Customer/7", "SQ-1"]
    assert shown["consent"]["email_marketing"]["granted"] is True
    assert [h["kind"] for h in shown["history"]] == ["merge"]

    split = runner.invoke(app, ["customers", "split", ada, "pos:SQ-1", *p])
    assert split.exit_code == 0, split.output
    bad = runner.invoke(app, ["customers", "split", ada, "SQ-1", *p])
    assert bad.exit_code == 1
    assert "error: identity 'SQ-1' is not CHANNEL:EXTERNAL_ID" in bad.stderr

    added = runner.invoke(app, ["customers", "add", "web:gid://shopify/Customer/8", "--email", " ADA@example.com", *p])
    assert added.exit_code == 0, added.output
    assert added.stdout.strip() == f"web:gid://shopify/Customer/8 is customer {ada}"

    audited = runner.invoke(app, ["audit", "list", "--action", "customer.", "--json", *p])
    assert audited.exit_code == 0, audited.output
    assert [(r["action"], r["subject"]) for r in json.loads(audited.stdout)["records"]] == [
        ("customer.merge", ada),
        ("customer.split", ada),
    ]

    wrong = runner.invoke(app, ["customers", "consent", ada, "--purpose", "newsletter", "--granted", *p])
    assert wrong.exit_code == 1
    assert (
        "unknown consent purpose 'newsletter'; expected one of: email_marketing, sms_marketing, analytics"
        in wrong.stderr
    )


def test_privacy_export_erase_and_requests(write: WriteFile, base_profile: str) -> None:
    profile = write("omnibridge.yaml", base_profile)
    url = load_profile(profile).store_url
    ada, _ = seed(url)
    p = ["--profile", str(profile)]

    exported = runner.invoke(app, ["privacy", "export", ada, *p])
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.stdout)["identities"][0]["email"] == "ada@example.com"

    erased = runner.invoke(app, ["privacy", "erase", ada, *p])
    assert erased.exit_code == 1  # the web channel is not in the profile: nothing could ask it to erase
    assert "NOT erased: web:gid://shopify/Customer/7: this channel's connector cannot erase customers" in erased.stdout
    assert "ada@example.com" not in runner.invoke(app, ["privacy", "export", ada, *p]).stdout
    audited = json.loads(runner.invoke(app, ["audit", "list", "--action", "customer.erase", "--json", *p]).stdout)
    assert [(r["subject"], r["after"]) for r in audited["records"]] == [(ada, {"not_erased": 1})]
    assert runner.invoke(app, ["audit", "verify", *p]).exit_code == 0

    with open_store(url) as store:
        add_request(store)
    listed = runner.invoke(app, ["privacy", "requests", *p])
    assert listed.exit_code == 0, listed.output
    assert "#1 web redact (customer not known here) received 2000-01-01: overdue by" in listed.stdout
