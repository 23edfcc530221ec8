"""Pieces shared by the Amazon emulator's modules: SP-API errors, timestamps, query parsing, ids."""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "ApiError",
    "format_time",
    "format_time_ms",
    "invalid_input",
    "new_uuid",
    "not_found",
    "parse_time",
    "query_list",
]


class ApiError(Exception):
    """An SP-API error answer: HTTP ``status`` with ``{"errors":[{"code","message","details"}]}``."""

    def __init__(self, status: int, code: str, message: str, details: str = "") -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details

    def body(self) -> dict[str, Any]:
        return {"errors": [{"code": self.code, "message": self.message, "details": self.details}]}


def invalid_input(message: str, details: str = "") -> ApiError:
    """400 ``InvalidInput`` (Amazon's answer to missing or malformed parameters)."""
    return ApiError(400, "InvalidInput", message, details)


def not_found(message: str) -> ApiError:
    return ApiError(404, "NotFound", message)


def format_time(moment: datetime) -> str:
    """ISO 8601 UTC with a ``Z`` suffix and seconds precision, as the Orders API writes dates."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def format_time_ms(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds (Feeds API and notification timestamps)."""
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    """Parse an ISO 8601 timestamp; a value without offset is UTC (Amazon accepts ``2026-03-02T15:00:00``
    and date-only ``2026-03-02``). Raises ``ValueError`` on anything else."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def query_list(params: Mapping[str, Sequence[str]], name: str) -> list[str]:
    """A swagger ``array`` query parameter: comma-separated (``collectionFormat: csv``) and/or repeated."""
    values: list[str] = []
    for raw in params.get(name, ()):
        values.extend(part for part in raw.split(",") if part != "")
    return values


def new_uuid(rng: random.Random) -> str:
    """A reproducible UUID4 string from the emulator's seeded generator."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
