"""``omnibridge audit list|verify``: the audit log of changes made by people and API tokens.

``list`` prints records in chain order; ``verify`` walks the hash chain and exits 0 when it is intact, 1 naming
the first record that was edited, deleted or moved (see :mod:`omnibridge.access.audit`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.access import audit
from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.cli.table import render_table
from omnibridge.config import DEFAULT_PROFILE

audit_app = typer.Typer(help="The audit log of changes made by people and tokens: list, verify.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _short(value: object) -> str:
    return "-" if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)


@audit_app.command("list")
def list_command(
    action: Annotated[
        str | None,
        typer.Option("--action", help="Only this action (token.create), or a family ending in a dot (deadletter.)."),
    ] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="Only records about this (inbox:41).")] = None,
    after: Annotated[int, typer.Option("--after", min=0, help="Only records after this id.")] = 0,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many (oldest first).")] = 200,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    as_json: JsonOption = False,
) -> None:
    """List audit records, oldest first: id, when, who, action, subject, before and after."""
    with profile_store(profile, read_only=True) as (_, store):
        found = audit.records(store, action=action, subject=subject, after_id=after, limit=limit)
    if as_json:
        typer.echo(json.dumps({"records": [record.as_dict() for record in found]}, indent=2, ensure_ascii=False))
        return
    if not found:
        typer.echo("no audit records")
        return
    rows = [
        (
            record.id,
            record.at.isoformat(timespec="seconds").replace("+00:00", "Z"),
            record.actor,
            record.action,
            record.subject,
            _short(record.before),
            _short(record.after),
        )
        for record in found
    ]
    typer.echo(render_table(("ID", "AT", "ACTOR", "ACTION", "SUBJECT", "BEFORE", "AFTER"), rows, right=(0,)))


@audit_app.command("verify")
def verify_command(profile: ProfileOption = Path(DEFAULT_PROFILE), as_json: JsonOption = False) -> None:
    """Check the audit log's hash chain: exit 0 when intact, 1 naming the first edited, deleted or moved record."""
    with profile_store(profile, read_only=True) as (_, store):
        result = audit.verify(store)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2))
    elif result.intact:
        typer.echo(f"audit log intact: {result.checked} record(s) checked")
    else:
        typer.echo(f"audit log broken: {result.problem} ({result.checked} record(s) before it are intact)", err=True)
    if not result.intact:
        raise typer.Exit(1)
