"""The starter profile written by ``omnibridge init``; it validates as written."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from omnibridge.errors import ConfigError

TEMPLATE = "omnibridge.yaml"
DEFAULT_PROFILE = "omnibridge.yaml"
"""The profile commands use when none is given (relative to the working directory)."""
PROFILE_ENV = "OMNIBRIDGE_PROFILE"
"""The environment variable that names the profile when no path is given on the command line."""


def starter_profile_text() -> str:
    """The text of the starter profile (package data ``omnibridge/config/templates/omnibridge.yaml``)."""
    return files("omnibridge.config").joinpath("templates", TEMPLATE).read_text(encoding="utf-8")


def write_starter_profile(path: str | Path, *, force: bool = False) -> Path:
    """Write the starter profile to ``path`` and return it.

    Refuses (``ConfigError``) to replace an existing file unless ``force`` is true, and to write into a
    directory that does not exist.
    """
    target = Path(path)
    if target.is_dir():
        raise ConfigError("is a directory", file=str(target), expected="a file path such as omnibridge.yaml")
    if target.exists() and not force:
        raise ConfigError("already exists", file=str(target), expected="a new file, or --force to overwrite it")
    if not target.parent.is_dir():
        raise ConfigError(
            f"directory '{target.parent}' does not exist", file=str(target), expected="an existing directory"
        )
    target.write_text(starter_profile_text(), encoding="utf-8")
    return target
