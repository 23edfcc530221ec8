"""Opening the store a merchant profile names, for commands that read or write it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.config import DEFAULT_PROFILE, PROFILE_ENV, LoadedProfile, load_profile
from omnibridge.store import Store, open_store
from omnibridge.store.engine import require_existing

ProfileOption = Annotated[
    Path,
    typer.Option(
        "--profile",
        "-p",
        help=f"The merchant profile (default: ${PROFILE_ENV} or ./{DEFAULT_PROFILE}).",
        envvar=PROFILE_ENV,
    ),
]


@contextmanager
def profile_store(profile: Path, *, read_only: bool = False) -> Iterator[tuple[LoadedProfile, Store]]:
    """Load ``profile``, open (and migrate) its store, and make the store's locations match the profile's.

    ``read_only`` (commands that only report): a SQLite store file that does not exist is an error naming the
    path, never created (a mistyped path would otherwise answer from a fresh, empty database).

    The profile is the source of truth for locations: each is upserted, so a renamed store or a new pickup
    window is in the store before any command uses it. Locations removed from the profile stay in the store,
    keeping their history.
    """
    loaded = load_profile(profile)
    if read_only:
        require_existing(loaded.store_url)
    with open_store(loaded.store_url) as store:
        for location in loaded.locations:
            store.upsert_location(location)
        yield loaded, store
