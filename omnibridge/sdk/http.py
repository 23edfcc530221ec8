"""The shared async HTTP client every connector uses for its vendor I/O.

One :class:`ConnectorHttpClient` per connector instance. For each request it:

1. waits for the rate limiter (``cost`` per request, per connector or per endpoint);
2. sends the request, then feeds the response to the limiter's observers (vendor rate-limit headers/bodies);
3. retries, by :class:`~omnibridge.sdk.retry.RetryPolicy`, only what is transient *and* safe to repeat;
4. logs one redacted line per attempt, and observes it once: counted in :attr:`ConnectorHttpClient.stats` (by
   operation, for the metrics) and handed to the call observers (:func:`add_call_observer`, the console);
5. classifies what is left into the error tree.

What is retried:

=====================================  ============================  =====================================
failure                                idempotent request            non-idempotent write (POST/PATCH,
                                       (GET/HEAD/PUT/DELETE/...,     no idempotency key)
                                       or with an idempotency key)
=====================================  ============================  =====================================
connect error / pool timeout           retried                       retried (nothing reached the server)
429 (or the ``is_throttled`` hook)     retried, honours Retry-After  retried (the vendor refused it)
500/502/503/504, read/write timeout    retried                       **not retried**: AmbiguousWriteError
401/403/other 4xx, other 5xx           HttpFatalError                HttpFatalError
=====================================  ============================  =====================================

When retries run out the error is an :class:`HttpRetriableError` (a ``RetriableConnectorError``) whose
``retry_after`` is the vendor's hint, or else the backoff that would have come next.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypedDict, Unpack

import httpx
import structlog
from pydantic import SecretStr
from tenacity import RetryCallState

from omnibridge.errors import FatalConnectorError, RetriableConnectorError
from omnibridge.logs import get_logger, mask_secrets, redact_mapping, register_secret
from omnibridge.sdk.http_stats import OK, HttpStats, outcome_of
from omnibridge.sdk.ratelimit import Clock, LimiterResolver, RateLimiter, Sleeper
from omnibridge.sdk.retry import RetryPolicy, RetryRequested, build_retrying, parse_retry_after

__all__ = [
    "IDEMPOTENT_METHODS",
    "AmbiguousWriteError",
    "CallRecord",
    "ConnectorHttpClient",
    "HttpFatalError",
    "HttpRetriableError",
    "RequestOptions",
    "add_call_observer",
]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
_BODY_EXCERPT = 300


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One attempt of a vendor call, as call observers see it: ``url`` has secrets masked and no query string;
    ``status`` is None when no answer came; ``budget`` is the limiter's ``(remaining, capacity)`` after the
    answer, when it tells; ``at`` is Unix time."""

    connector: str
    op: str
    method: str
    url: str
    status: int | None
    elapsed_ms: float
    throttled: bool
    budget: tuple[float, float] | None
    at: float


_CALL_OBSERVERS: list[Callable[[CallRecord], None]] = []


def add_call_observer(observer: Callable[[CallRecord], None]) -> Callable[[], None]:
    """Call ``observer`` after every attempt of every connector's HTTP client in this process (it must be quick
    and not raise; an exception is logged and ignored); returns a function that removes it."""
    _CALL_OBSERVERS.append(observer)
    return lambda: _CALL_OBSERVERS.remove(observer) if observer in _CALL_OBSERVERS else None


@asynccontextmanager
async def _held(limiter: RateLimiter | None, cost: float) -> AsyncIterator[None]:
    """Count the request in flight until its answer when the limiter can (``hold``); else charge it at send."""
    hold = getattr(limiter, "hold", None)
    if hold is not None:
        async with hold(cost):
            yield
        return
    if limiter is not None:
        await limiter.acquire(cost)
    yield


def _budget(limiter: object) -> tuple[float, float] | None:
    available, capacity = getattr(limiter, "available", None), getattr(limiter, "capacity", None)
    if isinstance(available, float) and isinstance(capacity, float):
        in_flight = getattr(limiter, "in_flight", 0.0)
        return available - (in_flight if isinstance(in_flight, float) else 0.0), capacity
    limit, in_window = getattr(limiter, "limit", None), getattr(limiter, "in_window", None)
    if isinstance(limit, int) and callable(in_window):
        return float(limit - in_window()), float(limit)
    return None


