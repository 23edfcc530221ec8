"""The error tree. Each class says what the caller should do about it::

    OmnibridgeError
    ├─ ConfigError                       bad profile or mapping: file, line, field, expected
    │  └─ ConfigErrors                   every problem found in a file set, one ConfigError each
    ├─ ConnectorError(connector, op)
    │  ├─ FatalConnectorError            auth, permanent 4xx: stop this operation, alert
    │  ├─ RetriableConnectorError        429/5xx/timeout, with retry_after
    │  └─ SkippableRecordError           one bad record: dead-letter it, go on
    ├─ ConflictError                     stale compare-and-set, insufficient stock
    │  ├─ StaleCompareError              the channel's value moved since we read it
    │  ├─ InsufficientStockError         a movement would take available below zero
    │  └─ IdempotencyKeyReusedError      one key, two different events
    ├─ WebhookError                      bad signature, replay, duplicate
    └─ StoreError                        the database is unreachable or its schema is not ours
       └─ StoreInUseError                another daemon holds the store's daemon lock

Every message is written for the person who has to act on it: it names what is wrong and what was expected.
"""

from __future__ import annotations

from collections.abc import Sequence


class OmnibridgeError(Exception):
    """Base class of every error omnibridge raises on purpose."""


class ConfigError(OmnibridgeError):
    """A profile or mapping file is wrong.

    ``file``, ``line`` and ``field`` locate the problem (any may be unknown); ``expected`` says what would be
    right. ``str()`` renders one line a merchant can act on.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        self.expected = expected
        super().__init__(self.render())

    def render(self) -> str:
        where = self.file or ""
        if self.line is not None:
            where = f"{where or '<profile>'}:{self.line}"
        text = f"{where + ': ' if where else ''}{self.field + ': ' if self.field else ''}{self.message}"
        if self.expected:
            text += f" (expected {self.expected})"
        return text


class ConfigErrors(ConfigError):
    """Several problems found in one pass over a profile, mapping or data file: ``errors`` holds one
    :class:`ConfigError` each, in the order given. ``render()`` gives one line per problem."""

    def __init__(self, errors: Sequence[ConfigError]) -> None:
        self.errors: list[ConfigError] = list(errors)
        count = len(self.errors)
        first = self.errors[0] if self.errors else None
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} found",
            file=first.file if first else None,
            line=first.line if first else None,
            field=first.field if first else None,
        )

    def render(self) -> str:
        """One line per problem."""
        return "\n".join(error.render() for error in getattr(self, "errors", [])) or super().render()


class ConnectorError(OmnibridgeError):
    """A connector operation failed. ``connector`` is the connector id, ``op`` the operation name."""

    def __init__(self, message: str, *, connector: str, op: str) -> None:
        self.connector = connector
        self.op = op
        super().__init__(f"{connector}.{op}: {message}")


class FatalConnectorError(ConnectorError):
    """Retrying will not help (bad credentials, permanent 4xx): stop this operation and alert."""


class RetriableConnectorError(ConnectorError):
    """Transient (429, 5xx, timeout). ``retry_after`` is the vendor's hint in seconds, if it gave one."""

    def __init__(self, message: str, *, connector: str, op: str, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message, connector=connector, op=op)


class SkippableRecordError(ConnectorError):
    """One record cannot be processed; dead-letter it with ``reason`` and go on with the rest."""

    def __init__(self, message: str, *, connector: str, op: str, record_id: str | None = None) -> None:
        self.record_id = record_id
        super().__init__(message, connector=connector, op=op)


class ConflictError(OmnibridgeError):
    """A write lost a race or would break an invariant; nothing was changed."""


class StaleCompareError(ConflictError):
    """A compare-and-set found a different value than expected: re-read, recompute, retry."""


class InsufficientStockError(ConflictError):
    """A movement would take available below zero for a SKU that does not allow backorders."""

    def __init__(self, *, sku: str, location_id: str, requested: int, available: int) -> None:
        self.sku = sku
        self.location_id = location_id
        self.requested = requested
        self.available = available
        super().__init__(
            f"not enough stock of {sku!r} at {location_id!r}: {requested} requested, {available} available "
            "(the SKU does not allow backorders)"
        )

    @property
    def shortfall(self) -> int:
        return self.requested - self.available


class IdempotencyKeyReusedError(ConflictError):
    """An idempotency key already recorded a *different* event; the new one was not applied."""


class WebhookError(OmnibridgeError):
    """A webhook delivery was rejected: bad or missing signature, malformed body, or replay.

    ``acknowledge``: True for a request that is not a notification but that the vendor expects answered with a
    2xx (e.g. Clover's URL-verification POST). The receiver then answers 200 and still stores nothing.
    """

    acknowledge: bool = False


class StoreError(OmnibridgeError):
    """The store cannot be used: unreachable database, unsupported URL, or a schema from a newer version."""


class StoreInUseError(StoreError):
    """Another daemon holds the store's daemon lock (see :mod:`omnibridge.store.daemon_lock`): stop it first."""
