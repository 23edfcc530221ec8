"""`omnibridge keys ...`: the data keys that seal personal data at rest (see docs/security.md, "Data at rest").

``omnibridge keys status`` names where the keys come from, the active key and how many stored values each key
seals. ``omnibridge keys rotate`` adds a new active key to the key file (older keys stay for reading) and
re-encrypts every sealed value with it, in batches, while the daemon runs; ``--reencrypt-only`` skips the new
key (keys from the environment: put the new key first in ``OMNIBRIDGE_DATA_KEYS`` and restart the daemon first),
and resumes an interrupted rotation. Both take ``--url`` or a profile (``--profile``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.access import Actor, audit
from omnibridge.cli.db import JsonOption, ProfileOption, UrlOption, store_url
from omnibridge.config import DEFAULT_PROFILE
from omnibridge.security.crypto import KEYS_ENV, DataKeyError, read_key_file, with_new_active_key, write_key_file
from omnibridge.store import open_store
from omnibridge.store.engine import require_existing, safe_url
from omnibridge.store.reseal import census, reseal
from omnibridge.store.sealed import key_file, keyring_for_url

keys_app = typer.Typer(help="Data keys for personal data at rest: status and rotation.", no_args_is_help=True)

BatchOption = Annotated[int, typer.Option("--batch", min=1, help="Rows per transaction.")]


@keys_app.command("status")
def status_command(
    url: UrlOption = None, profile: ProfileOption = Path(DEFAULT_PROFILE), as_json: JsonOption = False
) -> None:
    """Where the keys come from, the active key, and how many stored values each key seals."""
    target = store_url(url, profile)
    require_existing(target)
    with open_store(target) as store:
        keyring = keyring_for_url(store.engine.url)
        counts = census(store.engine)
        where = safe_url(store.engine.url)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "store": where,
                    "source": keyring.source,
                    "active": keyring.active,
                    "keys": sorted(keyring.data),
                    "values": {column: dict(found) for column, found in counts.items()},
                }
            )
        )
        return
    typer.echo(
        f"{where}: keys from {keyring.source}; active key {keyring.active}; known {', '.join(sorted(keyring.data))}"
    )
    for column, found in counts.items():
        shown = ", ".join(f"{kid} {count}" for kid, count in sorted(found.items())) or "none"
        typer.echo(f"  {column}: {shown}")
    stale = sum(count for found in counts.values() for kid, count in found.items() if kid != keyring.active)
    if stale:
        typer.echo(f"{stale} value(s) not sealed with the active key: run 'omnibridge keys rotate --reencrypt-only'")


@keys_app.command("rotate")
def rotate_command(
    url: UrlOption = None,
    profile: ProfileOption = Path(DEFAULT_PROFILE),
    reencrypt_only: Annotated[
        bool, typer.Option("--reencrypt-only", help="Keep the active key; re-encrypt what is not sealed with it.")
    ] = False,
    batch: BatchOption = 500,
    as_json: JsonOption = False,
) -> None:
    """Add a new active data key to the key file, then re-encrypt every sealed value with it, batch by batch."""
    target = store_url(url, profile)
    require_existing(target)
    with open_store(target) as store:
        keyring = keyring_for_url(store.engine.url)
        added = None
        if not reencrypt_only:
            path = key_file(store.engine.url)
            if path is None:
                raise DataKeyError(
                    f"the keys come from {KEYS_ENV}: put the new key first there, restart the daemon, then run "
                    "'omnibridge keys rotate --reencrypt-only'"
                )
            rotated = with_new_active_key(read_key_file(path))
            write_key_file(path, rotated)
            keyring = keyring_for_url(store.engine.url, reload=True)
            added = keyring.active
        report = reseal(store.engine, keyring, batch=batch)
        with store.unit_of_work() as uow:  # names key ids and counts only, never key material
            after = {"active": keyring.active, "added": added, "reencrypted": sum(report.resealed.values())}
            audit.record(uow, Actor.os_user(), "keys.rotate", "data-keys", None, after)
        where = safe_url(store.engine.url)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "store": where,
                    "active": keyring.active,
                    "added": added,
                    "scanned": dict(report.scanned),
                    "reencrypted": dict(report.resealed),
                    "batches": report.batches,
                }
            )
        )
        return
    if added is not None:
        typer.echo(f"{where}: new active key {added} (older keys kept for reading)")
    for column in report.scanned:
        typer.echo(f"  {column}: {report.resealed[column]} re-encrypted of {report.scanned[column]}")
    typer.echo(f"all values sealed with {keyring.active} ({report.batches} batch(es))")
