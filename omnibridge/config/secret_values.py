"""Find the credentials in validated settings so they can be masked in every log."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pydantic import BaseModel, SecretBytes, SecretStr

from omnibridge.logs import register_secret


def secret_values(value: Any) -> Iterator[str]:
    """Every ``SecretStr``/``SecretBytes`` value inside ``value`` (models, mappings and sequences, recursively)."""
    if isinstance(value, SecretStr):
        yield value.get_secret_value()
    elif isinstance(value, SecretBytes):
        yield value.get_secret_value().decode("utf-8", errors="replace")
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from secret_values(getattr(value, name))
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from secret_values(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from secret_values(item)


def empty_secrets(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """The path of every ``SecretStr``/``SecretBytes`` inside ``value`` whose value is empty (a credential that
    resolved to "", e.g. ``${VAR}`` with ``VAR`` set to nothing)."""
    if isinstance(value, SecretStr | SecretBytes):
        if not value.get_secret_value():
            yield path
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from empty_secrets(getattr(value, name), (*path, name))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from empty_secrets(item, (*path, str(key)))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from empty_secrets(item, (*path, index))


def register_secrets(values: Iterable[str]) -> None:
    """Register every value with :func:`omnibridge.logs.register_secret` so no log line can show it."""
    for value in values:
        if value:
            register_secret(value)