class HttpFatalError(FatalConnectorError):
    """A permanent HTTP failure (401, 403, 404, 422, ...): retrying will not help.

    ``status_code`` is ``None`` when the request could not be built or sent at all (bad URL, bad protocol).
    ``body_excerpt`` is the start of the response body with secrets masked.
    """

    def __init__(
        self, message: str, *, connector: str, op: str, status_code: int | None, body_excerpt: str = ""
    ) -> None:
        self.status_code = status_code
        self.body_excerpt = body_excerpt
        super().__init__(message, connector=connector, op=op)


class HttpRetriableError(RetriableConnectorError):
    """A transient HTTP failure that outlasted the retry policy; try the operation again later.

    ``status_code`` is ``None`` for transport failures (timeouts, connection errors); ``attempts`` is how many
    attempts were made; ``reason`` is the message without the ``connector.op:`` prefix.
    """

    def __init__(
        self,
        message: str,
        *,
        connector: str,
        op: str,
        retry_after: float | None = None,
        status_code: int | None = None,
        attempts: int = 1,
    ) -> None:
        self.reason = message
        self.status_code = status_code
        self.attempts = attempts
        super().__init__(message, connector=connector, op=op, retry_after=retry_after)


class AmbiguousWriteError(HttpRetriableError):
    """A non-idempotent write failed after it may have reached the vendor; it was not repeated.

    The write may or may not have been applied. Re-read the vendor's state before trying again, or make the
    write safe to repeat by sending an idempotency key.
    """


class RequestOptions(TypedDict, total=False):
    """Keyword options of :meth:`ConnectorHttpClient.request` accepted by the per-method shortcuts."""

    op: str
    params: Mapping[str, Any]
    json: Any
    content: bytes | str
    data: Mapping[str, Any]
    headers: Mapping[str, str]
    idempotent: bool
    idempotency_key: str
    cost: float
    rate_limiter: RateLimiter
    expected_statuses: Collection[int]
    timeout: float | httpx.Timeout


