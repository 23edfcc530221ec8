"""The actions that exist today record who did them in the audit log, in the same transaction: dead letters
replayed or discarded, incidents resolved."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from omnibridge.access import Actor, audit
from omnibridge.errors import OmnibridgeError
from omnibridge.sdk.webhooks import WebhookDelivery
from omnibridge.store import InboxStatus, Incident, Store
from omnibridge.store.deadletters import ALL, discard, requeue
from omnibridge.store.incident_actions import resolve_incident

BOB = Actor("user", "bob")


def dead(store: Store, name: str) -> int:
    delivery = WebhookDelivery(
        name, name, "orders/create", json.dumps({"id": name}).encode(), {}, datetime(2026, 11, 23, tzinfo=UTC)
    )
    entry_id = store.add_delivery("web", delivery)
    assert entry_id is not None
    store.finish_delivery(entry_id, InboxStatus.DEAD, f"{name}: unknown SKU")
    return entry_id


def test_a_discard_is_audited_per_entry_with_before_and_after(store: Store) -> None:
    first, second = dead(store, "d-1"), dead(store, "d-2")
    result = discard(store, [first, second, 999], "test notifications", BOB)
    assert result.discarded == [first, second]
    found = audit.records(store)
    assert [(r.action, r.subject, r.actor) for r in found] == [
        ("deadletter.discard", f"inbox:{first}", "user:bob"),
        ("deadletter.discard", f"inbox:{second}", "user:bob"),
    ]
    assert found[0].before == {"status": "dead", "error": "d-1: unknown SKU"}
    assert found[0].after == {"status": "discarded", "reason": "test notifications"}


def test_a_replay_is_audited_per_requeued_entry(store: Store) -> None:
    first, second = dead(store, "d-1"), dead(store, "d-2")
    requeue(store, [first], actor=BOB)
    requeue(store, ALL, actor=Actor.token("0123456789ab", "ops"))
    found = audit.records(store)
    assert [(r.action, r.subject, r.actor) for r in found] == [
        ("deadletter.replay", f"inbox:{first}", "user:bob"),
        ("deadletter.replay", f"inbox:{second}", "token:0123456789ab (ops)"),
    ]
    assert found[1].before == {"status": "dead", "error": "d-2: unknown SKU"}
    assert found[1].after == {"status": "pending"}


def test_without_an_actor_nothing_is_audited(store: Store) -> None:
    requeue(store, [dead(store, "d-1")])
    assert audit.records(store) == []


def test_resolving_an_incident_records_who_and_how(store: Store) -> None:
    store.add_incident(Incident("drift", "alert", "web shows 9 of A at wh", "d-1", "web", "A", "wh"))
    [incident] = store.incidents()
    assert incident.id is not None
    assert incident.resolved_at is None
    resolved = resolve_incident(store, incident.id, "counted the shelf: 9 is right", BOB)
    assert resolved["resolved_by"] == "user:bob"
    [after] = store.incidents()
    assert (after.resolved_by, after.resolution) == ("user:bob", "counted the shelf: 9 is right")
    assert store.incidents(resolved=False) == []
    assert store.incidents(resolved=True) == [after]
    [entry] = audit.records(store)
    assert (entry.action, entry.subject) == ("incident.resolve", f"incident:{incident.id}")
    assert entry.before["resolved"] is False
    assert entry.after == {
        "resolved": True,
        "resolution": "counted the shelf: 9 is right",
    }
    with pytest.raises(OmnibridgeError, match="already resolved by user:bob"):
        resolve_incident(store, incident.id, "again", BOB)
    with pytest.raises(OmnibridgeError, match="no incident #999"):
        resolve_incident(store, 999, "x", BOB)
    with pytest.raises(OmnibridgeError, match="--note"):
        resolve_incident(store, incident.id, " ", BOB)
    assert len(audit.records(store)) == 1
