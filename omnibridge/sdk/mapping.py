"""The contract for mapper functions: data plus messages, never an exception for one bad record.

A mapper is a pure function ``vendor payload -> MapResult[canonical value]``. It returns :func:`ok` with the
value (and any warnings) or :func:`skip` with the reason the record cannot be used; the caller dead-letters
skipped records and goes on with the batch. Only infrastructure failures raise.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, Never, TypeVar

__all__ = ["MapLevel", "MapMessage", "MapResult", "collect", "ok", "skip", "warning"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class MapLevel(StrEnum):
    """How serious a mapping message is: ``error`` means the record was skipped."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class MapMessage:
    """One note about one record: ``field_path`` is dotted (``"line_items.0.sku"``), ``""`` for the record."""

    level: MapLevel
    field_path: str
    message: str
    record_id: str | None = None


@dataclass(frozen=True, slots=True)
class MapResult(Generic[T_co]):
    """A mapped value, or ``None`` when the record was skipped, with the messages explaining either."""

    value: T_co | None
    messages: list[MapMessage] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the record produced a value."""
        return self.value is not None

    @property
    def skipped(self) -> bool:
        """True when the record must be dead-lettered."""
        return self.value is None


def warning(message: str, *, field_path: str = "", record_id: str | None = None) -> MapMessage:
    """A warning to attach to an :func:`ok` result (the value was used, but something was off)."""
    return MapMessage(MapLevel.WARNING, field_path, message, record_id)


def ok(value: T, *messages: MapMessage) -> MapResult[T]:
    """A successfully mapped value, optionally with warnings."""
    if value is None:
        raise ValueError("ok() needs a value; use skip() for a record that cannot be mapped")
    return MapResult(value, list(messages))


def skip(reason: str, *, field_path: str = "", record_id: str | None = None) -> MapResult[Never]:
    """A record that cannot be mapped: no value and one error message with ``reason``."""
    return MapResult(None, [MapMessage(MapLevel.ERROR, field_path, reason, record_id)])


def collect(results: Iterable[MapResult[T]]) -> tuple[list[T], list[MapMessage]]:
    """Split a batch of results into the values that mapped and every message, in order."""
    values: list[T] = []
    messages: list[MapMessage] = []
    for result in results:
        if result.value is not None:
            values.append(result.value)
        messages.extend(result.messages)
    return values, messages
