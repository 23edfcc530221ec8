"""``omnibridge deadletters list|retrying|replay|discard``: the webhook deliveries that could not be applied,
those waiting for a retry, their replay, and setting aside for good those that never will apply.

A dead letter is an inbox entry the worker could not apply, kept with the reason. ``replay`` puts entries back
in the queue and runs one worker pass over the whole inbox with the profile's channels, then says for each
replayed entry whether it is now done or dead again (and why). Replaying is safe while a daemon runs on the
same store: every movement is keyed by the vendor's ids, so an entry applied by both is applied once. A
replayed entry starts with a fresh attempt count. ``retrying`` lists the deliveries whose fetch failed retriably
and that wait for their next try (the worker dead-letters one after its last allowed attempt). ``discard`` sets
dead letters aside with a reason (status ``discarded``, kept for audit and listed by ``list --all``): they no
longer count as dead letters in the metrics, so an alert on them stops firing, and are never replayed. Each
replayed or discarded entry is recorded in the audit log (``omnibridge audit list``) with the OS user who ran it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from omnibridge.access import Actor
from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.config import DEFAULT_PROFILE
from omnibridge.errors import OmnibridgeError
from omnibridge.logs import configure_logging
from omnibridge.shipping.runtime import CarrierRuntime
from omnibridge.store import InboxEntry, InboxStatus, Store
from omnibridge.store.deadletters import ALL, dead_letters, discard, requeue, retrying
from omnibridge.sync import SyncEngine

deadletters_app = typer.Typer(
    help="Webhook deliveries that could not be applied: list them, replay them once fixed.", no_args_is_help=True
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def entry_row(entry: InboxEntry) -> dict[str, Any]:
    """One JSON-ready row per inbox entry."""
    return {
        "id": entry.id,
        "channel": entry.channel,
        "topic": entry.delivery.topic or None,
        "received_at": entry.delivery.received_at.isoformat(),
        "attempts": entry.attempts,
        "status": entry.status.value,
        "error": entry.error,
        "next_attempt_at": entry.next_attempt_at.isoformat() if entry.next_attempt_at else None,
        "last_error": entry.last_error,
        "discarded_at": entry.discarded_at.isoformat() if entry.discarded_at else None,
        "discard_reason": entry.discard_reason,
    }


def _table(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    cells = [[str(row[column]) if row[column] is not None else "-" for column in columns] for row in rows]
    headers = [column.upper() for column in columns]
    widths = [max(len(line[i]) for line in [headers, *cells]) for i in range(len(columns))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in [headers, *cells]
    )


@deadletters_app.command("list")
def list_command(
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    channel: Annotated[str | None, typer.Option("--channel", help="Only this channel's dead letters.")] = None,
    show_all: Annotated[
        bool, typer.Option("--all", help="Also the discarded ones, with when and why they were discarded.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """List dead letters, oldest first: id, channel, topic, when received, attempts and why it failed."""
    with profile_store(profile, read_only=True) as (_, store):
        rows = [entry_row(entry) for entry in dead_letters(store, channel=channel, discarded=show_all)]
    if as_json:
        typer.echo(json.dumps({"dead_letters": rows}, indent=2))
    elif not rows:
        typer.echo("no dead letters" + (f" for channel {channel!r}" if channel else ""))
    else:
        for row in rows:  # whole seconds are enough to read; --json keeps the exact time
            for column in ("received_at", "discarded_at"):
                row[column] = row[column][:19].replace("T", " ") if row[column] else None
        columns: tuple[str, ...] = ("id", "channel", "topic", "received_at", "attempts", "error")
        if show_all:
            columns = ("id", "channel", "topic", "received_at", "status", "error", "discarded_at", "discard_reason")
        typer.echo(_table(rows, columns))


@deadletters_app.command("retrying")
def retrying_command(
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    channel: Annotated[str | None, typer.Option("--channel", help="Only this channel's deliveries.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List deliveries waiting for a retry, oldest first: id, channel, topic, attempts, next try and last error."""
    with profile_store(profile, read_only=True) as (_, store):
        rows = [entry_row(entry) for entry in retrying(store, channel=channel)]
    if as_json:
        typer.echo(json.dumps({"retrying": rows}, indent=2))
    elif not rows:
        typer.echo("no deliveries waiting for a retry" + (f" for channel {channel!r}" if channel else ""))
    else:
        for row in rows:  # whole seconds are enough to read; --json keeps the exact time
            for column in ("received_at", "next_attempt_at"):
                row[column] = row[column][:19].replace("T", " ")
        columns = ("id", "channel", "topic", "received_at", "attempts", "next_attempt_at", "last_error")
        typer.echo(_table(rows, columns))


