"""Dead letters: listing and requeueing on every store backend, and ``omnibridge deadletters list|replay``."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from connectors.square.emulator.events import signer
from omnibridge.cli.app import app
from omnibridge.config import load_profile
from omnibridge.daemon.telemetry import inbox_stats
from omnibridge.demo import world
from omnibridge.sdk import WebhookDelivery
from omnibridge.store import InboxStatus, Store, open_store
from omnibridge.store.deadletters import ALL, dead_letters, discard, requeue, retrying
from omnibridge.sync import SyncEngine, build_channels

from .harness import POS, emulator_thread, order_movements, write_profile

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def deliver(store: Store, channel: str, number: int) -> int:
    entry_id = store.add_delivery(
        channel,
        WebhookDelivery(f"d-{number}", f"e-{number}", "orders/create", b'{"id": %d}' % number, {"x": "1"}, NOW),
    )
    assert entry_id is not None
    return entry_id


def test_dead_letters_are_listed_and_requeued_with_a_fresh_retry_budget(store: Store) -> None:
    web_dead, pos_dead, web_done, web_pending = (
        deliver(store, "web", 1),
        deliver(store, "pos", 2),
        deliver(store, "web", 3),
        deliver(store, "web", 4),
    )
    store.retry_delivery(web_dead, "shopify: 503", datetime(2026, 5, 1, 9, 1, tzinfo=UTC))
    store.finish_delivery(web_dead, InboxStatus.DEAD, "shopify: orders/cancelled payload has no valid cancelled_at")
    store.finish_delivery(pos_dead, InboxStatus.DEAD, "square: order X not returned by Square")
    store.finish_delivery(web_done, InboxStatus.DONE)

    assert [entry.id for entry in dead_letters(store)] == [web_dead, pos_dead]
    [only_web] = dead_letters(store, channel="web")
    assert (only_web.id, only_web.attempts, only_web.delivery.topic) == (web_dead, 2, "orders/create")
    assert only_web.error is not None
    assert "cancelled_at" in only_web.error

    result = requeue(store, [web_dead, web_done, web_pending, 999])
    assert result.requeued == [web_dead]
    assert result.refused == {
        web_done: "status is done, not dead",
        web_pending: "status is pending, not dead",
        999: "no such inbox entry",
    }
    again = store.inbox_entry(web_dead)
    assert again is not None
    assert (again.status, again.attempts, again.error) == (InboxStatus.PENDING, 0, None)
    assert (again.next_attempt_at, again.last_error) == (None, None)
    done = store.inbox_entry(web_done)
    assert done is not None
    assert done.status is InboxStatus.DONE  # refused ids are left exactly as they were
    assert [entry.id for entry in dead_letters(store)] == [pos_dead]


def test_entries_waiting_for_a_retry_are_listed_with_their_next_try_and_last_error(store: Store) -> None:
    waiting, due, other = deliver(store, "web", 1), deliver(store, "web", 2), deliver(store, "pos", 3)
    next_try = datetime(2026, 5, 1, 9, 5, tzinfo=UTC)
    store.retry_delivery(waiting, "shopify: 503", next_try)
    store.retry_delivery(other, "square: 429", next_try)

    [listed] = retrying(store, channel="web")
    assert (listed.id, listed.attempts, listed.next_attempt_at, listed.last_error) == (
        waiting,
        1,
        next_try,
        "shopify: 503",
    )
    assert [entry.id for entry in retrying(store)] == [waiting, other]
    store.finish_delivery(waiting, InboxStatus.DONE)
    assert [entry.id for entry in retrying(store)] == [other]
    assert due not in [entry.id for entry in retrying(store)]


def test_requeue_all_takes_every_dead_entry_or_one_channels(store: Store) -> None:
    ids = [deliver(store, channel, n) for n, channel in enumerate(["web", "pos", "web"])]
    for entry_id in ids:
        store.finish_delivery(entry_id, InboxStatus.DEAD, "broken")
    only_pos = requeue(store, ALL, channel="pos")
    assert (only_pos.requeued, only_pos.refused) == ([ids[1]], {})
    rest = requeue(store, ALL)
    assert rest.requeued == [ids[0], ids[2]]
    assert dead_letters(store) == []
    assert requeue(store, ALL).requeued == []
    assert [entry.id for entry in store.inbox(status=InboxStatus.PENDING)] == ids


def test_requeue_refuses_a_word_other_than_all(store: Store) -> None:
    with pytest.raises(ValueError, match="inbox ids or 'all'"):
        requeue(store, "everything")  # type: ignore[arg-type]


def test_a_discarded_dead_letter_is_kept_for_audit_and_no_longer_dead(store: Store) -> None:
    gone, other, done = deliver(store, "web", 1), deliver(store, "pos", 2), deliver(store, "web", 3)
    store.finish_delivery(gone, InboxStatus.DEAD, "shopify: order 1001 not found")
    store.finish_delivery(other, InboxStatus.DEAD, "square: order X not returned by Square")
    store.finish_delivery(done, InboxStatus.DONE)
    assert inbox_stats(store).dead == {"web": 1, "pos": 1}

    with pytest.raises(ValueError, match="needs a reason"):
        discard(store, [gone], "  ")
    result = discard(store, [gone, done, 999], "order deleted in Shopify before it was applied")
    assert result.discarded == [gone]
    assert result.refused == {done: "status is done, not dead", 999: "no such inbox entry"}

    entry = store.inbox_entry(gone)
    assert entry is not None
    assert (entry.status, entry.discard_reason) == (
        InboxStatus.DISCARDED,
        "order deleted in Shopify before it was applied",
    )
    assert entry.discarded_at is not None
    assert entry.error == "shopify: order 1001 not found"  # why it died is kept too
    assert [e.id for e in dead_letters(store)] == [other]
    assert [e.id for e in dead_letters(store, discarded=True)] == [gone, other]
    assert inbox_stats(store).dead == {"pos": 1}  # what omnibridge_inbox_dead (and an alert on it) reads

    assert requeue(store, [gone]).refused == {gone: "status is discarded, not dead"}
    assert requeue(store, ALL).requeued == [other]
    assert discard(store, [gone], "again").refused == {gone: "status is discarded, not dead"}
    after = store.inbox_entry(gone)
    assert after is not None
    assert (after.status, after.discard_reason) == (InboxStatus.DISCARDED, entry.discard_reason)


def test_cli_discards_a_dead_letter_with_a_reason_and_lists_it_with_all(tmp_path: Path) -> None:
    runner = CliRunner()
    profile = write_profile(
        tmp_path, shopify_url="http://127.0.0.1:9", square_url="http://127.0.0.1:9", receiver_url="http://127.0.0.1:9"
    )
    with open_store(load_profile(profile).store_url) as store:
        entry_id = deliver(store, POS, 1)
        store.finish_delivery(entry_id, InboxStatus.DEAD, "square: order X not returned by Square")
    where = ["--profile", str(profile)]

    no_reason = runner.invoke(app, ["deadletters", "discard", str(entry_id), *where])
    assert no_reason.exit_code == 2  # a usage error: --reason is required
    blank = runner.invoke(app, ["deadletters", "discard", str(entry_id), "--reason", " ", *where])
    assert blank.exit_code == 1
    assert "--reason" in blank.stderr
    reason = "test order from the Square sandbox"
    discarded = runner.invoke(app, ["deadletters", "discard", str(entry_id), "--reason", reason, *where])
    assert (discarded.exit_code, discarded.stdout.strip()) == (0, f"#{entry_id}: discarded")

    assert dead_letters_json(runner, profile) == []
    every = runner.invoke(app, ["deadletters", "list", "--all", "--json", *where])
    [row] = json.loads(every.stdout)["dead_letters"]
    assert (row["id"], row["status"], row["discard_reason"]) == (entry_id, "discarded", reason)
    assert row["discarded_at"] is not None
    table = runner.invoke(app, ["deadletters", "list", "--all", *where])
    header, line = table.stdout.splitlines()
    assert header.split()[-3:] == ["ERROR", "DISCARDED_AT", "DISCARD_REASON"]
    assert line.endswith(reason)

    replay = runner.invoke(app, ["deadletters", "replay", "--all", *where])
    assert (replay.exit_code, replay.stdout.strip()) == (0, "no dead letters to replay")
    again = runner.invoke(app, ["deadletters", "discard", str(entry_id), "--reason", reason, *where])
    assert again.exit_code == 1
    assert f"#{entry_id}: not discarded: status is discarded, not dead" in again.stdout
    for result in (no_reason, blank, discarded, every, table, replay, again):
        assert "Traceback" not in result.stdout + result.stderr


def dead_letters_json(runner: CliRunner, profile: Path) -> list[dict[str, Any]]:
    listed = runner.invoke(app, ["deadletters", "list", "--profile", str(profile), "--json"])
    assert listed.exit_code == 0, listed.stderr
    rows: list[dict[str, Any]] = json.loads(listed.stdout)["dead_letters"]
    return rows


def test_cli_lists_a_dead_letter_and_replay_applies_it_once_fixed(tmp_path: Path) -> None:
    """A POS sale arrives while Square rejects omnibridge's access token (revoked by mistake): the delivery is
    acknowledged, then dead-lettered with Square's reason. A replay while the token is still refused replays
    nothing and says why; once the token works, ``deadletters replay`` applies it: the sale is in the ledger
    exactly once, and a further replay is refused."""
    runner = CliRunner()
    receiver_url = "http://127.0.0.1:9"  # nothing listens: the test stores the delivery itself
    with emulator_thread(receiver_url) as emulators:
        square = emulators.emulators.square
        profile = write_profile(
            tmp_path, shopify_url=emulators.shopify_url, square_url=emulators.square_url, receiver_url=receiver_url
        )
        boulder = emulators.emulators.square_location["boulder"]
        order = emulators.call(lambda: square.pos_sale(boulder, [("TENT-2P-GRN", 2)]))
        event = next(e for e in emulators.call(lambda: list(square.events)) if e["type"] == "order.updated")
        body = json.dumps(event, separators=(",", ":")).encode()
        url = f"{receiver_url}/webhooks/{POS}"
        headers = {"content-type": "application/json", **signer(world.SQUARE_SIGNATURE_KEY)(body, url)}

        async def receive_while_revoked() -> None:
            loaded = load_profile(profile)
            with open_store(loaded.store_url) as store:
                engine = SyncEngine(store, build_channels(loaded))
                try:
                    # the channel is up when omnibridge starts; the token is revoked just before the delivery is
                    # processed (while the channel cannot even be resolved, deliveries simply wait, pending)
                    assert await engine.resolve_locations() == {}
                    assert engine.receive(POS, body, headers, url).http_status == 200
                    square.config.access_token = "revoked"
                    await engine.process_pending()
                finally:
                    await engine.aclose()

        asyncio.run(receive_while_revoked())

        [dead] = dead_letters_json(runner, profile)
        assert (dead["channel"], dead["topic"], dead["attempts"]) == (POS, "order.updated", 1)
        assert "access token" in dead["error"]
        table = runner.invoke(app, ["deadletters", "list", "--profile", str(profile), "--channel", POS])
        assert table.exit_code == 0
        assert "order.updated" in table.stdout
        assert "access token" in table.stdout

        still_revoked = runner.invoke(app, ["deadletters", "replay", str(dead["id"]), "--profile", str(profile)])
        assert still_revoked.exit_code == 1
        assert "nothing replayed: cannot reach every channel (pos: " in still_revoked.stderr
        assert "access token" in still_revoked.stderr
        assert "Traceback" not in still_revoked.stderr
        assert [entry["id"] for entry in dead_letters_json(runner, profile)] == [dead["id"]]  # left as it was

        square.config.access_token = world.SQUARE_TOKEN  # the merchant fixed the app's access
        replayed = runner.invoke(app, ["deadletters", "replay", str(dead["id"]), "--profile", str(profile)])
        assert replayed.exit_code == 0, replayed.stdout + replayed.stderr
        assert f"#{dead['id']} pos order.updated: done" in replayed.stdout

        again = runner.invoke(app, ["deadletters", "replay", str(dead["id"]), "--profile", str(profile), "--json"])
        assert again.exit_code == 1
        assert json.loads(again.stdout)["refused"] == [{"id": dead["id"], "reason": "status is done, not dead"}]

    with open_store(load_profile(profile).store_url) as store:
        [sale] = order_movements(store, POS, [order["id"]])[order["id"]]
        assert (sale.movement.kind.value, sale.movement.quantity, sale.movement.location_id) == ("sale", 2, "boulder")
        entry = store.inbox_entry(dead["id"])
        assert entry is not None
        assert (entry.status, entry.attempts, entry.error) == (InboxStatus.DONE, 1, None)  # replay: a fresh count


def test_cli_replay_needs_ids_or_all_and_says_when_there_is_nothing(tmp_path: Path) -> None:
    runner = CliRunner()
    profile = write_profile(
        tmp_path, shopify_url="http://127.0.0.1:9", square_url="http://127.0.0.1:9", receiver_url="http://127.0.0.1:9"
    )
    neither = runner.invoke(app, ["deadletters", "replay", "--profile", str(profile)])
    assert neither.exit_code == 1
    assert "pass one or more inbox ids" in neither.stderr
    both = runner.invoke(app, ["deadletters", "replay", "3", "--all", "--profile", str(profile)])
    assert both.exit_code == 1
    assert "not both" in both.stderr
    nothing = runner.invoke(app, ["deadletters", "replay", "--all", "--profile", str(profile)])
    assert (nothing.exit_code, nothing.stdout.strip()) == (0, "no dead letters to replay")
    unknown = runner.invoke(app, ["deadletters", "replay", "41", "--profile", str(profile)])
    assert unknown.exit_code == 1
    assert "#41: not replayed: no such inbox entry" in unknown.stdout
    empty = runner.invoke(app, ["deadletters", "list", "--profile", str(profile)])
    assert (empty.exit_code, empty.stdout.strip()) == (0, "no dead letters")
    for result in (neither, both, nothing, unknown, empty):
        assert "Traceback" not in result.stdout + result.stderr


def test_cli_lists_deliveries_waiting_for_a_retry_with_attempts_next_try_and_last_error(tmp_path: Path) -> None:
    runner = CliRunner()
    profile = write_profile(
        tmp_path, shopify_url="http://127.0.0.1:9", square_url="http://127.0.0.1:9", receiver_url="http://127.0.0.1:9"
    )
    empty = runner.invoke(app, ["deadletters", "retrying", "--profile", str(profile)])
    assert (empty.exit_code, empty.stdout.strip()) == (0, "no deliveries waiting for a retry")
    next_try = datetime(2026, 5, 1, 9, 0, 40, tzinfo=UTC)
    with open_store(load_profile(profile).store_url) as store:
        entry_id = deliver(store, POS, 1)
        deliver(store, POS, 2)  # pending, never tried: not listed
        store.retry_delivery(entry_id, "square: 503 Service Unavailable", next_try)

    listed = runner.invoke(app, ["deadletters", "retrying", "--profile", str(profile), "--json"])
    assert listed.exit_code == 0, listed.stderr
    [row] = json.loads(listed.stdout)["retrying"]
    assert (row["id"], row["channel"], row["status"], row["attempts"]) == (entry_id, POS, "pending", 1)
    assert (row["next_attempt_at"], row["last_error"]) == (next_try.isoformat(), "square: 503 Service Unavailable")
    table = runner.invoke(app, ["deadletters", "retrying", "--profile", str(profile), "--channel", POS])
    assert table.exit_code == 0
    header, line = table.stdout.splitlines()
    assert header.split() == ["ID", "CHANNEL", "TOPIC", "RECEIVED_AT", "ATTEMPTS", "NEXT_ATTEMPT_AT", "LAST_ERROR"]
    assert "2026-05-01 09:00:40" in line
    assert line.endswith("square: 503 Service Unavailable")
