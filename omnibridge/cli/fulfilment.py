"""``omnibridge fulfilment tasks|run|retry``: the vendor calls that carry routing and shipping decisions out
(assign lines on the sales channel, submit to a 3PL or supplier, confirm a shipment, re-route a refusal).

``run`` makes one pass of the dispatcher (what the daemon does every few seconds) and exits non-zero when any
task failed, was refused or waits for a retry; ``retry`` puts a failed or refused task back in the queue.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.cli.table import render_table
from omnibridge.config import DEFAULT_PROFILE
from omnibridge.errors import OmnibridgeError
from omnibridge.fulfilment import queue
from omnibridge.fulfilment.dispatcher import DispatchReport
from omnibridge.logs import configure_logging

fulfilment_app = typer.Typer(
    help="Fulfilment tasks: list them, run one pass of the dispatcher, retry a failed one.", no_args_is_help=True
)

LogLevelOption = Annotated[str, typer.Option("--log-level", help="Log level on stderr.")]


@fulfilment_app.command("tasks")
def tasks_command(
    status: Annotated[
        str | None, typer.Option("--status", help=f"Only tasks in this status: {', '.join(queue.STATUSES)}.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many (oldest first).")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """List fulfilment tasks, oldest first, with their status, attempts and last error."""
    if status is not None and status not in queue.STATUSES:
        raise OmnibridgeError(f"--status {status!r} is not a task status; expected one of: {', '.join(queue.STATUSES)}")
    with profile_store(profile, read_only=True) as (_, store), store.unit_of_work() as uow:
        found = queue.list_tasks(uow.session, status=status, limit=limit)
    if as_json:
        typer.echo(json.dumps([_as_dict(view) for view in found], indent=2))
        return
    if not found:
        typer.echo("no fulfilment tasks" + (f" with status {status}" if status else ""))
        return
    rows = [
        (
            view.id,
            view.kind,
            view.channel,
            view.status,
            view.attempts,
            view.next_at.isoformat(timespec="seconds") if view.status == "pending" else "-",
            view.last_error or _result(view) or "-",
        )
        for view in found
    ]
    typer.echo(render_table(("ID", "KIND", "CHANNEL", "STATUS", "ATTEMPTS", "DUE", "DETAIL"), rows, right=(4,)))


@fulfilment_app.command("run")
def run_command(
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    log_level: LogLevelOption = "WARNING",
) -> None:
    """Run every due task once: call its vendor and record the outcome; exit 1 when anything did not succeed."""
    configure_logging(level=log_level)
    report = asyncio.run(_run(profile))
    counts = {name: report.count(name) for name in ("done", "refused", "retrying", "failed")}
    typer.echo(f"{len(report.outcomes)} tasks: " + ", ".join(f"{name} {count}" for name, count in counts.items()))
    for outcome in report.outcomes:
        if outcome.outcome != "done":
            typer.echo(f"  {outcome.outcome}: {outcome.task_id}: {outcome.detail}")
    if not report.ok:
        raise typer.Exit(1)


@fulfilment_app.command("retry")
def retry_command(
    task_id: Annotated[str, typer.Argument(metavar="TASK", help="The task's id ('fulfilment tasks' lists them).")],
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """Put a failed or refused task back in the queue, due now, with its attempts reset."""
    with profile_store(profile) as (_, store), store.unit_of_work() as uow:
        requeued = queue.requeue(uow.session, task_id, uow.now())
    if not requeued:
        raise OmnibridgeError(f"no failed or refused task {task_id!r}: `omnibridge fulfilment tasks` lists them")
    typer.echo(f"{task_id} is pending again: the next `omnibridge fulfilment run` (or the daemon) runs it")


async def _run(profile: Path) -> DispatchReport:
    from omnibridge.fulfilment.setup import dispatcher_for_profile
    from omnibridge.sync import build_channels

    with profile_store(profile) as (loaded, store):
        channels = build_channels(loaded)
        dispatcher, extra = dispatcher_for_profile(store, loaded, channels)
        try:
            return await dispatcher.run_once()
        finally:
            for channel in [*channels, *extra]:
                await channel.connector.aclose()


def _result(view: queue.TaskView) -> str | None:
    if not view.result:
        return None
    return ", ".join(f"{key}={value}" for key, value in view.result.items() if value not in (None, "", False))


def _as_dict(view: queue.TaskView) -> dict[str, object]:
    return {
        "id": view.id,
        "kind": view.kind,
        "order_id": view.order_id,
        "channel": view.channel,
        "status": view.status,
        "attempts": view.attempts,
        "next_at": view.next_at.isoformat(),
        "last_error": view.last_error,
        "result": dict(view.result) if view.result else None,
        "updated_at": view.updated_at.isoformat(),
    }
