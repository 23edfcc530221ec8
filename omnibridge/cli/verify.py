"""``omnibridge verify``: the ledger's own consistency check, read-only (exit 1 when anything disagrees)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.cli.profile_store import ProfileOption, profile_store
from omnibridge.config import DEFAULT_PROFILE


def verify(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """Check the ledger: positions equal their movements, committed equals the open order lines, no closed line
    holds stock, no stock write is stuck in the outbox. Exit 1 and name each inconsistency."""
    with profile_store(profile, read_only=True) as (_, store):
        found = store.verify()
    if as_json:
        typer.echo(json.dumps({"ok": not found, "inconsistencies": [i.as_dict() for i in found]}, indent=2))
    elif not found:
        typer.echo("ok: the ledger is consistent (positions, commitments, order lines, outbox)")
    else:
        for inconsistency in found:
            typer.echo(f"{inconsistency.check}: {inconsistency.subject}: {inconsistency.detail}")
        typer.echo(f"{len(found)} inconsistenc{'y' if len(found) == 1 else 'ies'} found")
    if found:
        raise typer.Exit(1)
