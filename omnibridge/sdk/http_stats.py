"""What one :class:`~omnibridge.sdk.http.ConnectorHttpClient` did since start-up, by operation: every attempt and
how it ended, the retries, and the vendor's refusals (throttled: 429 or a throttled answer; denied: 401/403).

The daemon reads these at scrape time (``omnibridge_api_calls_total``, ``omnibridge_api_retries_total``,
``omnibridge_api_refusals_total``, per channel and operation); nothing here is process-global."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["HttpStats", "outcome_of"]

OK = "ok"
REFUSALS = frozenset({"throttled", "denied"})


def outcome_of(status: int | None) -> str:
    """How an attempt that did not succeed ended: ``transport_error`` (no answer), ``throttled`` (429, or an
    answer below 400 the vendor marks throttled), ``denied`` (401/403), ``client_error`` or ``server_error``."""
    if status is None:
        return "transport_error"
    if status == 429 or status < 400:
        return "throttled"
    if status in (401, 403):
        return "denied"
    return "client_error" if status < 500 else "server_error"


@dataclass
class HttpStats:
    """Monotonic counts, keyed by operation (the request's ``op``, or its method when it names none)."""

    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(operation, outcome) -> attempts."""
    retries: Counter[str] = field(default_factory=Counter)
    """operation -> attempts that were retried."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def answered(self, operation: str, outcome: str) -> None:
        with self._lock:
            self.calls[(operation, outcome)] += 1

    def retried(self, operation: str) -> None:
        with self._lock:
            self.retries[operation] += 1

    def refusals(self) -> dict[tuple[str, str], int]:
        """(operation, reason) -> attempts the vendor refused (``throttled`` or ``denied``)."""
        with self._lock:
            return {key: count for key, count in self.calls.items() if key[1] in REFUSALS}

    def snapshot(self) -> tuple[dict[tuple[str, str], int], dict[str, int]]:
        """The calls and retries as plain dicts (a consistent copy)."""
        with self._lock:
            return dict(self.calls), dict(self.retries)
