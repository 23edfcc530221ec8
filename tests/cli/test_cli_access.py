"""`omnibridge tokens`, `omnibridge audit` and `omnibridge incidents resolve` on a real SQLite store; dead-letter
discards name the OS user in the audit log."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from support import WriteFile
from typer.testing import CliRunner

from omnibridge.access import Role, tokens
from omnibridge.cli.app import app
from omnibridge.config import load_profile
from omnibridge.sdk.webhooks import WebhookDelivery
from omnibridge.store import InboxStatus, Incident, Store, open_store
from omnibridge.store.engine import write_session
from omnibridge.store.tables import AUDIT_LOG

runner = CliRunner()


@pytest.fixture
def profile(write: WriteFile, base_profile: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("USER", "alice")
    monkeypatch.setenv("LOGNAME", "alice")
    path = write("omnibridge.yaml", base_profile)
    open_store(load_profile(path).store_url).close()
    return path


def opened(profile: Path) -> Store:
    return open_store(load_profile(profile).store_url)


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_a_token_is_printed_once_listed_without_its_secret_and_revoked(profile: Path) -> None:
    code, out, err = invoke("tokens", "create", "--role", "operator", "--name", "night shift", "-p", str(profile))
    assert code == 0, err
    heading, secret = out.splitlines()
    assert heading.endswith("(night shift, operator):")
    assert "not shown again" in err
    with opened(profile) as store:
        found = tokens.authenticate(store, secret)
    assert found is not None
    assert found.role is Role.OPERATOR

    code, out, _ = invoke("tokens", "list", "-p", str(profile))
    assert code == 0
    assert secret not in out
    assert out.splitlines()[0].split() == ["ID", "NAME", "ROLE", "STATE", "CREATED_AT", "CREATED_BY", "EXPIRES_AT"]
    assert f"{found.id}  night shift  operator  active" in out
    assert "user:alice" in out

    assert invoke("tokens", "revoke", found.id, "-p", str(profile))[:2] == (
        0,
        f"token {found.id} (night shift, operator): revoked\n",
    )
    code, _, err = invoke("tokens", "revoke", found.id, "-p", str(profile))
    assert code == 1
    assert err.startswith(f"error: API token {found.id} was already revoked at ")
    code, out, _ = invoke("tokens", "list", "--json", "-p", str(profile))
    assert json.loads(out)["tokens"][0]["state"] == "revoked"


def test_a_bad_role_and_expiry_are_one_line_errors(profile: Path) -> None:
    code, _, err = invoke("tokens", "create", "--role", "root", "--name", "x", "-p", str(profile))
    assert (code, err) == (1, "error: --role: 'root' is not a role; expected one of: viewer, operator, admin\n")
    code, _, err = invoke("tokens", "create", "--role", "viewer", "--name", "x", "--expires", "0", "-p", str(profile))
    assert code == 1
    assert err.startswith("error: --expires 0: expected a number of days")


def test_an_expiring_token_says_when(profile: Path) -> None:
    code, out, _ = invoke(
        "tokens", "create", "--role", "viewer", "--name", "grafana", "--expires", "30", "--json", "-p", str(profile)
    )
    assert code == 0
    body = json.loads(out)
    assert body["token"].startswith(f"obt_{body['id']}_")
    assert body["expires_at"] is not None


def dead_letter(store: Store) -> int:
    delivery = WebhookDelivery("d-1", "d-1", "orders/create", b"{}", {}, datetime(2026, 11, 23, tzinfo=UTC))
    entry_id = store.add_delivery("web", delivery)
    assert entry_id is not None
    store.finish_delivery(entry_id, InboxStatus.DEAD, "unknown SKU")
    return entry_id


def test_resolving_an_incident_and_discarding_a_dead_letter_are_audited_with_the_os_user(profile: Path) -> None:
    with opened(profile) as store:
        store.add_incident(Incident("drift", "alert", "web shows 9 of A at wh", "d-1", "web", "A", "wh"))
        entry_id = dead_letter(store)
    code, out, err = invoke("incidents", "resolve", "1", "--note", "counted: 9 is right", "-p", str(profile))
    assert (code, out) == (0, "#1: resolved (counted: 9 is right)\n"), err
    code, out, _ = invoke("incidents", "--state", "resolved", "-p", str(profile))
    assert out.rstrip().endswith("[resolved by user:alice: counted: 9 is right]")
    assert invoke("incidents", "--state", "open", "-p", str(profile))[1] == "no incidents\n"
    assert invoke("deadletters", "discard", str(entry_id), "--reason", "test", "-p", str(profile))[0] == 0

    code, out, _ = invoke("audit", "list", "-p", str(profile))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "AT", "ACTOR", "ACTION", "SUBJECT", "BEFORE", "AFTER"]
    assert lines[1].split()[2:5] == ["user:alice", "incident.resolve", "incident:1"]
    assert lines[2].split()[2:5] == ["user:alice", "deadletter.discard", f"inbox:{entry_id}"]
    code, out, _ = invoke("audit", "list", "--action", "deadletter.", "--json", "-p", str(profile))
    [record] = json.loads(out)["records"]
    assert record["after"] == {"status": "discarded", "reason": "test"}


def three_records(profile: Path) -> None:
    for name in ("a", "b", "c"):
        assert invoke("tokens", "create", "--role", "viewer", "--name", name, "-p", str(profile))[0] == 0


def tamper(profile: Path, statement: sa.Executable) -> None:
    with opened(profile) as store, write_session(store.engine) as session:
        session.execute(statement)


def test_verify_passes_on_an_intact_log(profile: Path) -> None:
    three_records(profile)
    assert invoke("audit", "verify", "-p", str(profile))[:2] == (0, "audit log intact: 3 record(s) checked\n")
    code, out, _ = invoke("audit", "verify", "--json", "-p", str(profile))
    assert code == 0
    assert json.loads(out) == {"intact": True, "checked": 3, "broken_id": None, "problem": None}


def test_verify_fails_naming_an_edited_record(profile: Path) -> None:
    three_records(profile)
    tamper(profile, sa.update(AUDIT_LOG).where(AUDIT_LOG.c.id == 2).values(actor="user:mallory"))
    code, _, err = invoke("audit", "verify", "-p", str(profile))
    assert (code, err) == (
        1,
        "audit log broken: record #2 was changed after it was written (1 record(s) before it are intact)\n",
    )


def test_verify_fails_naming_a_deleted_record(profile: Path) -> None:
    three_records(profile)
    tamper(profile, sa.delete(AUDIT_LOG).where(AUDIT_LOG.c.id == 2))
    code, _, err = invoke("audit", "verify", "-p", str(profile))
    assert code == 1
    assert "record #2 is missing (deleted)" in err


def test_verify_fails_naming_reordered_records(profile: Path) -> None:
    three_records(profile)
    with opened(profile) as store, write_session(store.engine) as session:
        rows = {row.id: row._asdict() for row in session.execute(sa.select(AUDIT_LOG))}
        session.execute(sa.delete(AUDIT_LOG).where(AUDIT_LOG.c.id.in_([1, 2])))
        session.execute(sa.insert(AUDIT_LOG), [{**rows[2], "id": 1}, {**rows[1], "id": 2}])
    code, out, _ = invoke("audit", "verify", "--json", "-p", str(profile))
    assert code == 1
    assert json.loads(out) == {
        "intact": False,
        "checked": 0,
        "broken_id": 1,
        "problem": "record #1 is not the first record (moved or replaced)",
    }
