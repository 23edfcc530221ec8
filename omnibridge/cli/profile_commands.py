"""``omnibridge init`` and ``omnibridge validate``: write a starter profile, check a profile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from omnibridge.config import (
    DEFAULT_PROFILE,
    PROFILE_ENV,
    LoadedProfile,
    ProfileErrors,
    load_profile,
    profile_summary,
    write_starter_profile,
)
from omnibridge.errors import ConfigError

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def init(
    path: Annotated[Path, typer.Argument(help="Where to write the profile.", show_default=DEFAULT_PROFILE)] = Path(
        DEFAULT_PROFILE
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Write a starter merchant profile that validates as written."""
    target = write_starter_profile(path, force=force)
    if as_json:
        typer.echo(json.dumps({"wrote": str(target), "next": f"omnibridge validate {target}"}, indent=2))
        return
    typer.echo(f"wrote {target}")
    typer.echo(f"next: edit it, then run 'omnibridge validate {target}'")


def error_record(error: ConfigError) -> dict[str, Any]:
    """The JSON form of one profile problem."""
    return {
        "file": error.file,
        "line": error.line,
        "field": error.field,
        "message": error.message,
        "expected": error.expected,
        "text": error.render(),
    }


def profile_record(profile: LoadedProfile) -> dict[str, Any]:
    """The JSON form of a valid profile's summary (the store URL with its password masked)."""
    return {
        "valid": True,
        "profile": str(profile.path),
        "merchant": {
            "name": profile.merchant.name,
            "currency": profile.merchant.currency,
            "timezone": profile.merchant.timezone,
        },
        "store": profile.store_url_masked,
        "locations": [{"id": loc.id, "type": loc.type.value} for loc in profile.locations],
        "channels": [
            {"id": chan.id, "connector": chan.connector, "enabled": chan.enabled} for chan in profile.channels
        ],
    }


def validate(
    profile: Annotated[
        Path,
        typer.Argument(
            help=f"The merchant profile (default: ${PROFILE_ENV} or ./{DEFAULT_PROFILE}).",
            envvar=PROFILE_ENV,
            show_default=False,
        ),
    ] = Path(DEFAULT_PROFILE),
    as_json: JsonOption = False,
) -> None:
    """Check a merchant profile and every file it references; print each problem with its file and line."""
    try:
        loaded = load_profile(profile)
    except ProfileErrors as exc:
        if as_json:
            document = {"valid": False, "profile": str(profile), "errors": [error_record(e) for e in exc.errors]}
            typer.echo(json.dumps(document, indent=2))
        else:
            for error in exc.errors:
                typer.echo(error.render(), err=True)
        raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(profile_record(loaded), indent=2))
        return
    typer.echo(profile_summary(loaded))