async def replay_entries(profile: Path, entry_ids: list[int] | None) -> dict[str, Any]:
    """Requeue ``entry_ids`` (None: every dead letter), run one worker pass, and report each entry's outcome."""
    with profile_store(profile) as (loaded, store):
        carriers = CarrierRuntime.for_profile(store, loaded)
        engine = SyncEngine.for_profile(store, loaded, foreign_channels=carriers.channels)
        try:
            # Events name channel locations: without every channel's location map, lines would be skipped.
            failures = await engine.resolve_locations() if _any_dead(store, entry_ids) else {}
            if failures:
                reasons = "; ".join(f"{channel}: {reason}" for channel, reason in sorted(failures.items()))
                raise OmnibridgeError(f"nothing replayed: cannot reach every channel ({reasons}); try again later")
            result = requeue(store, ALL if entry_ids is None else entry_ids, actor=Actor.os_user())
            if result.requeued:
                await carriers.process_pending()
                await engine.process_pending()
        finally:
            await carriers.aclose()
            await engine.aclose()
        outcomes: list[dict[str, Any]] = []
        for entry_id in result.requeued:
            entry = store.inbox_entry(entry_id)
            if entry is None:  # pragma: no cover - entries are never deleted
                continue
            row = entry_row(entry)
            if entry.status is InboxStatus.PENDING and entry.next_attempt_at is not None:
                retry_at = row["next_attempt_at"]
                row["error"] = f"not applied yet ({entry.last_error}); the worker tries again from {retry_at}"
            elif entry.status is InboxStatus.PENDING:
                row["error"] = "not applied yet (a channel was unavailable); the worker will try again"
            outcomes.append(row)
    return {
        "replayed": outcomes,
        "refused": [{"id": entry_id, "reason": reason} for entry_id, reason in result.refused.items()],
    }


def _any_dead(store: Store, entry_ids: list[int] | None) -> bool:
    if entry_ids is None:
        return bool(dead_letters(store, limit=1))
    return any(
        entry is not None and entry.status is InboxStatus.DEAD
        for entry in (store.inbox_entry(entry_id) for entry_id in entry_ids)
    )


@deadletters_app.command("replay")
def replay_command(
    entry_ids: Annotated[
        list[int] | None, typer.Argument(metavar="ID...", help="Inbox ids of the dead letters to replay.")
    ] = None,
    replay_all: Annotated[bool, typer.Option("--all", help="Replay every dead letter.")] = False,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    as_json: JsonOption = False,
    log_level: Annotated[str, typer.Option("--log-level", help="Log level on stderr.")] = "WARNING",
) -> None:
    """Put dead letters back in the queue and apply them now; exits 1 if any is refused or dead again."""
    configure_logging(level=log_level)
    if replay_all == bool(entry_ids):
        problem = "give either inbox ids or --all, not both" if replay_all else "say which dead letters to replay"
        raise OmnibridgeError(f"{problem}: pass one or more inbox ids (see 'omnibridge deadletters list') or --all")
    report = asyncio.run(replay_entries(profile, None if replay_all else list(entry_ids or [])))
    if as_json:
        typer.echo(json.dumps(report, indent=2))
    else:
        if not report["replayed"] and not report["refused"]:
            typer.echo("no dead letters to replay")
        for row in report["replayed"]:
            line = f"#{row['id']} {row['channel']} {row['topic'] or '-'}: {row['status']}"
            typer.echo(line + (f" ({row['error']})" if row["error"] else ""))
        for refused in report["refused"]:
            typer.echo(f"#{refused['id']}: not replayed: {refused['reason']}")
    if report["refused"] or any(row["status"] != InboxStatus.DONE.value for row in report["replayed"]):
        raise typer.Exit(1)


@deadletters_app.command("discard")
def discard_command(
    entry_ids: Annotated[list[int], typer.Argument(metavar="ID...", help="Inbox ids of the dead letters to discard.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why they will never be applied (kept for audit).", show_default=False)
    ],
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    as_json: JsonOption = False,
) -> None:
    """Set dead letters aside for good, with a reason: kept for audit ('list --all'), no longer counted as dead
    letters, never replayed. Exits 1 if any id is refused."""
    if not reason.strip():
        raise OmnibridgeError("--reason: say why these dead letters will never be applied (it is kept for audit)")
    with profile_store(profile) as (_, store):
        result = discard(store, entry_ids, reason, Actor.os_user())
    refused = [{"id": entry_id, "reason": why} for entry_id, why in result.refused.items()]
    if as_json:
        typer.echo(json.dumps({"discarded": result.discarded, "refused": refused}, indent=2))
    else:
        for entry_id in result.discarded:
            typer.echo(f"#{entry_id}: discarded")
        for row in refused:
            typer.echo(f"#{row['id']}: not discarded: {row['reason']}")
    if result.refused:
        raise typer.Exit(1)
