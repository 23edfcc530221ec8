"""Pieces shared by the Square emulator's endpoint modules: API errors, opaque cursors, field parsing."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from connectors.square.emulator.openapi import SquareError
from connectors.square.emulator.state import parse_time

__all__ = ["ApiError", "invalid", "page", "time_field"]

T = TypeVar("T")


class ApiError(Exception):
    """An error answer: HTTP ``status`` with Square's ``{"errors": [...]}`` body."""

    def __init__(self, status: int, errors: Sequence[SquareError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.status = status
        self.errors = list(errors)

    def body(self) -> dict[str, Any]:
        return {"errors": [e.to_json() for e in self.errors]}


def invalid(code: str, detail: str, field: str | None = None, status: int = 400) -> ApiError:
    """A single ``INVALID_REQUEST_ERROR``."""
    return ApiError(status, [SquareError("INVALID_REQUEST_ERROR", code, detail, field)])


def time_field(value: Any, field: str) -> datetime | None:
    """Parse an optional RFC 3339 body field; a bad value is 400 ``INVALID_TIME`` naming ``field``."""
    if value is None:
        return None
    try:
        return parse_time(str(value))
    except ValueError:
        raise invalid("INVALID_TIME", f"Invalid RFC 3339 timestamp {value!r}.", field) from None


def _fingerprint(body: dict[str, Any]) -> str:
    query = {k: v for k, v in body.items() if k not in ("cursor", "limit")}
    return hashlib.sha256(json.dumps(query, sort_keys=True).encode()).hexdigest()[:16]


def page(items: Sequence[T], body: dict[str, Any], default_limit: int, max_limit: int) -> tuple[list[T], str | None]:
    """One page of ``items`` for a request ``body`` (``cursor``, ``limit``) and the next cursor (None at the end).

    The cursor is opaque (base64 JSON) and bound to the query: reusing it with a different query is 400
    ``INVALID_CURSOR``, as is a cursor this emulator did not issue. A limit outside 1..max is the default.
    """
    limit = body.get("limit")
    size = limit if isinstance(limit, int) and 0 < limit <= max_limit else default_limit
    offset = 0
    cursor = body.get("cursor")
    if cursor:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(str(cursor).encode()))
            offset = int(decoded["o"])
            valid = decoded["q"] == _fingerprint(body) and offset >= 0
        except (ValueError, KeyError, TypeError):
            valid = False
        if not valid:
            raise invalid("INVALID_CURSOR", "The cursor is invalid or was issued for a different query.", "cursor")
    chunk = list(items[offset : offset + size])
    if offset + size >= len(items):
        return chunk, None
    token = json.dumps({"o": offset + size, "q": _fingerprint(body)}, separators=(",", ":"))
    return chunk, base64.urlsafe_b64encode(token.encode()).decode()
