"""``omnibridge check``: is every enabled channel reachable with the profile's credentials? Read-only."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.cli.profile_store import ProfileOption
from omnibridge.cli.table import render_table
from omnibridge.config import DEFAULT_PROFILE


def check(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
) -> None:
    """Check each enabled channel's credentials and reachability with read-only calls (writes nothing, opens no
    database); exit 1 if any channel failed."""
    from omnibridge.check import check_profile
    from omnibridge.config import load_profile

    loaded = load_profile(profile)
    results = asyncio.run(check_profile(loaded))
    failed = [result for result in results if result.status == "failed"]
    if as_json:
        document = {"ok": not failed, "channels": [result.as_dict() for result in results]}
        typer.echo(json.dumps(document, indent=2))
    elif not results:
        typer.echo(f"{loaded.path}: no enabled channel to check")
    else:
        rows = [(r.channel, r.connector, r.status, r.detail) for r in results]
        typer.echo(render_table(("CHANNEL", "CONNECTOR", "STATUS", "DETAIL"), rows))
        summary = f"{len(failed)} of {len(results)} channel(s) failed" if failed else "every channel is reachable"
        typer.echo(summary)
    if failed:
        raise typer.Exit(1)
