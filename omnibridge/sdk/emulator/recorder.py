"""Append every request an emulator receives to a JSON-lines file, for spec validation of recorded traffic.

When ``OMNIBRIDGE_RECORD_REQUESTS`` names a file, each request becomes one line::

    {"service": "shopify", "method": "POST", "path": "/admin/api/2026-04/graphql.json",
     "query": {"limit": ["10"]}, "headers": {...}, "body": {...}}

``body`` is the parsed JSON when the body is JSON, else the text (``null`` when empty). Credentials in headers
are masked. Several emulators (and processes) may append to the same file: each line is written with one
``write`` on a file opened in append mode, under a lock.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

__all__ = ["RECORD_ENV", "RequestRecorder"]

RECORD_ENV = "OMNIBRIDGE_RECORD_REQUESTS"
_MASKED_HEADERS = frozenset({"authorization", "x-shopify-access-token", "x-amz-access-token", "cookie"})


class RequestRecorder:
    """Records requests of one emulated ``service`` into ``path``; with ``path=None`` it records nothing."""

    def __init__(self, service: str, path: str | os.PathLike[str] | None) -> None:
        self.service = service
        self.path = Path(path) if path else None
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, service: str, env: Mapping[str, str] | None = None) -> RequestRecorder:
        """A recorder writing to the file named by ``OMNIBRIDGE_RECORD_REQUESTS`` (disabled when unset)."""
        source = os.environ if env is None else env
        return cls(service, source.get(RECORD_ENV) or None)

    @property
    def enabled(self) -> bool:
        return self.path is not None

    def record(
        self,
        method: str,
        path: str,
        query: Mapping[str, list[str]] | str,
        headers: Mapping[str, str],
        body: bytes,
    ) -> None:
        """Append one request. ``query`` may be the raw query string or already parsed."""
        if self.path is None:
            return
        line = json.dumps(
            {
                "service": self.service,
                "method": method.upper(),
                "path": path,
                "query": parse_qs(query, keep_blank_values=True) if isinstance(query, str) else dict(query),
                "headers": {
                    name.lower(): ("***" if name.lower() in _MASKED_HEADERS else value)
                    for name, value in headers.items()
                },
                "body": _decode_body(body),
            },
            separators=(",", ":"),
            sort_keys=True,
        )
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def _decode_body(body: bytes) -> Any:
    if not body:
        return None
    text = body.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def read_recorded(path: str | os.PathLike[str], service: str | None = None) -> list[dict[str, Any]]:
    """The recorded requests in ``path`` (optionally of one service), in order."""
    rows: list[dict[str, Any]] = []
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        if raw.strip():
            row = json.loads(raw)
            if service is None or row.get("service") == service:
                rows.append(row)
    return rows
