"""Opening the store a merchant profile names, for commands that read or write it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from omnibridge.config import DEFAULT_PROFILE, PROFILE_ENV, LoadedProfile, load_profile
from omnibridge.store import Store, open_store

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
def profile_store(profile: Path) -> Iterator[tuple[LoadedProfile, Store]]:
    """Load ``profile``, open (and migrate) its store, and make the store's locations match the profile's.

    The profile is the source of truth for locations: each is upserted, so a renamed store or a new pickup
    window is in the store before any command uses it. Locations removed from the profile stay in the store,
    keeping their history.
    """
    loaded = load_profile(profile)
    with open_store(loaded.store_url) as store:
        for location in loaded.locations:
            store.upsert_location(location)
        yield loaded, store