class ConnectorHttpClient:
    """An ``httpx.AsyncClient`` wrapped with rate limiting, safe retries, redacted logging and error mapping.

    ``auth_headers`` are sent on every request and their values are registered as log secrets; pass pydantic
    ``SecretStr`` values straight from settings. ``auth`` is an optional ``httpx.Auth`` for flows that refresh
    tokens. ``rate_limiter`` is the default limiter (each request may pass its own, e.g. per endpoint);
    ``retry_policy`` defaults to :class:`RetryPolicy()`. ``idempotency_header`` names the header that carries
    ``idempotency_key`` for vendors that take it there (keys in a body or query are the caller's to place).
    ``is_throttled`` flags responses that mean "throttled" without a 429 (Shopify GraphQL answers 200
    THROTTLED); they are handled exactly like a 429. ``retry_after_header`` names the header that carries the
    vendor's wait (``Retry-After``; ShipBob sends ``x-retry-after``). ``transport``, ``clock`` (monotonic),
    ``sleep`` and ``wall_clock`` (Unix time, for HTTP-date ``Retry-After``) are injectable for tests.
    """

    def __init__(
        self,
        connector_id: str,
        base_url: str,
        *,
        auth_headers: Mapping[str, str | SecretStr] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        rate_limiter: RateLimiter | None = None,
        retry_policy: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float | httpx.Timeout = 30.0,
        idempotency_header: str | None = None,
        is_throttled: Callable[[httpx.Response], bool] | None = None,
        retry_after_header: str = "Retry-After",
        clock: Clock = time.monotonic,
        sleep: Sleeper = asyncio.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.connector_id = connector_id
        self.rate_limiter = rate_limiter
        self.budgets: LimiterResolver | None = None
        """When set, every request's limiter is replaced by what it chooses (vendor budgets shared by several
        daemons: :func:`omnibridge.sync.shared_budgets.share_budgets`)."""
        self.stats = HttpStats()
        self.retry_policy = retry_policy if retry_policy is not None else RetryPolicy()
        self._idempotency_header = idempotency_header
        self._is_throttled = is_throttled
        self._retry_after_header = retry_after_header
        self._clock = clock
        self._sleep = sleep
        self._wall_clock = wall_clock
        self._log: structlog.stdlib.BoundLogger = get_logger("omnibridge.http").bind(connector=connector_id)
        merged: dict[str, str] = dict(headers or {})
        for name, value in (auth_headers or {}).items():
            plain = value.get_secret_value() if isinstance(value, SecretStr) else value
            register_secret(plain)
            merged[name] = plain
        self._client = httpx.AsyncClient(
            base_url=base_url, headers=merged, auth=auth, transport=transport, timeout=timeout
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (after the shared budgets, if any, recorded the last answers)."""
        drain = getattr(self.budgets, "drain", None)
        if drain is not None:
            await drain()
        await self._client.aclose()

    async def get(self, url: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        return await self.request("GET", url, **options)

    async def post(self, url: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        return await self.request("POST", url, **options)

    async def put(self, url: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        return await self.request("PUT", url, **options)

    async def patch(self, url: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        return await self.request("PATCH", url, **options)

    async def delete(self, url: str, **options: Unpack[RequestOptions]) -> httpx.Response:
        return await self.request("DELETE", url, **options)

    async def request(
        self,
        method: str,
        url: str,
        *,
        op: str | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | str | None = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        idempotency_key: str | None = None,
        cost: float = 1.0,
        rate_limiter: RateLimiter | None = None,
        expected_statuses: Collection[int] = (),
        timeout: float | httpx.Timeout | None = None,
    ) -> httpx.Response:
        """Send one logical request, with retries, and return a response the caller should handle.

        Returns responses with status below 400 and those in ``expected_statuses`` (e.g. a 404 the caller
        treats as "absent", a 422 carrying per-item errors). Otherwise raises :class:`HttpFatalError`,
        :class:`HttpRetriableError` or :class:`AmbiguousWriteError` as tabled in the module docstring.

        The request is safe to repeat when it carries ``idempotency_key``, or ``idempotent`` says so, or (when
        ``idempotent`` is not given) its method is idempotent by HTTP semantics. ``op`` names the operation in
        errors and logs (default ``"METHOD url"``). ``cost`` is what the limiter charges (query cost for cost
        buckets). ``rate_limiter`` overrides the client's limiter for this request.
        """
        method = method.upper()
        op_name = op or f"{method} {url}"
        safe = bool(idempotency_key) or (idempotent if idempotent is not None else method in IDEMPOTENT_METHODS)
        limiter = rate_limiter if rate_limiter is not None else self.rate_limiter
        if limiter is not None and self.budgets is not None:
            limiter = self.budgets.limiter_for(limiter, op or method)
        request_headers = dict(headers or {})
        if idempotency_key and self._idempotency_header:
            request_headers[self._idempotency_header] = idempotency_key
        try:
            request = self._client.build_request(
                method,
                url,
                params=params,
                json=json,
                content=content,
                data=data,
                headers=request_headers,
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            raise HttpFatalError(
                f"cannot build request: {mask_secrets(str(exc))}",
                connector=self.connector_id,
                op=op_name,
                status_code=None,
            ) from None

        attempts = 0
        label = op or method

        async def attempt() -> httpx.Response:
            nonlocal attempts
            attempts += 1
            return await self._attempt(
                request, op_name, label, safe, attempts, limiter, frozenset(expected_statuses), cost
            )

        def before_sleep(state: RetryCallState) -> None:
            self.stats.retried(label)
            failure = state.outcome.exception() if state.outcome is not None else None
            self._log.info(
                "http.retry",
                op=op_name,
                attempt=state.attempt_number,
                wait_s=round(state.upcoming_sleep, 3),
                reason=str(failure),
            )

        retrying = build_retrying(self.retry_policy, clock=self._clock, sleep=self._sleep, before_sleep=before_sleep)
        try:
            return await retrying(attempt)
        except RetryRequested as exhausted:
            error = exhausted.error
            if isinstance(error, HttpRetriableError):
                error.attempts = attempts
            if error.retry_after is None:
                error.retry_after = self.retry_policy.backoff(attempts)
            raise error from None

    async def _attempt(
        self,
        request: httpx.Request,
        op: str,
        label: str,
        safe: bool,
        attempt: int,
        limiter: RateLimiter | None,
        expected: frozenset[int],
        cost: float = 1.0,
    ) -> httpx.Response:
        url = mask_secrets(str(request.url))
        log = self._log.bind(op=op, method=request.method, url=url, attempt=attempt, idempotent=safe)
        log.debug("http.request.headers", headers=redact_mapping(dict(request.headers)))
        started = self._clock()
        try:
            async with _held(limiter, cost):
                started = self._clock()
                response = await self._client.send(request)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError) as exc:
            log.warning("http.request", outcome="not_sent", error=type(exc).__name__)
            self._observe(request, op, label, None, round((self._clock() - started) * 1000.0, 1), False, limiter)
            raise RetryRequested(self._transport_error(op, exc, attempt)) from exc
        except (httpx.LocalProtocolError, httpx.UnsupportedProtocol) as exc:
            log.error("http.request", outcome="invalid", error=type(exc).__name__)
            self.stats.answered(label, outcome_of(None))  # never sent: counted, but no vendor call to observe
            raise HttpFatalError(
                f"request rejected before sending: {mask_secrets(str(exc))}",
                connector=self.connector_id,
                op=op,
                status_code=None,
            ) from None
        except httpx.TransportError as exc:
            log.warning("http.request", outcome="maybe_sent", error=type(exc).__name__)
            self._observe(request, op, label, None, round((self._clock() - started) * 1000.0, 1), False, limiter)
            error = self._transport_error(op, exc, attempt)
            if safe:
                raise RetryRequested(error) from exc
            raise self._ambiguous(error) from None
        elapsed_ms = round((self._clock() - started) * 1000.0, 1)
        if limiter is not None:
            limiter.observe(response)
        status = response.status_code
        throttled = status == 429 or (self._is_throttled is not None and self._is_throttled(response))
        log.info("http.request", status=status, elapsed_ms=elapsed_ms, throttled=throttled)
        accepted = status in expected or (status < 400 and not throttled)
        self._observe(request, op, label, status, elapsed_ms, throttled, limiter, OK if accepted else None)
        if accepted:
            return response
        excerpt = mask_secrets(" ".join(response.text[:_BODY_EXCERPT].split()))
        detail = f": {excerpt}" if excerpt else ""
        if throttled or status in self.retry_policy.retry_statuses:
            retry_after = parse_retry_after(response.headers.get(self._retry_after_header), now=self._wall_clock())
            error = HttpRetriableError(
                f"HTTP {status}{' (throttled)' if throttled else ''}{detail}",
                connector=self.connector_id,
                op=op,
                retry_after=retry_after,
                status_code=status,
                attempts=attempt,
            )
            if throttled or safe:
                raise RetryRequested(error)
            raise self._ambiguous(error)
        raise HttpFatalError(
            f"HTTP {status}{detail}",
            connector=self.connector_id,
            op=op,
            status_code=status,
            body_excerpt=excerpt,
        )

    def _observe(
        self,
        request: httpx.Request,
        op: str,
        label: str,
        status: int | None,
        elapsed_ms: float,
        throttled: bool,
        limiter: RateLimiter | None,
        outcome: str | None = None,
    ) -> None:
        """The one place an attempt is observed: counted in :attr:`stats` under ``label`` (``outcome``, else
        what ``status`` says: :func:`~omnibridge.sdk.http_stats.outcome_of`), then handed to the call observers."""
        self.stats.answered(label, outcome or outcome_of(status))
        if not _CALL_OBSERVERS:
            return
        url = mask_secrets(str(request.url.copy_with(query=None)))
        record = CallRecord(
            self.connector_id, op, request.method, url, status, elapsed_ms, throttled, _budget(limiter),
            self._wall_clock(),
        )  # fmt: skip
        for observer in tuple(_CALL_OBSERVERS):
            try:
                observer(record)
            except Exception:
                self._log.exception("http.call_observer_failed", op=op)

    def _transport_error(self, op: str, exc: httpx.TransportError, attempt: int) -> HttpRetriableError:
        detail = mask_secrets(str(exc)) or "no detail"
        return HttpRetriableError(
            f"{type(exc).__name__}: {detail}", connector=self.connector_id, op=op, attempts=attempt
        )

    def _ambiguous(self, error: HttpRetriableError) -> AmbiguousWriteError:
        return AmbiguousWriteError(
            f"{error.reason}; not retried because the write has no idempotency key and may have been applied",
            connector=self.connector_id,
            op=error.op,
            retry_after=error.retry_after,
            status_code=error.status_code,
            attempts=error.attempts,
        )
